"""Light curves from alert histories: detections and upper limits, magnitudes to µJy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ciderlab.errors import InputError

BANDS = {1: "g", 2: "r", 3: "i"}  # ZTF filter id (fid) -> band (ZTF Avro schema)
AB_ZEROPOINT_UJY = 23.9  # m_AB = 23.9 - 2.5 log10(f / µJy)
LIGHTCURVE_COLUMNS = ("objectId", "jd", "band", "is_limit", "magpsf", "sigmapsf", "diffmaglim",
                      "flux_ujy", "flux_err_ujy", "limit_flux_ujy", "isdiffpos", "dt_days")


def mag_to_flux_ujy(mag, mag_err=None):
    """AB magnitudes to flux density in µJy, with the error propagated to first order.

    Parameters
    ----------
    mag : array_like, shape (N,)
        AB magnitudes [mag].
    mag_err : array_like, shape (N,), optional
        1-sigma magnitude errors [mag].

    Returns
    -------
    flux_ujy : ndarray, shape (N,)
        ``10**(-0.4 * (mag - 23.9))`` [µJy].
    flux_err_ujy : ndarray, shape (N,)
        ``mag_err * flux * ln(10) / 2.5`` [µJy]; only when ``mag_err`` is given.
    """
    flux = 10.0 ** (-0.4 * (np.asarray(mag, dtype=float) - AB_ZEROPOINT_UJY))
    if mag_err is None:
        return flux
    return flux, np.asarray(mag_err, dtype=float) * flux * np.log(10.0) / 2.5


def history_records(packet: dict) -> list[dict]:
    """The alert's own candidate and its ``prv_candidates`` as plain rows (one per epoch).

    A row with a null ``magpsf`` is an upper limit at ``diffmaglim`` (ZTF Avro schema).
    """
    object_id = packet["objectId"]
    rows = []
    for entry in [packet["candidate"], *(packet.get("prv_candidates") or [])]:
        fid = entry.get("fid")
        if fid not in BANDS:
            raise InputError(f"alert {object_id} (candid {packet.get('candid')}): filter id "
                             f"{fid!r} is not a ZTF band (1=g, 2=r, 3=i); is this a ZTF packet?")
        isdiffpos = entry.get("isdiffpos")
        rows.append({
            "objectId": object_id, "jd": entry["jd"], "band": BANDS[fid],
            "magpsf": entry.get("magpsf"), "sigmapsf": entry.get("sigmapsf"),
            "diffmaglim": entry.get("diffmaglim"),
            # t/1: positive subtraction (sci - ref); f/0: negative; null for a non-detection.
            "isdiffpos": None if isdiffpos is None else str(isdiffpos) in ("t", "1"),
        })
    return rows


def build_lightcurve(records: list[dict]) -> pd.DataFrame:
    """One row per (objectId, jd, band), detections and upper limits apart.

    Alert histories of one object overlap (each alert repeats the last 30 days), so rows are
    de-duplicated on (objectId, jd, band), a detection winning over a limit at the same epoch.

    Parameters
    ----------
    records : list of dict
        Rows from :func:`history_records` of any number of alerts.

    Returns
    -------
    DataFrame
        LIGHTCURVE_COLUMNS, sorted by objectId and jd. ``flux_ujy``/``flux_err_ujy`` [µJy] for
        detections (NaN for limits); ``limit_flux_ujy`` [µJy] is the 5-sigma limit
        ``diffmaglim`` as a flux; ``dt_days`` [days] is ``jd`` minus the object's first
        detection (negative for limits before it).
    """
    table = pd.DataFrame.from_records(records, columns=["objectId", "jd", "band", "magpsf",
                                                        "sigmapsf", "diffmaglim", "isdiffpos"])
    for column in ("jd", "magpsf", "sigmapsf", "diffmaglim"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    table["is_limit"] = table["magpsf"].isna()
    # A limit without a limiting magnitude carries no information.
    table = table[~(table["is_limit"] & table["diffmaglim"].isna())]
    table = (table.sort_values(["objectId", "jd", "band", "is_limit"], kind="stable")
             .drop_duplicates(["objectId", "jd", "band"], keep="first"))
    table["flux_ujy"], table["flux_err_ujy"] = mag_to_flux_ujy(table["magpsf"], table["sigmapsf"])
    table["limit_flux_ujy"] = mag_to_flux_ujy(table["diffmaglim"])
    first = table[~table["is_limit"]].groupby("objectId")["jd"].min()
    table["dt_days"] = table["jd"] - table["objectId"].map(first)
    table["isdiffpos"] = table["isdiffpos"].astype("boolean")
    return table.loc[:, list(LIGHTCURVE_COLUMNS)].reset_index(drop=True)
