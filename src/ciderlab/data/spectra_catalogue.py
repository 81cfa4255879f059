"""Catalogues of labelled spectra: a CSV naming spectrum files beside it, with object, class, z.

A catalogue has one row per spectrum and the columns

* ``file``: the spectrum file, relative to the CSV's folder (any format ``ciderlab classify``
  reads);
* ``object``: the object's name (never empty); several spectra may share one;
* ``class``: its type as the source gives it (``SN Ia-91T-like``, ``TDE-H-He``, ``Ia``...),
  mapped to our classes by ``ciderlab.data.labels.class_of_type_string``;
* ``redshift``: the known redshift, a finite number >= 0, or empty where none is known (read
  as NaN: the caller decides; ``ciderlab classify`` then predicts it);
* optional ``phase`` (days, empty allowed) and ``instrument``; any other columns are kept as text.

``real_spectra/truth.csv`` is one. The reader adds ``label`` (our class, or None where the type
is not one of the trained classes: such rows are kept and counted, never guessed) and ``path``
(the file's absolute path).
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import pandas as pd

from ciderlab.data.labels import PAPER_CLASSES, class_of_type_string
from ciderlab.errors import InputError

REQUIRED_COLUMNS = ("file", "object", "class", "redshift")
OPTIONAL_COLUMNS = ("phase", "instrument")
ADDED_COLUMNS = ("label", "path")  # what the reader adds; the writer leaves them out
HEADER = ",".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
SHOWN = 5  # how many bad rows an error message lists


def _line(index: int) -> int:
    return index + 2  # the CSV line of a table row: line 1 is the header


def _rows(what: list[str]) -> str:
    more = f" and {len(what) - SHOWN} more" if len(what) > SHOWN else ""
    return "; ".join(what[:SHOWN]) + more


def _read_text(path: Path) -> str:
    """The CSV's text: UTF-8 (a byte-order mark dropped), else Latin-1, as the spectrum readers."""
    from ciderlab.spectra.readers import decode_text

    if not path.is_file():
        raise InputError(f"{path}: no such catalogue file; check the path")
    try:
        text = decode_text(path.read_bytes(), path)
    except InputError as error:
        raise InputError(f"{path}: not a text file; a catalogue is a CSV with the header "
                         f"{HEADER}") from error
    return text.removeprefix("\ufeff")  # spreadsheets often start UTF-8 with a BOM


def _numbers(table: pd.DataFrame, column: str, path: Path, minimum: float | None) -> pd.Series:
    """A text column as floats: empty -> NaN; anything else must be a finite number >= minimum."""
    values, bad = [], []
    for index, (name, text) in enumerate(zip(table["file"], table[column])):
        text = text.strip()
        try:
            value = float(text) if text else math.nan
        except ValueError:
            value = None
        if value is None or (text and not math.isfinite(value)) or \
                (minimum is not None and value < minimum):
            bad.append(f"line {_line(index)} ({name}): {text!r}")
        values.append(value)
    if bad:
        need = "a finite number" + ("" if minimum is None else f" >= {minimum:g}")
        raise InputError(f"{path}: {len(bad)} {column} value(s) are not {need}: {_rows(bad)}. "
                         f"Correct them, or leave the cell empty where the {column} is unknown")
    return pd.Series(values, index=table.index, dtype="float64")


def read_spectra_catalogue(csv_path: str | os.PathLike,
                           classes=PAPER_CLASSES) -> pd.DataFrame:
    """Read and check a catalogue of labelled spectra (see the module docstring).

    Parameters
    ----------
    csv_path : path
        The catalogue CSV; its ``file`` entries are relative to its folder.
    classes : sequence of str
        The trained classes the ``class`` strings are mapped to (default: the paper's nine).

    Returns
    -------
    pandas.DataFrame
        One row per spectrum in file order: every column of the CSV (``redshift`` and ``phase``
        as float64, NaN where empty; the rest as text), plus ``label`` (a class of ``classes``,
        or None) and ``path`` (absolute path of the file, str).

    Raises
    ------
    InputError
        The file is missing, empty or not text; a required column is missing; an ``object`` or
        ``file`` cell is empty; a file is listed twice or is not there; a redshift is not a
        finite number >= 0 (or a phase not a finite number). Each message names the lines.
    """
    path = Path(csv_path)
    text = _read_text(path)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        table = None
    except pd.errors.ParserError as error:
        raise InputError(f"{path}: not a readable CSV ({error}); check the quoting and that "
                         "every line has as many fields as the header") from error
    if table is None or table.empty:
        raise InputError(f"{path}: the catalogue has no rows; it needs the header line {HEADER} "
                         "(phase and instrument optional) and one line per spectrum")
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: no column(s) {', '.join(missing)}; a catalogue's header is "
                         f"{HEADER} (phase, instrument and any further columns optional), found "
                         f"{','.join(table.columns)}")
    for column in ("file", "object"):
        table[column] = table[column].str.strip()
        empty = [f"line {_line(i)}" for i in range(len(table)) if not table[column].iloc[i]]
        if empty:
            raise InputError(f"{path}: empty {column} in {_rows(empty)}; every row needs a "
                             f"{column}")
    files = pd.Series([str((path.parent / f).resolve()) for f in table["file"]],
                      index=table.index)
    twice = files[files.duplicated(keep=False)]  # "a.txt" and "./a.txt" are one file
    if len(twice):
        lines = ", ".join(str(_line(i)) for i in twice.index[:2 * SHOWN])
        raise InputError(f"{path}: {table['file'][twice.index[0]]!r} and {twice.nunique() - 1} "
                         f"other file(s) are listed more than once (lines {lines}); keep one "
                         "row per spectrum")
    table["redshift"] = _numbers(table, "redshift", path, minimum=0.0)
    if "phase" in table:
        table["phase"] = _numbers(table, "phase", path, minimum=None)
    absent = [f"line {_line(i)}: {name}" for i, (name, full) in
              enumerate(zip(table["file"], files)) if not Path(full).is_file()]
    if absent:
        raise InputError(f"{path}: {len(absent)} of {len(table)} listed file(s) are not there "
                         f"({_rows(absent)}); the file column is relative to "
                         f"{path.parent.resolve()}")
    table["class"] = table["class"].str.strip()
    table["label"] = [class_of_type_string(c, classes) for c in table["class"]]
    table["path"] = files
    return table


def label_summary(table: pd.DataFrame) -> str:
    """One line on a read catalogue's labels: how many rows have a trained class, and which
    type strings are "not one of the classes" (with their counts)."""
    unlabelled = table.loc[table["label"].isna(), "class"].replace("", "(no class)")
    line = (f"{len(table)} spectra of {table['object'].nunique()} objects, "
            f"{len(table) - len(unlabelled)} of them in the trained classes")
    if len(unlabelled):
        counts = unlabelled.value_counts()
        line += "; not one of the classes: " + ", ".join(f"{c} ({n})" for c, n in counts.items())
    return line


def write_spectra_catalogue(table: pd.DataFrame, csv_path: str | os.PathLike) -> Path:
    """Write a catalogue CSV atomically (the reader's ``label`` and ``path`` columns left out).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per spectrum with at least ``file``, ``object``, ``class``, ``redshift``;
        ``file`` relative to the CSV's folder. NaN redshifts and phases are written empty.
    csv_path : path
        Where to write it.

    Returns
    -------
    Path
        ``csv_path``.
    """
    from ciderlab.io import atomic_path

    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"a catalogue table needs the column(s) {', '.join(missing)}")
    first = [c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in table.columns]
    rest = [c for c in table.columns if c not in first and c not in ADDED_COLUMNS]
    csv_path = Path(csv_path)
    with atomic_path(csv_path) as tmp:
        table[first + rest].to_csv(tmp, index=False, encoding="utf-8")
    return csv_path
