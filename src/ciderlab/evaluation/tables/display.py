"""How the book shows numbers: ``show`` for every table, ``mean_std`` for a score over runs."""

from __future__ import annotations

import hashlib
import numbers

import pandas as pd
from pandas.io.formats.style import Styler


def show(table: pd.DataFrame, precision: int = 3) -> Styler:
    """How the book displays a table: as a table, not a DataFrame.

    pandas' row numbers are hidden; an index that carries row labels (metric or class names,
    as in ``table_ablation``) becomes the first column instead. Floats are shown with
    ``precision`` decimals, numbers with thousands separators and right-aligned (integers stay
    integers, also in mixed columns of dtype object), missing values as a dash. Text is never
    cut short: a Styler renders every character, whatever pandas' ``display.max_colwidth`` and
    ``display.max_rows`` say.

    Parameters
    ----------
    table : DataFrame
        Any of the ``table_*`` results.
    precision : int
        Decimals of floats.

    Returns
    -------
    Styler
        Renders as HTML in a notebook (the CSS in book/_static wraps it to the page width).
    """
    if table.index.name is not None or not pd.api.types.is_integer_dtype(table.index):
        table = table.reset_index(names=table.index.name or "")
    # The id comes from the content, so the same table renders to the same HTML every build.
    uuid = hashlib.sha1(table.to_csv().encode()).hexdigest()[:8]
    right = {column: [{"selector": "th, td", "props": "text-align: right"}]
             for column in table.columns if _is_numeric(table[column])}
    return (Styler(table, uuid=uuid, cell_ids=False)
            .hide(axis="index")
            .format(precision=precision, thousands=",", na_rep="–", escape="html")
            .set_table_attributes('class="dataframe ciderlab-table"')
            .set_table_styles(right, overwrite=False))


def _is_numeric(column: pd.Series) -> bool:
    """True for numbers, also in a column of dtype object that mixes integers and floats."""
    values = column.dropna()
    return len(values) > 0 and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                   for v in values)


def mean_std(stats: dict, digits: int = 3) -> str:
    """'0.812 ± 0.013' from a seed_summary entry (just the mean when there is one seed; 'n/a'
    where a seed's score is undefined, e.g. SN Ia purity when no spectrum is called SN Ia)."""
    if stats["mean"] is None:
        return "n/a"
    mean = round(stats["mean"], digits) + 0.0  # no "-0.000" for a mean that rounds to zero
    if len(stats["values"]) < 2:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {stats['std']:.{digits}f}"
