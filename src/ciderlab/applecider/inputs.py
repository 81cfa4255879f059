"""Per-alert model inputs from AlertTables: events up to the alert, stamps, metadata towers.

Everything an alert's inputs hold was known when the alert was issued: its events are the
object's detections and upper limits up to the alert's time. Scaling statistics (events and
metadata) come from the training fold's alerts only (``fold_tensors``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ciderlab.applecider.alerts.metadata import (TOWERS, apply_metadata_scaler, fit_metadata_scaler,
                                      tower_columns)
from ciderlab.applecider.alerts.tables import AlertTables
from ciderlab.data.labels import ALERT_CLASSES, PAPER_ALERT_GROUPS, UNLABELLED
from ciderlab.errors import InputError
from ciderlab.applecider.photometry_transformer import EVENT_CHANNELS

N_SCALED = 4  # the first four event channels are standardised (SPEC §7c)
_BAND_CHANNEL = {"g": 4, "r": 5, "i": 6}
_SAME_TIME_DAYS = 1e-6  # the alert's own detection is in its history at the alert's jd


def object_labels(metadata: pd.DataFrame) -> pd.DataFrame:
    """One label per object: its alerts' one labelled class; objects whose alerts disagree
    (e.g. SIMBAD "Star" in one file, "YSO" in another) or carry no label are left out.

    Returns
    -------
    DataFrame
        ``object_id``, ``label``, one row per labelled object.
    """
    labelled = metadata.loc[metadata["label"] != UNLABELLED, ["objectId", "label"]]
    per_object = labelled.groupby("objectId")["label"].agg(lambda s: sorted(set(s)))
    single = per_object[per_object.map(len) == 1].map(lambda labels: labels[0])
    return pd.DataFrame({"object_id": single.index.astype(str), "label": single.to_numpy()})


def trained_classes(metadata: pd.DataFrame, min_objects: int) -> list[str]:
    """The alert classes with at least ``min_objects`` labelled objects: SIMBAD groups
    (ALERT_CLASSES order) or the paper's groups (PAPER_ALERT_GROUPS, from spectroscopic labels)."""
    counts = object_labels(metadata)["label"].value_counts()
    classes = [c for c in (*ALERT_CLASSES, *PAPER_ALERT_GROUPS) if counts.get(c, 0) >= min_objects]
    if len(classes) < 2:
        raise InputError(f"alert tables: fewer than two classes have {min_objects} labelled "
                         f"objects ({counts.to_dict()}); lower alerts.min_objects_per_class or "
                         f"add alerts")
    return classes


def cut_history(lightcurve: pd.DataFrame, days: float) -> pd.DataFrame:
    """The light curve without events later than ``days`` after each object's first detection.

    Limits before the first detection (negative ``dt_days``) stay: they were known by then.
    """
    return lightcurve[lightcurve["dt_days"] <= days]


def event_features(rows: pd.DataFrame) -> np.ndarray:
    """Unscaled EVENT_CHANNELS of one object's events, sorted by time: (T, 8) float32.

    Flux: the difference flux, negative where ``isdiffpos`` is false, as a signed log
    ``sign(f) log10(1 + |f / µJy|)``; its error is propagated through that transform. An upper
    limit is an event at its 5-sigma limiting flux, with zero error and ``is_limit`` = 1.
    """
    dt = rows["dt_days"].to_numpy(float)
    is_limit = rows["is_limit"].to_numpy(bool)
    negative = rows["isdiffpos"].astype("boolean").eq(False).fillna(False).to_numpy(bool)
    flux = np.where(is_limit, rows["limit_flux_ujy"].to_numpy(float),
                    rows["flux_ujy"].to_numpy(float) * np.where(negative, -1.0, 1.0))
    error = np.where(is_limit, 0.0, rows["flux_err_ujy"].to_numpy(float))
    features = np.zeros((len(rows), len(EVENT_CHANNELS)), np.float32)
    features[:, 0] = np.sign(dt) * np.log1p(np.abs(dt))
    features[1:, 1] = np.log1p(np.diff(dt))
    features[:, 2] = np.sign(flux) * np.log10(1.0 + np.abs(flux))
    features[:, 3] = np.nan_to_num(error / ((1.0 + np.abs(flux)) * np.log(10.0)))
    bands = rows["band"].map(_BAND_CHANNEL).to_numpy()
    features[np.arange(len(rows)), bands] = 1.0
    features[:, 7] = is_limit
    return features


@dataclass
class AlertInputs:
    """Unscaled inputs of N alerts, row i of every array describing ``alerts.iloc[i]``.

    alerts : objectId, candid, label, label_index, days_since_first_detection [days: alert jd
        minus the object's first detection].
    events : (N, T, 8) float32, EVENT_CHANNELS, most recent ``max_events`` up to the alert,
        padded at the end; padding : (N, T) bool, True where there is no event.
    cutouts : (N, 3, 63, 63) float32, science/template/difference (zeros where none).
    metadata : cleaned metadata rows (``clean_sentinels``), one per alert.
    classes : the class names ``label_index`` counts.
    """

    alerts: pd.DataFrame
    events: np.ndarray
    padding: np.ndarray
    cutouts: np.ndarray
    metadata: pd.DataFrame
    classes: list[str]

    def __len__(self) -> int:
        return len(self.alerts)


def assemble_alerts(tables: AlertTables, classes: list[str], max_events: int,
                    include_limits: bool = True, history_days: float | None = None,
                    labelled_only: bool = True) -> AlertInputs:
    """Inputs of every alert of an object labelled with one of ``classes`` (or of every alert).

    Parameters
    ----------
    tables : AlertTables
    classes : list of str
        Classes to keep, in label-index order.
    max_events : int
        Longest event sequence; an alert with more keeps the most recent.
    include_limits : bool
        Upper limits as events (flagged), or detections only.
    history_days : float, optional
        Keep only events within this many days of first detection (``cut_history``).
    labelled_only : bool
        False keeps every alert (to classify): ``label`` is then NaN and ``label_index`` -1
        where the object has no label among ``classes``.
    """
    labels = object_labels(tables.metadata)
    labels = labels[labels["label"].isin(classes)]
    keep = (tables.metadata["objectId"].isin(labels["object_id"]) if labelled_only
            else np.ones(len(tables.metadata), bool))
    alerts = (tables.metadata[keep].sort_values(["objectId", "jd", "candid"])
              .reset_index(drop=True))
    if alerts.empty:
        raise InputError(f"alert tables: no alert of an object labelled {classes}"
                         if labelled_only else "alert tables: no alert")
    label_of = dict(zip(labels["object_id"], labels["label"]))
    lightcurve = tables.lightcurve if include_limits else \
        tables.lightcurve[~tables.lightcurve["is_limit"]]
    if history_days is not None:
        lightcurve = cut_history(lightcurve, history_days)
    by_object = {oid: rows.sort_values("jd", kind="stable")
                 for oid, rows in lightcurve.groupby("objectId")}
    first = tables.lightcurve[~tables.lightcurve["is_limit"]].groupby("objectId")["jd"].min()
    events = np.zeros((len(alerts), max_events, len(EVENT_CHANNELS)), np.float32)
    padding = np.ones((len(alerts), max_events), bool)
    for i, (oid, jd) in enumerate(zip(alerts["objectId"], alerts["jd"])):
        rows = by_object.get(oid)
        if rows is None:
            continue
        # Features before the cap, so the first kept event's dt_prev is its real gap.
        features = event_features(rows[rows["jd"] <= jd + _SAME_TIME_DAYS])[-max_events:]
        events[i, :len(features)] = features
        padding[i, :len(features)] = False
    table = pd.DataFrame({
        "objectId": alerts["objectId"].astype(str), "candid": alerts["candid"].astype(np.int64),
        "label": alerts["objectId"].map(label_of),
        "days_since_first_detection": alerts["jd"] - alerts["objectId"].map(first)})
    table["label_index"] = (table["label"].map({c: k for k, c in enumerate(classes)})
                            .fillna(-1).astype(np.int64))
    position = {c: k for k, c in enumerate(tables.cutout_index["candid"].astype(np.int64))}
    cutouts = np.zeros((len(alerts), 3, *tables.cutouts.shape[1:3]), np.float32)
    for i, candid in enumerate(table["candid"]):
        if candid in position:
            cutouts[i] = tables.cutouts[position[candid]].transpose(2, 0, 1)  # (3, H, W)
    return AlertInputs(table, events, padding, cutouts, alerts, list(classes))


def select(inputs: AlertInputs, rows: np.ndarray) -> AlertInputs:
    """The alerts at positions ``rows``."""
    rows = np.asarray(rows)
    return AlertInputs(inputs.alerts.iloc[rows].reset_index(drop=True), inputs.events[rows],
                       inputs.padding[rows], inputs.cutouts[rows],
                       inputs.metadata.iloc[rows].reset_index(drop=True), inputs.classes)


@dataclass
class EventScaler:
    """Mean and standard deviation of the first N_SCALED event channels over real events."""

    mean: np.ndarray
    std: np.ndarray

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}


def fit_event_scaler(events: np.ndarray, padding: np.ndarray) -> EventScaler:
    """Statistics of the training alerts' real events (padding excluded)."""
    real = events[~padding][:, :N_SCALED]  # (n_events, 4)
    if len(real) == 0:
        raise InputError("fit_event_scaler: the training alerts have no light-curve event")
    std = real.std(axis=0)
    return EventScaler(real.mean(axis=0), np.where(std > 0, std, 1.0))


def apply_event_scaler(scaler: EventScaler, events: np.ndarray, padding: np.ndarray) -> np.ndarray:
    """Standardised events; padded positions stay zero."""
    scaled = events.copy()
    scaled[..., :N_SCALED] = (events[..., :N_SCALED] - scaler.mean) / scaler.std
    scaled[padding] = 0.0
    return scaled.astype(np.float32)


def fold_tensors(inputs: AlertInputs, train_rows: np.ndarray, towers=tuple(TOWERS),
                 scalers: tuple | None = None) -> tuple[dict, tuple]:
    """Model-ready tensors of every alert in ``inputs``, scaled with ``train_rows``' statistics.

    Parameters
    ----------
    inputs : AlertInputs
    train_rows : array of int
        Positions of the training alerts: the only rows the scalers see.
    towers : sequence of str
        Metadata towers to build (names in ``alerts.metadata.TOWERS``).
    scalers : (EventScaler, MetadataScaler), optional
        Reuse these instead of fitting (e.g. for cut histories of the same fold).

    Returns
    -------
    batch : dict
        ``events`` (N, T, 8), ``padding`` (N, T) bool, ``cutouts`` (N, 3, 63, 63),
        ``metadata`` {tower: (N, 2 * n_fields)}, ``labels`` (N,) long.
    scalers : (EventScaler, MetadataScaler)
    """
    if scalers is None:
        train_rows = np.asarray(train_rows)
        scalers = (fit_event_scaler(inputs.events[train_rows], inputs.padding[train_rows]),
                   fit_metadata_scaler(inputs.metadata.iloc[train_rows]))
    event_scaler, metadata_scaler = scalers
    scaled = apply_metadata_scaler(metadata_scaler, inputs.metadata)
    batch = {
        "events": torch.from_numpy(apply_event_scaler(event_scaler, inputs.events,
                                                      inputs.padding)),
        "padding": torch.from_numpy(inputs.padding.copy()),
        "cutouts": torch.from_numpy(inputs.cutouts),
        "metadata": {name: torch.tensor(scaled[tower_columns(name)].to_numpy(np.float32))
                     for name in towers},
        "labels": torch.tensor(inputs.alerts["label_index"].to_numpy(np.int64)),
    }
    return batch, scalers


def tower_sizes(towers=tuple(TOWERS)) -> dict[str, int]:
    """Input width of each metadata tower (its fields and their masks), for AstroMiNNConfig."""
    return {name: len(tower_columns(name)) for name in towers}


def take(batch: dict, rows) -> dict:
    """Rows of a ``fold_tensors`` batch (nested metadata included), the event sequences cut
    to the longest among them: events are packed at the start, so only padding is dropped,
    and the padding mask makes the outputs the same (the transformer's cost goes with T)."""
    part = {key: ({k: v[rows] for k, v in value.items()} if isinstance(value, dict)
                  else value[rows]) for key, value in batch.items()}
    if "padding" in part:
        length = max(int((~part["padding"]).sum(dim=1).max()), 1) if len(part["padding"]) else 1
        part["events"] = part["events"][:, :length]  # (B, T', C)
        part["padding"] = part["padding"][:, :length]  # (B, T')
    return part
