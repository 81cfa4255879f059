"""Figures of the "Real spectra" chapter: SpectraNet and SNID-SAGE on observed spectra."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ciderlab.spectranet.snid.snid_output import OTHER
from ciderlab.errors import InputError
from ciderlab.evaluation.figures.heatmap import annotated_heatmap, cell_text
from ciderlab.spectranet.out_of_class import score_label
from ciderlab.spectranet.real_spectra import CATASTROPHIC

NONE_OF_THESE = "none of these"
NO_ANSWER = "no answer"
OOD_GROUPS = ("in-class validation", "in-class test", "out-of-class (choose)",
              "out-of-class (measure)")


def _read_fine(table: pd.DataFrame) -> pd.Series:
    """True for rows whose file was read (``error`` empty or absent)."""
    if "error" not in table:
        return pd.Series(True, index=table.index)
    return table["error"].fillna("").astype(str) == ""


def _answer_columns(answers: pd.Series, trained: list[str], always: list[str]) -> list[str]:
    """The trained classes, then ``always``, then other answers as they occur (``other`` and
    ``no answer`` last, so the off-diagonal columns read the same in both panels)."""
    extra = sorted(set(answers) - set(trained) - set(always) - {OTHER, NO_ANSWER})
    tail = [name for name in (OTHER, NO_ANSWER) if (answers == name).any()
            and name not in always]
    return list(trained) + list(always) + extra + tail


def _count_matrix(truth: pd.Series, answers: pd.Series, rows: list[str],
                  columns: list[str]) -> np.ndarray:
    """Files per (true class, answer), rows and columns in the given order."""
    counts = pd.crosstab(pd.Categorical(truth, categories=rows),
                         pd.Categorical(answers, categories=columns), dropna=False)
    return counts.reindex(index=rows, columns=columns, fill_value=0).to_numpy(int)


def fig_real_confusion(ours: pd.DataFrame, snid: pd.DataFrame,
                       trained_classes: list[str]) -> Figure:
    """File counts per true class and answer, SpectraNet (left) beside SNID-SAGE (right), both
    given the catalogue redshift.

    SpectraNet's answer is its top class, except that a file it flags "none of these" (its
    out-of-class score below the shipped threshold) is counted in the "none of these" column
    instead, whatever its top class; a file it could not read is counted as "no answer", as
    SNID-SAGE's unreadable files are. SNID-SAGE's answers outside our classes are "other".

    Parameters
    ----------
    ours : DataFrame
        ``evaluation.real_spectra.score_files`` table (one row per file and condition); only
        its ``condition == "catalogue"`` rows are drawn.
    snid : DataFrame
        SNID-SAGE's table (``baselines.real_files.run_on_files``); only its catalogue rows
        (redshift forced to the catalogue value) are drawn.
    trained_classes : list of str
        The classifier's classes, in the order of the first rows and columns; true classes
        outside them (e.g. "CV") follow as further rows.
    """
    ours = ours[ours["condition"] == "catalogue"]
    snid = snid[snid["condition"] == "catalogue"]
    flagged = ours["none_of_these"].astype("boolean").fillna(False).to_numpy(bool)
    ours_answer = pd.Series(np.where(flagged, NONE_OF_THESE, ours["predicted"]),
                            index=ours.index).where(_read_fine(ours), NO_ANSWER)
    snid_answer = snid["predicted"].fillna(NO_ANSWER)
    present = set(ours["class"]) | set(snid["class"])
    rows = ([c for c in trained_classes if c in present]
            + sorted(present - set(trained_classes)))
    panels = [("SpectraNet, catalogue redshift", ours["class"], ours_answer,
               _answer_columns(ours_answer, trained_classes, [NONE_OF_THESE])),
              ("SNID-SAGE, forced to the catalogue redshift", snid["class"], snid_answer,
               _answer_columns(snid_answer, trained_classes, []))]
    counts = [_count_matrix(truth, answer, rows, columns)
              for _, truth, answer, columns in panels]
    vmax = max(1, *(int(c.max(initial=0)) for c in counts))  # one colour scale for both panels
    width = 2.5 + 0.55 * sum(len(columns) for *_, columns in panels)
    fig = Figure(figsize=(max(10.0, width), 1.5 + 0.45 * len(rows)), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (title, *_, columns), count in zip(axes, panels, counts):
        annotated_heatmap(ax, count, cell_text(count, count, "{:.0f}"), rows, columns,
                          vmax=vmax, cbar_label=None)
        ax.set_title(f"{title} ({int(count.sum())} files)", fontsize=10)
    axes[1].set_ylabel("")
    fig.colorbar(axes[1].collections[0], ax=axes, shrink=0.8, label="files")
    return fig


def _redshift_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the "predicted" condition with a catalogue redshift above 0 and an answer."""
    keep = ((table["condition"] == "predicted") & (table["redshift"] > 0) & _read_fine(table)
            & np.isfinite(table["redshift_pred"].astype(float)))
    if "status" in table:  # SNID-SAGE: "no_match" and "error" rows carry no redshift to judge
        keep &= table["status"] == "ok"
    return table[keep]


def fig_real_redshift(ours: pd.DataFrame, snid: pd.DataFrame,
                      catastrophic: float = CATASTROPHIC) -> Figure:
    """Redshift residuals dz/(1+z) of SpectraNet's redshift model and of SNID-SAGE (each
    finding its own redshift) against the catalogue redshift.

    Only files with a catalogue redshift above 0 (not Galactic objects) and an answer are
    drawn. SpectraNet's error bars are its redshift interval. The y axis is linear within
    +-0.01 and logarithmic beyond, so catastrophic failures stay on the plot beside the core.

    Parameters
    ----------
    ours, snid : DataFrame
        As for :func:`fig_real_confusion`; their ``condition == "predicted"`` rows are drawn.
    catastrophic : float
        |dz|/(1+z) above which a redshift is a catastrophic failure (dashed lines).
    """
    ours, snid = _redshift_rows(ours), _redshift_rows(snid)
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    z = ours["redshift"].to_numpy(float)
    z_pred = ours["redshift_pred"].to_numpy(float)
    # Interval ends below/above the point, in residual units; a missing interval draws no bar.
    below = np.nan_to_num((z_pred - ours["z_low"].to_numpy(float)) / (1 + z)).clip(min=0)
    above = np.nan_to_num((ours["z_high"].to_numpy(float) - z_pred) / (1 + z)).clip(min=0)
    residual = (z_pred - z) / (1 + z)
    z_snid = snid["redshift"].to_numpy(float)
    residual_snid = (snid["redshift_pred"].to_numpy(float) - z_snid) / (1 + z_snid)
    handles = [ax.errorbar(z, residual, yerr=[below, above], fmt="o", ms=5, capsize=2,
                           label=f"SpectraNet ({len(ours)} files)"),
               *ax.plot(z_snid, residual_snid, "s", ms=5, mfc="none",
                        label=f"SNID-SAGE ({len(snid)} files)")]
    ax.axhline(0, color="k", lw=1)
    for sign in (1, -1):
        line = ax.axhline(sign * catastrophic, color="r", ls="--", lw=1,
                          label=f"+-{catastrophic:g}: catastrophic beyond")
    handles.append(line)
    ax.set_yscale("symlog", linthresh=0.01)
    top = 1.5 * np.max(np.abs(np.concatenate([residual, residual_snid, [catastrophic]])))
    ax.set_ylim(-top, top)
    ax.set_xlabel("catalogue redshift")
    ax.set_ylabel("(z_pred - z_cat) / (1 + z_cat)")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def fig_real_examples(inputs: dict, ours: pd.DataFrame, max_panels: int = 9) -> Figure:
    """The classifier's rest-frame input for one file of each true class, with SpectraNet's
    answer given the catalogue redshift.

    Parameters
    ----------
    inputs : dict
        ``evaluation.real_spectra.score_files`` inputs: ``flux_rest`` (N, L) normalised flux,
        ``covered_rest`` (N, L) bool, ``wave_rest_aa`` (L,) Angstrom, ``files`` (N,).
    ours : DataFrame
        ``score_files`` table; its catalogue rows give each file's true class and answer.
    max_panels : int
        At most this many classes are shown, in the order their first file appears in
        ``inputs["files"]``.
    """
    answers = ours[ours["condition"] == "catalogue"].drop_duplicates("file").set_index("file")
    files = list(inputs["files"])
    unknown = [f for f in files if f not in answers.index]
    if unknown:
        raise InputError(f"inputs hold file(s) with no catalogue row in the results table, "
                         f"e.g. {unknown[0]}; pass the table score_files returned with them")
    first = {}  # true class -> index of its first file
    for i, name in enumerate(files):
        first.setdefault(answers.at[name, "class"], i)
    shown = list(first.items())[:max_panels]
    n_cols = min(3, max(len(shown), 1))
    n_rows = max(1, -(-len(shown) // n_cols))
    fig = Figure(figsize=(4.2 * n_cols, 2.8 * n_rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False).ravel())
    wave = np.asarray(inputs["wave_rest_aa"], float)
    for ax, (true_class, i) in zip(axes, shown):
        row = answers.loc[files[i]]
        ax.plot(wave, np.where(inputs["covered_rest"][i], inputs["flux_rest"][i], np.nan),
                lw=0.8)
        ax.set_title(f"{files[i]} — {true_class}", fontsize=9)
        answer = f"SpectraNet: {row['predicted']} ({row['probability']:.2f})"
        if pd.notna(row["none_of_these"]) and bool(row["none_of_these"]):
            answer += "\nflagged: none of these"
        ax.text(0.02, 0.97, answer, transform=ax.transAxes, va="top", fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})
    for ax in axes[len(shown):]:
        ax.set_axis_off()
    if not shown:
        axes[0].text(0.5, 0.5, "no readable spectra", ha="center", va="center")
    for ax in axes[:len(shown)]:
        ax.set_xlabel("rest-frame wavelength [AA]")
    fig.supylabel("classifier input (normalised)", fontsize=10)
    return fig


def fig_out_of_class_scores(ood_table: pd.DataFrame, score: str, threshold: float) -> Figure:
    """Distributions of one out-of-class score per group of spectra, with the threshold below
    which a spectrum is answered "none of these".

    Parameters
    ----------
    ood_table : DataFrame
        ``evaluation.reliability.none_of_these`` table: ``group`` and one column per score
        (higher = more like the training classes).
    score : str
        The score column drawn (the chosen one).
    threshold : float
        The shipped threshold on that score.
    """
    if score not in ood_table:
        names = [c for c in ood_table.columns if c != "group"]
        raise InputError(f"no score {score!r} in the out-of-class table; it has {names}")
    values = ood_table[score].to_numpy(float)
    finite = values[np.isfinite(values)]
    bins = np.histogram_bin_edges(np.append(finite, threshold), bins=40)
    groups = [g for g in OOD_GROUPS if (ood_table["group"] == g).any()]
    groups += sorted(set(ood_table["group"]) - set(OOD_GROUPS))
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    for group in groups:
        x = values[(ood_table["group"] == group).to_numpy()]
        x = x[np.isfinite(x)]
        if len(x):
            ax.hist(x, bins=bins, density=True, histtype="step", lw=1.5,
                    label=f"{group} ({len(x)})")
    ax.axvline(threshold, color="k", ls="--", lw=1, label="none of these below")
    ax.set_xlabel(f"{score_label(score)} (higher: more like the training classes)")
    ax.set_ylabel("density")
    ax.legend(loc="upper left", fontsize=8)
    return fig
