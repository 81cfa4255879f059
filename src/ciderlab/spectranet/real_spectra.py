"""The final models, and SNID-SAGE, on real observed spectra with published classifications.

``real_spectra/`` (git-tracked, outside DVC's raw snapshot) holds the files and ``truth.csv``.
They are the only measure of how the realised training set transfers to real spectra, so
nothing is ever chosen on them (SPEC §3.4). Each file is scored twice: with its catalogue
redshift given, and with the redshift model's own (end to end), exactly as ``ciderlab
classify`` answers a user. SNID-SAGE runs on the same files under the same two conditions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ciderlab.data.spectra_source import scored_realisations
from ciderlab.errors import InputError
from ciderlab.evaluation.metrics import (label_scores, macro_f1_over, paired_exact_test,
                                         proportion_interval)

TRUTH_COLUMNS = ("file", "object", "class", "redshift")
CONDITIONS = ("catalogue", "predicted")  # how the redshift is known
CATASTROPHIC = 0.15  # |dz|/(1+z) above this is a catastrophic redshift failure (SPEC §8)


def load_truth(path: str | Path) -> pd.DataFrame:
    """``truth.csv``: one row per file (file, object, class, redshift, ...), files checked."""
    from ciderlab.io import load_table

    path = Path(path)
    truth = load_table(path)
    missing = [c for c in TRUTH_COLUMNS if c not in truth]
    if missing:
        raise InputError(f"{path}: no column(s) {missing}; a truth table needs "
                         f"{', '.join(TRUTH_COLUMNS)}")
    absent = [f for f in truth["file"] if not (path.parent / f).is_file()]
    if absent:
        raise InputError(f"{path}: {len(absent)} listed file(s) are not beside it, e.g. "
                         f"{absent[0]}")
    if truth["file"].duplicated().any():
        raise InputError(f"{path}: file {truth['file'][truth['file'].duplicated()].iloc[0]} "
                         "is listed twice")
    return truth


def score_files(truth: pd.DataFrame, folder: Path, models) -> tuple[pd.DataFrame, dict]:
    """Every file classified under both redshift conditions, as ``ciderlab classify`` does.

    Returns (table, inputs): one row per file and condition with the answer (class,
    probability, top 3, redshift and interval, "none of these", out-of-class score, warnings;
    ``error`` where the file could not be used), and the model inputs with the catalogue
    redshift (``flux_rest`` (N, L), ``covered_rest``, ``wave_rest_aa``; the observed-frame
    ``flux_obs``, ``covered_obs``, ``wave_obs_aa``; ``files``).
    """
    from ciderlab.spectranet.classify import classify_file

    rows, inputs = [], {"flux_rest": [], "covered_rest": [], "flux_obs": [], "covered_obs": [],
                        "files": []}
    for record in truth.to_dict("records"):
        for condition in CONDITIONS:
            given = float(record["redshift"]) if condition == "catalogue" else None
            row = {"file": record["file"], "object": record["object"], "class": record["class"],
                   "redshift": float(record["redshift"]), "condition": condition}
            try:
                _, answer = classify_file(folder / record["file"], models, redshift=given)
            except InputError as error:
                rows.append({**row, "error": str(error)})
                continue
            interval = answer.redshift_interval or (np.nan, np.nan)
            rows.append({**row, "predicted": answer.top[0][0], "probability": answer.top[0][1],
                         "top3": "; ".join(f"{c} {p:.2f}" for c, p in answer.top),
                         "redshift_pred": answer.redshift, "z_low": interval[0],
                         "z_high": interval[1], "none_of_these": answer.none_of_these,
                         "out_of_class_score": answer.out_of_class_score, "snr": answer.snr,
                         "coverage": answer.coverage, "warnings": "; ".join(answer.warnings),
                         "error": ""})
            if condition == "catalogue":
                for key in ("flux_rest", "covered_rest", "flux_obs", "covered_obs"):
                    inputs[key].append(getattr(answer.inputs, key))
                inputs["files"].append(record["file"])
                inputs["wave_rest_aa"] = answer.inputs.wave_rest_aa
                inputs["wave_obs_aa"] = answer.inputs.wave_obs_aa
    return pd.DataFrame(rows), {k: np.asarray(v) for k, v in inputs.items()}


def model_inputs(truth: pd.DataFrame, folder: Path, cfg) -> dict[str, np.ndarray]:
    """The files' model inputs as ``classify`` prepares them, each (N, L): ``flux_obs`` (the
    redshift model's, observed frame) and ``flux_rest`` (the classifier's, at the catalogue
    redshift), with their coverage ``covered_obs`` and ``covered_rest``."""
    from ciderlab.spectra.preprocess import prepare_observed, to_model_grid, to_rest_frame
    from ciderlab.spectra.readers import read_spectrum

    out = {name: [] for name in ("flux_obs", "covered_obs", "flux_rest", "covered_rest")}
    for name, z in zip(truth["file"], truth["redshift"]):
        spectrum = read_spectrum(folder / name)
        flux, covered = to_model_grid(spectrum.wave_aa, spectrum.flux, cfg)
        flat, model_input = prepare_observed(flux, covered, cfg)
        rest, covered_rest = to_rest_frame(flat, covered, float(z), cfg)
        for key, value in zip(out, (model_input, covered, rest, covered_rest)):
            out[key].append(value)
    return {key: np.asarray(values) for key, values in out.items()}


def redshift_errors(table: pd.DataFrame, predicted: str = "redshift_pred") -> pd.Series:
    """|dz|/(1+z) of each row's ``predicted`` redshift against its catalogue one."""
    return (table[predicted] - table["redshift"]).abs() / (1 + table["redshift"])


def method_scores(table: pd.DataFrame, trained: list[str], predicted: str = "predicted",
                  redshift: str | None = None, headline: list[str] | None = None,
                  level: float = 0.95) -> dict:
    """Type accuracy on the files of trained classes (and per class, and its Wilson interval at
    ``level``: a few dozen files leave it wide), redshift errors.

    With ``headline`` also the book's headline scores on the files of those classes: macro-F1
    over exactly them (``metrics.macro_f1_over``) and SN Ia vs non-Ia accuracy.
    """
    typed = table[table["class"].isin(trained)]
    right = typed[predicted] == typed["class"]
    scores = {"n_files": int(len(table)), "n_typed": int(len(typed)),
              "n_right": int(right.sum()),
              "accuracy": float(right.mean()) if len(typed) else float("nan"),
              "accuracy_interval": proportion_interval(int(right.sum()), len(typed), level),
              "interval_level": level,
              "per_class": {c: {"n": int((typed["class"] == c).sum()),
                                "right": int(right[typed["class"] == c].sum())}
                            for c in sorted(typed["class"].unique())}}
    if headline:
        kept = typed[typed["class"].isin(headline)]
        answers = kept[predicted].fillna("no answer").astype(str)
        scores["headline"] = {
            "classes": list(headline), "n_files": int(len(kept)),
            "macro_f1": macro_f1_over(kept["class"].astype(str), answers, list(headline)),
            "ia_vs_non_ia_accuracy": label_scores(kept["class"].astype(str),
                                                  answers)["ia_vs_non_ia"]["accuracy"]}
    if redshift is not None:
        extragalactic = typed[typed["redshift"] > 0]
        errors = redshift_errors(extragalactic, redshift)
        scores.update(median_dz=float(errors.median()), rms_dz=float(np.sqrt(np.mean(errors**2))),
                      n_catastrophic=int((errors > CATASTROPHIC).sum()),
                      n_redshifts=int(len(errors)))
    return scores


def right_on_both(ours: pd.DataFrame, snid: pd.DataFrame, trained: list[str]) -> pd.DataFrame:
    """Per file of a trained class answered by both methods (one condition's rows each): whether
    each typed it right. Columns ``ours``, ``snid_sage`` (bool), indexed by file."""
    mine = ours[ours["class"].isin(trained)].set_index("file")
    theirs = snid.set_index("file")
    files = mine.index.intersection(theirs.index)
    return pd.DataFrame({"ours": mine.loc[files, "predicted"] == mine.loc[files, "class"],
                         "snid_sage": theirs.loc[files, "predicted"] == mine.loc[files, "class"]})


def real_set_scores(ours: pd.DataFrame, snid: pd.DataFrame | None, trained: list[str],
                    headline: list[str] | None = None, level: float = 0.95) -> dict:
    """The book's table: ours and SNID-SAGE, each with the catalogue and its own redshift.

    ``ours`` is ``score_files``' table; ``snid`` has one row per file and condition with
    ``predicted`` (our class of SNID-SAGE's answer) and ``redshift_pred``. Also: the files of
    classes outside training (the novae) and whether "none of these" flagged them, and per
    condition the exact paired test of the two methods on the same files (``paired``: files
    only ours typed right, only SNID-SAGE, and the two-sided p-value).
    """
    read = ours[ours["error"].fillna("") == ""]
    scores = {"n_files": int(ours["file"].nunique()),
              "n_unreadable": int(ours.loc[ours["error"].fillna("") != "", "file"].nunique()),
              "classes": sorted(ours["class"].unique()), "trained_classes": list(trained),
              "ours": {}, "snid_sage": {}}
    for condition in CONDITIONS:
        rows = read[read["condition"] == condition]
        scores["ours"][condition] = method_scores(
            rows, trained, redshift="redshift_pred" if condition == "predicted" else None,
            headline=headline, level=level)
        flagged = rows[~rows["class"].isin(trained)]
        scores["ours"][condition]["untrained_flagged"] = {
            f: bool(v) for f, v in zip(flagged["file"], flagged["none_of_these"])}
        scores["ours"][condition]["trained_flagged"] = int(
            rows.loc[rows["class"].isin(trained), "none_of_these"].fillna(False).sum())
        if snid is not None:
            answered = snid[(snid["condition"] == condition)]
            scores["snid_sage"][condition] = method_scores(
                answered, trained, redshift="redshift_pred" if condition == "predicted" else None,
                headline=headline, level=level)
            both = right_on_both(rows, answered, trained)
            test = paired_exact_test(both["ours"], both["snid_sage"])
            scores.setdefault("paired", {})[condition] = {
                "n_files": int(len(both)), "ours_only": test["a_only"],
                "snid_sage_only": test["b_only"], "p_value": test["p_value"]}
    return scores


def real_spectra_stage(params: dict, truth: pd.DataFrame, folder: Path, models,
                       snid: pd.DataFrame, spectra) -> tuple[pd.DataFrame, dict, dict]:
    """The ``real_spectra`` stage: the shipped models on every real file, scored beside
    SNID-SAGE's answers, and how far the real inputs sit from the realised test spectra
    (``domain_gap.realism_breakdown``; ``roughness_auc``, the noise's texture;
    ``region_mismatch`` in the observed frame). Returns
    (predictions, model inputs, metrics)."""
    from ciderlab.data.split import scored_rows
    from ciderlab.evaluation.metrics import headline_classes
    from ciderlab.spectranet.classify import embed
    from ciderlab.spectranet.domain_gap import (OBSERVED_REGIONS_AA, realism_auc,
                                                realism_breakdown, region_mismatch,
                                                roughness_auc)

    ours, inputs = score_files(truth, folder, models)
    trained = list(models.classifier[1]["classes"])
    metrics = real_set_scores(ours, snid, trained,
                              headline_classes(trained, params["labels"]["separate_classes"]),
                              level=params["real_spectra"]["interval_level"])
    test_rows = scored_rows(spectra.meta, "test", scored_realisations(params))
    metrics["realism_auc"] = realism_breakdown(inputs["flux_rest"], inputs["covered_rest"],
                                               spectra.flux_rest[test_rows],
                                               spectra.covered_rest[test_rows])
    # The same two-sample test on what the shipped classifier makes of the inputs.
    metrics["realism_auc"]["embedding"] = realism_auc(
        embed(models.classifier[0], inputs["flux_rest"]),
        embed(models.classifier[0], spectra.flux_rest[test_rows]))
    metrics["roughness_rest"] = roughness_auc(inputs["flux_rest"], inputs["covered_rest"],
                                              spectra.flux_rest[test_rows],
                                              spectra.covered_rest[test_rows])
    metrics["region_mismatch_obs"] = region_mismatch(
        inputs["flux_obs"], inputs["covered_obs"], spectra.flux_obs[test_rows],
        spectra.covered_obs[test_rows], inputs["wave_obs_aa"], OBSERVED_REGIONS_AA)
    return ours, inputs, metrics
