"""Alert metadata: the towers' fields by name, sentinels as explicit masks, a train-fold scaler."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ciderlab.errors import InputError

# Light-curve context computed from the alert's own history (no later alert is seen).
HISTORY_FEATURES = ("days_since_jdstarthist", "days_since_first_detection", "days_since_peak",
                    "peak_magpsf", "n_detections_g", "n_detections_r", "n_detections_i",
                    "n_limits")

# AppleCiDEr's metadata towers (SPEC §7c), by field name: the authors address these columns by
# index; which field goes to which tower is our reading of their code. "all" is every field.
TOWERS = {
    "psf_quality": ("fwhm", "elong", "classtar", "chipsf", "sigmapsf", "scorr", "sky", "drb",
                    "rb", "nneg", "sumrat", "seeratio"),
    "magnitude": ("magpsf", "diffmaglim", "magap", "sigmagap", "magdiff", "magfromlim"),
    "light_curve": ("ndethist", "ncovhist", *HISTORY_FEATURES),
    "spatial": ("distnr", "magnr", "sigmagnr", "chinr", "sharpnr", "mindtoedge"),
    "ps1_neighbour_1": ("sgscore1", "distpsnr1", "sgmag1", "srmag1", "simag1", "szmag1",
                        "nmtchps"),
    "ps1_neighbour_2": ("sgscore2", "distpsnr2", "sgmag2", "srmag2", "simag2", "szmag2"),
    "coordinates": ("ra", "dec"),
    "gaia_neighbour": ("neargaia", "maggaia", "neargaiabright", "maggaiabright"),
}
METADATA_FIELDS = tuple(dict.fromkeys(f for fields in TOWERS.values() for f in fields))
TOWERS["all"] = METADATA_FIELDS
CANDIDATE_FIELDS = tuple(f for f in METADATA_FIELDS if f not in HISTORY_FEATURES)

# Values that mean "no such source" rather than a measurement. The ZTF schema says such fields
# are null; the real packets (fink-science 7.4.0 archive) carry -999 instead in sgscore3,
# distpsnr3, the PS1 magnitudes, neargaia(bright), maggaia(bright), ssdistnr and ssmagnr. The
# other catalogue-match fields follow the same convention in ZTF's pipeline (assumed here). A
# value listed here becomes NaN with `<field>_missing` = True; fields not listed (sky, sharpnr,
# chinr: legitimately negative) are only cleaned of nulls.
_NO_MATCH = (-999.0,)
SENTINELS = {name: _NO_MATCH for name in (
    "sgscore1", "distpsnr1", "sgmag1", "srmag1", "simag1", "szmag1",
    "sgscore2", "distpsnr2", "sgmag2", "srmag2", "simag2", "szmag2",
    "sgscore3", "distpsnr3", "sgmag3", "srmag3", "simag3", "szmag3",
    "distnr", "magnr", "sigmagnr", "neargaia", "maggaia", "neargaiabright", "maggaiabright",
    "ssdistnr", "ssmagnr")}


def history_features(candidate: dict, records: list[dict]) -> dict:
    """Light-curve context at an alert from its own candidate and prv_candidates.

    Parameters
    ----------
    candidate : dict
        The alert's ``candidate`` record (``jd``, ``jdstarthist`` [days]).
    records : list of dict
        :func:`ciderlab.applecider.alerts.lightcurve.history_records` of this alert only.

    Returns
    -------
    dict
        HISTORY_FEATURES; times in days before the alert, ``peak_magpsf`` [mag] the brightest
        detection so far (NaN without one).
    """
    jd = candidate["jd"]
    detections = [r for r in records if r["magpsf"] is not None and r["jd"] <= jd]
    peak = min(detections, key=lambda r: r["magpsf"]) if detections else None
    start = candidate.get("jdstarthist")
    return {
        "days_since_jdstarthist": np.nan if start is None else jd - start,
        "days_since_first_detection": jd - min(r["jd"] for r in detections) if peak else np.nan,
        "days_since_peak": jd - peak["jd"] if peak else np.nan,
        "peak_magpsf": peak["magpsf"] if peak else np.nan,
        **{f"n_detections_{band}": sum(r["band"] == band for r in detections)
           for band in "gri"},
        "n_limits": sum(r["magpsf"] is None for r in records),
    }


def clean_sentinels(table: pd.DataFrame, fields=METADATA_FIELDS) -> pd.DataFrame:
    """Sentinel and null values -> NaN, each field followed by a boolean ``<field>_missing``.

    Parameters
    ----------
    table : DataFrame
        Raw metadata, one row per alert.
    fields : sequence of str
        Columns to clean (all must be present).

    Returns
    -------
    DataFrame
        ``table`` with ``fields`` as float64 (NaN where missing) and the masks added.
    """
    absent = [f for f in fields if f not in table.columns]
    if absent:
        raise InputError(f"alert metadata: fields {absent} are missing; the packets do not follow "
                         f"the ZTF Avro candidate schema (v3.3+)")
    cleaned, masks = {}, {}
    for name in fields:
        values = pd.to_numeric(table[name], errors="coerce").astype(float)
        missing = values.isna() | values.isin(SENTINELS.get(name, ()))
        cleaned[name] = values.mask(missing)
        masks[f"{name}_missing"] = missing
    others = table.drop(columns=list(fields))
    return pd.concat([others, pd.DataFrame(cleaned), pd.DataFrame(masks)], axis=1)


@dataclass
class MetadataScaler:
    """Per-field centre and scale, from real (non-missing) values of the training fold only."""

    fields: tuple[str, ...]
    center: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"fields": list(self.fields), "center": self.center, "scale": self.scale}

    @classmethod
    def from_dict(cls, data: dict) -> "MetadataScaler":
        return cls(tuple(data["fields"]), dict(data["center"]), dict(data["scale"]))


def fit_metadata_scaler(train_rows: pd.DataFrame, fields=METADATA_FIELDS) -> MetadataScaler:
    """Median and IQR/1.349 (a robust sigma; our choice) of each field over the training rows.

    Parameters
    ----------
    train_rows : DataFrame
        Cleaned metadata (:func:`clean_sentinels`) of the training fold only.
    fields : sequence of str

    Returns
    -------
    MetadataScaler
        A field with no real value in training gets centre 0, scale 1; a constant field scale 1.
    """
    if len(train_rows) == 0:
        raise InputError("fit_metadata_scaler: no training rows; check the fold selection")
    scaler = MetadataScaler(tuple(fields))
    for name in fields:
        values = train_rows[name].to_numpy(dtype=float)
        if f"{name}_missing" in train_rows:  # sentinels never enter the statistics
            values = values[~train_rows[f"{name}_missing"].to_numpy(dtype=bool)]
        values = values[np.isfinite(values)]
        if values.size == 0:
            scaler.center[name], scaler.scale[name] = 0.0, 1.0
            continue
        q25, q50, q75 = np.percentile(values, [25, 50, 75])
        spread = (q75 - q25) / 1.349
        scaler.center[name], scaler.scale[name] = float(q50), float(spread) if spread > 0 else 1.0
    return scaler


def apply_metadata_scaler(scaler: MetadataScaler, rows: pd.DataFrame) -> pd.DataFrame:
    """Scaled model inputs: ``(x - centre) / scale``, 0 where missing, plus the missing masks.

    Parameters
    ----------
    scaler : MetadataScaler
    rows : DataFrame
        Cleaned metadata (:func:`clean_sentinels`), any fold.

    Returns
    -------
    DataFrame, shape (N, 2 * n_fields), float32
        Each field's scaled value, then its ``<field>_missing`` mask as 0/1.
    """
    columns = {}
    for name in scaler.fields:
        values = rows[name].to_numpy(dtype=float)
        missing = ~np.isfinite(values)
        if f"{name}_missing" in rows:
            missing |= rows[f"{name}_missing"].to_numpy(dtype=bool)
        scaled = (values - scaler.center[name]) / scaler.scale[name]
        columns[name] = np.where(missing, 0.0, scaled)
        columns[f"{name}_missing"] = missing.astype(float)
    return pd.DataFrame(columns, index=rows.index).astype(np.float32)


def tower_columns(tower: str, with_masks: bool = True) -> list[str]:
    """The scaled-input columns of one tower (its fields, then their masks)."""
    if tower not in TOWERS:
        raise InputError(f"unknown metadata tower {tower!r}; known: {', '.join(TOWERS)}")
    fields = list(TOWERS[tower])
    return fields + ([f"{f}_missing" for f in fields] if with_masks else [])
