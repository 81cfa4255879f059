"""Alert packets -> AlertTables (light curve, metadata, cutouts): the one conversion and its files.

``packets_to_tables`` takes dicts in the ZTF Avro layout, whether read from the fink-science
Parquet files (``ciderlab alerts``) or from Avro packets with fastavro (``ciderlab pull``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ciderlab.applecider.alerts.cutouts import CUTOUT_KINDS, STAMP_SIZE, packet_cutouts
from ciderlab.applecider.alerts.lightcurve import BANDS, build_lightcurve, history_records
from ciderlab.applecider.alerts.metadata import CANDIDATE_FIELDS, clean_sentinels, history_features
from ciderlab.data.labels import UNLABELLED, alert_class_of_simbad, paper_group_of_alert_class
from ciderlab.errors import InputError
from ciderlab.io import atomic_path

INDEX_COLUMNS = ("objectId", "candid")
_FILES = {"lightcurve": "lightcurve.parquet", "metadata": "metadata.parquet",
          "cutout_index": "cutout_index.parquet", "cutouts": "cutouts.npy"}


@dataclass
class AlertTables:
    """Tidy tables of a set of alerts.

    lightcurve : one row per (objectId, jd, band); see ``lightcurve.build_lightcurve``.
    metadata : one row per alert: objectId, candid, jd, band, simbad_type, label, paper_group,
        the candidate fields (NaN where missing) each with ``<field>_missing``.
    cutouts : (N, 63, 63, 3) float32, channels science/template/difference, each L2-normalised.
    cutout_index : N rows (objectId, candid, nan_science, nan_template, nan_difference, height,
        width, is_edge), row i describing ``cutouts[i]``.
    """

    lightcurve: pd.DataFrame
    metadata: pd.DataFrame
    cutouts: np.ndarray
    cutout_index: pd.DataFrame


def _check_packet(packet: dict) -> None:
    missing = [k for k in ("objectId", "candid", "candidate") if packet.get(k) is None]
    if missing:
        raise InputError(f"alert packet {packet.get('objectId', '?')}: no {', '.join(missing)}; "
                         f"expected the ZTF Avro alert layout (objectId, candid, candidate, "
                         f"prv_candidates, cutout*)")


def packets_to_tables(packets: Iterable[dict], *, stamp_size: int = STAMP_SIZE,
                      normalisation: str = "l2") -> AlertTables:
    """Convert alert packets to light curve, metadata and cutout tables.

    Parameters
    ----------
    packets : iterable of dict
        Alerts in the ZTF Avro layout: ``objectId``, ``candid``, ``candidate`` {...},
        ``prv_candidates`` [...] or None, ``cutoutScience|Template|Difference`` {fileName,
        stampData} or None; an optional top-level ``cdsxmatch`` (Fink's SIMBAD type) labels
        the object. An alert seen twice (same candid) is used once.
    stamp_size : int
        Side of the fitted cutouts [pixels].
    normalisation : {"l2", "none"}
        Per-stamp normalisation (``cutouts.normalise_stamp``).

    Returns
    -------
    AlertTables
    """
    records, rows, stamps, index, seen = [], [], [], [], set()
    for packet in packets:
        _check_packet(packet)
        if packet["candid"] in seen:
            continue
        seen.add(packet["candid"])
        candidate = packet["candidate"]
        history = history_records(packet)
        records.extend(history)
        simbad = packet.get("cdsxmatch")
        label = alert_class_of_simbad(simbad)
        rows.append({"objectId": packet["objectId"], "candid": int(packet["candid"]),
                     "jd": candidate["jd"], "band": BANDS[candidate["fid"]],
                     "simbad_type": simbad, "label": label,
                     "paper_group": paper_group_of_alert_class(label),
                     **{name: candidate.get(name) for name in CANDIDATE_FIELDS},
                     **history_features(candidate, history)})
        cutout, info = packet_cutouts(packet, stamp_size, normalisation)
        if cutout is not None:
            stamps.append(cutout)
            index.append({"objectId": packet["objectId"], "candid": int(packet["candid"]),
                          **info})
    if not rows:
        raise InputError("no alert packets to convert; check the input holds ZTF alerts")
    metadata = clean_sentinels(pd.DataFrame(rows))
    cutouts = (np.stack(stamps) if stamps
               else np.zeros((0, stamp_size, stamp_size, len(CUTOUT_KINDS)), np.float32))
    cutout_index = pd.DataFrame(index, columns=[*INDEX_COLUMNS, "height", "width",
                                                *[f"nan_{k.lower()}" for k in CUTOUT_KINDS],
                                                "is_edge"])
    return AlertTables(build_lightcurve(records), metadata, cutouts, cutout_index)


def label_objects(tables: AlertTables, labels: pd.DataFrame) -> AlertTables:
    """The tables with every alert labelled from a table of object labels instead of the
    packets' SIMBAD cross-match: ``label`` and ``paper_group`` become the object's ``label``
    there (UNLABELLED where it has none), ``label_type`` its type as written.

    Parameters
    ----------
    labels : DataFrame
        ``objectId``, ``type``, ``label`` (``data.bts_labels.read_bts_labels``).
    """
    by_object = labels.set_index("objectId")
    metadata = tables.metadata.copy()
    group = metadata["objectId"].map(by_object["label"])
    metadata["label"] = group.where(group.notna(), UNLABELLED)
    metadata["paper_group"] = group.where(group.notna(), None)
    metadata["label_type"] = metadata["objectId"].map(by_object["type"])
    return AlertTables(tables.lightcurve, metadata, tables.cutouts, tables.cutout_index)


def save_alert_tables(tables: AlertTables, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write the tables as Parquet and the cutouts as .npy under ``out_dir``, each atomically.

    Returns
    -------
    dict
        Component name -> path written.
    """
    out_dir = Path(out_dir)
    paths = {name: out_dir / filename for name, filename in _FILES.items()}
    for name in ("lightcurve", "metadata", "cutout_index"):
        with atomic_path(paths[name]) as tmp:
            getattr(tables, name).to_parquet(tmp, index=False)
    with atomic_path(paths["cutouts"]) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.ascontiguousarray(tables.cutouts, dtype=np.float32))
    return paths


def load_alert_tables(out_dir: str | os.PathLike) -> AlertTables:
    """Read what :func:`save_alert_tables` wrote."""
    out_dir = Path(out_dir)
    absent = [f for f in _FILES.values() if not (out_dir / f).exists()]
    if absent:
        raise InputError(f"{out_dir}: no {', '.join(absent)}; run `ciderlab alerts` (or "
                         f"`dvc repro alerts`) to write the alert tables")
    tables = AlertTables(
        lightcurve=pd.read_parquet(out_dir / _FILES["lightcurve"]),
        metadata=pd.read_parquet(out_dir / _FILES["metadata"]),
        cutouts=np.load(out_dir / _FILES["cutouts"], allow_pickle=False),
        cutout_index=pd.read_parquet(out_dir / _FILES["cutout_index"]))
    if len(tables.cutouts) != len(tables.cutout_index):
        raise InputError(f"{out_dir}: {len(tables.cutouts)} cutouts but "
                         f"{len(tables.cutout_index)} index rows; re-run `ciderlab alerts`")
    return tables


def summarise_alert_tables(tables: AlertTables, min_objects_per_class: int) -> dict:
    """Counts for the stage's summary: objects, alerts, light-curve points, stamps, labels.

    Alert classes with fewer labelled objects than ``min_objects_per_class`` are listed under
    ``dropped_classes`` with the reason; the others under ``trained_classes``.
    """
    lc, index = tables.lightcurve, tables.cutout_index
    objects = tables.metadata.drop_duplicates("objectId")
    label_counts = objects["label"].value_counts().to_dict()
    labelled = {k: int(v) for k, v in label_counts.items() if k != UNLABELLED}
    nan_columns = [f"nan_{k.lower()}" for k in CUTOUT_KINDS]
    return {
        "objects": int(objects.shape[0]), "alerts": int(len(tables.metadata)),
        "detections": int((~lc["is_limit"]).sum()), "upper_limits": int(lc["is_limit"].sum()),
        "detections_per_band": lc[~lc["is_limit"]]["band"].value_counts().sort_index().to_dict(),
        "alerts_with_cutouts": int(len(index)), "stamps": int(len(index) * len(CUTOUT_KINDS)),
        "edge_of_chip_alerts": int(index["is_edge"].sum()),
        "stamps_with_nan": int((index[nan_columns] > 0).to_numpy().sum()),
        "nan_pixels": int(index[nan_columns].to_numpy().sum()),
        "objects_per_label": {k: int(v) for k, v in label_counts.items()},
        "trained_classes": sorted(k for k, v in labelled.items() if v >= min_objects_per_class),
        "dropped_classes": {k: f"{v} objects < alerts.min_objects_per_class "
                               f"({min_objects_per_class})"
                            for k, v in sorted(labelled.items()) if v < min_objects_per_class},
    }
