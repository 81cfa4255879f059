"""Labels for ZTF objects from a table in the Bright Transient Survey's format: its explorer's CSV
(``ZTFID, IAUID, RA, Dec, peakt, peakfilt, peakmag, peakabs, duration, rise, fade, type,
redshift, b, A_V``), or any CSV with a ZTF name and a type column; types mapped to the paper's
five groups by ``labels.paper_group_of_type_string`` (the one place)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ciderlab.data.labels import paper_group_of_type_string
from ciderlab.errors import InputError

# Accepted spellings of the two columns that matter (compared in lower case).
NAME_COLUMNS = ("ztfid", "ztf_id", "objectid", "obj_id", "ztf name", "name")
TYPE_COLUMNS = ("type", "classification", "bts_type")
REDSHIFT_COLUMNS = ("redshift", "z")


def _column(table: pd.DataFrame, accepted: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in table.columns}
    return next((lower[name] for name in accepted if name in lower), None)


def read_bts_labels(path: str | Path) -> pd.DataFrame:
    """One row per object: ``objectId``, ``type`` (as written), ``redshift`` (NaN if none) and
    ``label`` (the paper's group, None where the type is unclassified or in no group).

    Raises InputError for a file without a name or type column, with no rows, or naming one
    object twice with two different types.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="latin-1")
    except pd.errors.EmptyDataError as error:
        raise InputError(f"{path}: empty labels file; expected the Bright Transient Survey's "
                         "CSV (ZTFID, ..., type, redshift, ...)") from error
    name, kind = _column(table, NAME_COLUMNS), _column(table, TYPE_COLUMNS)
    if name is None or kind is None:
        raise InputError(f"{path}: no {'ZTF name' if name is None else 'type'} column (columns: "
                         f"{', '.join(map(str, table.columns))}); expected the Bright Transient "
                         "Survey's CSV header ZTFID, IAUID, RA, Dec, ..., type, redshift")
    if table.empty:
        raise InputError(f"{path}: no rows; nothing to label the alerts with")
    redshift = _column(table, REDSHIFT_COLUMNS)
    labels = pd.DataFrame({
        "objectId": table[name].str.strip(),
        "type": table[kind].str.strip(),
        "redshift": pd.to_numeric(table[redshift], errors="coerce") if redshift else np.nan})
    labels = labels[labels["objectId"] != ""].drop_duplicates()
    twice = labels[labels["objectId"].duplicated(keep=False)]
    if not twice.empty:
        first = twice["objectId"].iloc[0]
        raise InputError(f"{path}: {twice['objectId'].nunique()} objects appear with two types "
                         f"(e.g. {first}: {sorted(twice.loc[twice['objectId'] == first, 'type'])})"
                         "; keep one row per object")
    labels["label"] = [paper_group_of_type_string(t) for t in labels["type"]]
    return labels.reset_index(drop=True)
