"""How far an answer can be trusted: calibration, "none of these" and redshift intervals.

Every setting here is fitted on **validation** objects only (SPEC §6) and scored on test objects:

* calibration: one map per cross-validation fold (temperature scaling or a top-label isotonic
  map, whichever calibrates held-out validation objects better), fitted on that fold's
  validation spectra and applied to its test spectra; the pooled test spectra give the expected
  calibration error before and after. The shipped map is the fixed fold's (that fold's model is
  the shipped classifier);
* "none of the trained classes": the bank's objects of types outside the trained classes,
  realised like the others, split by a stable hash of their name into a half that chooses the
  score (the one separating it best from the in-class validation spectra) and a half that
  measures it against the in-class test spectra; the threshold keeps ``ood_retain`` of the
  in-class validation spectra. Three candidate scores are learned: an outlier detector on the
  embedding (a logistic regression, a small network, and their mean) fitted on the in-class
  validation spectra and the choosing half; the scores it chooses and thresholds with are
  cross-fitted (grouped by object), so it is judged like the others on objects it has not
  seen;
* redshift intervals: split-conformal half-widths of Delta = (z_pred - z_true) / (1 + z_true),
  per S/N bin, from each fold's validation spectra; coverage on its test spectra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ciderlab.data.split import stable_hash
from ciderlab.evaluation import calibration, intervals
from ciderlab.evaluation.metrics import grouped_bootstrap_interval
from ciderlab.spectranet import out_of_class
from ciderlab.spectranet.shipped import SETTINGS_FORMAT


@dataclass(frozen=True)
class ReliabilityConfig:
    """The ``reliability`` section of params.yaml."""

    calibration_bins: int
    ood_retain: float
    out_of_class_types: tuple[str, ...]
    out_of_class_realisations: int
    outlier_detector: out_of_class.DetectorConfig
    outlier_detector_splits: int
    interval_level: float
    interval_snr_bins: int
    wide_interval: float
    max_contamination: float
    auroc_bootstrap: dict  # {resamples, level, seed}: the measuring AUROC's object bootstrap

    @classmethod
    def from_params(cls, section: dict) -> "ReliabilityConfig":
        return cls(**{**section, "out_of_class_types": tuple(section["out_of_class_types"]),
                      "outlier_detector": out_of_class.DetectorConfig(
                          **section["outlier_detector"])})


def labels_of(meta: pd.DataFrame, rows: np.ndarray, classes: list[str]) -> np.ndarray:
    """(N,) class indices of the realised spectra ``rows``."""
    from ciderlab.data.labels import class_indices

    return class_indices(meta["label"].iloc[np.asarray(rows)], classes)


def _proba_columns(predictions: pd.DataFrame) -> np.ndarray:
    columns = sorted((c for c in predictions if c.startswith("p_")), key=lambda c: int(c[2:]))
    return predictions[columns].to_numpy(float)


def _log(proba: np.ndarray) -> np.ndarray:
    return np.log(np.clip(proba, 1e-12, 1.0))


def calibrate_folds(val: pd.DataFrame, test: pd.DataFrame, meta: pd.DataFrame,
                    classes: list[str], cfg: ReliabilityConfig,
                    salt: str = "calibration") -> tuple[dict, pd.DataFrame]:
    """Per fold, a calibration map from its validation spectra applied to its test spectra.

    ``val``/``test`` are ``cross_validate``'s classifier predictions (row, fold, p_<k>). The
    map's kind (``calibration.CALIBRATION_METHODS``) is the one with the lowest ECE on half of
    each fold's validation objects when fitted on the other half (``choose_calibration``,
    averaged over folds; halves by a stable hash of the object, ``salt``); then each fold's map
    is fitted on all its validation spectra. Returns (scores, table): scores has ``method``,
    ``val_half_ece`` by method, ``settings_by_fold``, ``ece_before``/``ece_after`` (pooled test
    spectra), the SN Ia completeness at ``max_contamination`` before and after; table is one
    row per test spectrum with ``y``, ``fold`` and the calibrated p_<k>.
    """
    objects = meta["object_id"].astype(str).to_numpy()
    per_fold = {}
    for fold, fold_val in val.groupby("fold"):
        rows = fold_val["row"].to_numpy()
        halves = np.array([stable_hash(o, f"{salt}:{fold}") < 0.5 for o in objects[rows]])
        per_fold[int(fold)] = calibration.choose_calibration(
            _log(_proba_columns(fold_val)), labels_of(meta, rows, classes), halves,
            cfg.calibration_bins)
    val_half_ece = {m: float(np.mean([f[m] for f in per_fold.values()]))
                    for m in calibration.CALIBRATION_METHODS}
    method = min(val_half_ece, key=val_half_ece.get)
    settings, calibrated = {}, []
    for fold, fold_test in test.groupby("fold"):
        fold_val = val[val["fold"] == fold]
        settings[int(fold)] = calibration.fit_calibration(
            method, _log(_proba_columns(fold_val)), labels_of(meta, fold_val["row"], classes))
        proba = calibration.apply_calibration(settings[int(fold)],
                                              _log(_proba_columns(fold_test)))
        calibrated.append(pd.DataFrame(proba, columns=[f"p_{k}" for k in range(len(classes))])
                          .assign(row=fold_test["row"].to_numpy(), fold=int(fold)))
    after = pd.concat(calibrated, ignore_index=True)
    before = test.set_index("row").loc[after["row"]]
    y = labels_of(meta, after["row"].to_numpy(), classes)
    p_before, p_after = _proba_columns(before), _proba_columns(after)
    scores = {"method": method, "val_half_ece": val_half_ece,
              "val_half_ece_by_fold": per_fold, "settings_by_fold": settings,
              "ece_before": calibration.expected_calibration_error(p_before, y,
                                                                   cfg.calibration_bins),
              "ece_after": calibration.expected_calibration_error(p_after, y,
                                                                  cfg.calibration_bins),
              "n_test_spectra": int(len(y)), "n_val_spectra": int(len(val))}
    if "SN Ia" in classes:
        ia = classes.index("SN Ia")
        for name, proba in (("before", p_before), ("after", p_after)):
            scores[f"ia_completeness_{name}"] = calibration.completeness_at_contamination(
                proba[:, ia], y == ia, cfg.max_contamination)
    return scores, after.assign(y=y)


def calibration_tables(test: pd.DataFrame, calibrated: pd.DataFrame, classes: list[str],
                       cfg: ReliabilityConfig) -> dict[str, pd.DataFrame]:
    """The book's tables of the pooled test spectra, before and after calibration: reliability
    bins, accuracy against coverage, and SN Ia purity against completeness."""
    y = calibrated["y"].to_numpy()
    before = _proba_columns(test.set_index("row").loc[calibrated["row"]])
    after = _proba_columns(calibrated)
    tables = {}
    for name, proba in (("before", before), ("after", after)):
        tables[f"reliability_{name}"] = calibration.reliability_table(proba, y,
                                                                      cfg.calibration_bins)
        tables[f"accuracy_coverage_{name}"] = calibration.accuracy_coverage(proba, y)
    if "SN Ia" in classes:
        ia = classes.index("SN Ia")
        tables["purity_completeness"] = calibration.purity_completeness(after[:, ia], y == ia)
    return tables


def interval_folds(val: pd.DataFrame, test: pd.DataFrame, meta: pd.DataFrame,
                   cfg: ReliabilityConfig) -> tuple[dict, pd.DataFrame]:
    """Per fold, conformal half-widths by S/N from its validation spectra, tried on its test ones.

    ``val``/``test`` are ``cross_validate``'s redshift predictions (row, fold, redshift_pred).
    Returns (scores, table): the coverage per fold and pooled, the half-widths per fold; one row
    per test spectrum with its interval and whether it holds the true redshift.
    """
    z_true, snr = meta["redshift"].to_numpy(float), meta["snr"].to_numpy(float)
    pieces, by_fold = [], {}
    for fold, fold_test in test.groupby("fold"):
        fold_val = val[val["fold"] == fold]
        rows_val = fold_val["row"].to_numpy()
        delta = (fold_val["redshift_pred"].to_numpy() - z_true[rows_val]) / (1 + z_true[rows_val])
        edges, widths = intervals.binned_halfwidths(delta, snr[rows_val], cfg.interval_level,
                                                    cfg.interval_snr_bins)
        rows = fold_test["row"].to_numpy()
        half = intervals.halfwidth_for(snr[rows], edges, widths)
        low, high = intervals.interval(fold_test["redshift_pred"].to_numpy(), half)
        inside = (z_true[rows] >= low) & (z_true[rows] <= high)
        by_fold[int(fold)] = {"coverage": float(inside.mean()), "snr_edges": edges.tolist(),
                              "halfwidths": widths.tolist()}
        pieces.append(pd.DataFrame({"row": rows, "fold": int(fold), "snr": snr[rows],
                                    "redshift": z_true[rows],
                                    "redshift_pred": fold_test["redshift_pred"].to_numpy(),
                                    "halfwidth": half, "z_low": low, "z_high": high,
                                    "inside": inside}))
    table = pd.concat(pieces, ignore_index=True)
    coverages = [f["coverage"] for f in by_fold.values()]
    return {"level": cfg.interval_level, "coverage": float(table["inside"].mean()),
            "coverage_by_fold": coverages, "by_fold": by_fold}, table


def out_of_class_halves(object_ids, salt: str, repeat: int = 0) -> np.ndarray:
    """"choose" or "measure" per out-of-class spectrum, by a stable hash of its object.
    ``repeat`` > 0 draws another halving of the same objects (``repeated_halvings``); 0 is the
    stage's."""
    salt = salt + ":out-of-class" + (f":{repeat}" if repeat else "")
    return np.where([stable_hash(o, salt) < 0.5 for o in object_ids], "choose", "measure")


@dataclass
class OutOfClassInputs:
    """What "none of these" is chosen and measured from, per group (``val`` and ``test``: the
    fixed fold's scored in-class validation and test spectra; ``out``: the bank's objects of
    types outside the trained classes, realised)."""

    embedding: dict[str, np.ndarray]            # group -> (N, D) the classifier's embedding
    network_scores: dict[str, dict[str, np.ndarray]]  # group -> score -> (N,), network alone
    objects: dict[str, np.ndarray]              # group -> (N,) object ids
    gaussians: dict[str, np.ndarray]            # the class Gaussians (``fit_class_gaussians``)
    out_meta: pd.DataFrame                      # object_id, label of the ``out`` spectra


def halving_scores(inputs: OutOfClassInputs, choose: np.ndarray, cfg: ReliabilityConfig
                   ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """Every candidate score of every group for one halving of the out-of-class spectra
    (``choose``: (N_out,) bool, True in the choosing half), and the outlier detector fitted on
    the in-class validation spectra and the choosing half. The detector has seen those: their
    detector scores (which choose the score and set the threshold) come from detectors fitted
    without their object (``cross_fitted_detector_scores``). Returns (scores, detector)."""
    embedding, choose = inputs.embedding, np.asarray(choose, bool)
    detector = out_of_class.fit_outlier_detector(embedding["val"], embedding["out"][choose],
                                                 cfg.outlier_detector)
    scores = {group: {**{name: np.array(v) for name, v in inputs.network_scores[group].items()},
                      **out_of_class.outlier_detector_scores(embedding[group], detector)}
              for group in ("val", "test", "out")}
    crossed_val, crossed_choose = out_of_class.cross_fitted_detector_scores(
        embedding["val"], embedding["out"][choose], inputs.objects["val"],
        inputs.objects["out"][choose], cfg.outlier_detector, cfg.outlier_detector_splits)
    for name in crossed_val:
        scores["val"][name] = crossed_val[name]
        scores["out"][name][choose] = crossed_choose[name]
    return scores, detector


def repeated_halvings(inputs: OutOfClassInputs, cfg: ReliabilityConfig, salt: str,
                      repeats: range) -> pd.DataFrame:
    """How much one halving decides: the stage's choose-then-measure (``none_of_these``) over
    other halvings of the same out-of-class objects (``out_of_class_halves``'s ``repeat``; 0 is
    the stage's own). One row per halving and candidate score: its choosing and measuring AUROC,
    whether the halving chose it, and the halves' object counts."""
    rows = []
    for repeat in repeats:
        halves = out_of_class_halves(inputs.objects["out"], salt, repeat)
        scores, _ = halving_scores(inputs, halves == "choose", cfg)
        chosen, _ = none_of_these(scores["val"], scores["test"], scores["out"], halves, cfg)
        n_objects = {half: int(pd.unique(inputs.objects["out"][halves == half]).size)
                     for half in ("choose", "measure")}
        for name, auroc in chosen["by_score"].items():
            rows.append({"repeat": repeat, "score": name, **auroc,
                         "chosen": name == chosen["score"],
                         "n_choose_objects": n_objects["choose"],
                         "n_measure_objects": n_objects["measure"]})
    return pd.DataFrame(rows)


def summarise_halvings(table: pd.DataFrame) -> dict:
    """``repeated_halvings``' table in numbers: per halving the chosen score with its choosing
    and measuring AUROC; the chosen scores' measuring AUROC over the halvings (mean, standard
    deviation); per score its mean, lowest and highest measuring AUROC, how often it was chosen
    and how often it measured best (ties to the first)."""
    chosen = table[table["chosen"]].sort_values("repeat")
    best_rows = table.loc[table.groupby("repeat")["auroc_measure"].idxmax()]
    per_score = table.assign(best=table.index.isin(best_rows.index)).groupby(
        "score", sort=False).agg(mean=("auroc_measure", "mean"), low=("auroc_measure", "min"),
                                 high=("auroc_measure", "max"), times_chosen=("chosen", "sum"),
                                 times_best=("best", "sum"))
    return {"halvings": [{"repeat": int(r.repeat), "chosen": r.score,
                          "auroc_choose": float(r.auroc_choose),
                          "auroc_measure": float(r.auroc_measure),
                          "n_choose_objects": int(r.n_choose_objects),
                          "n_measure_objects": int(r.n_measure_objects)}
                         for r in chosen.itertuples()],
            "chosen_auroc_mean": float(chosen["auroc_measure"].mean()),
            "chosen_auroc_std": float(chosen["auroc_measure"].std(ddof=1)),
            "by_score": {name: {k: (int(v) if k.startswith("times_") else float(v))
                                for k, v in row.items()}
                         for name, row in per_score.iterrows()}}


def none_of_these(in_val: dict, in_test: dict, out: dict, out_half: np.ndarray,
                  cfg: ReliabilityConfig, test_objects: np.ndarray | None = None,
                  out_objects: np.ndarray | None = None) -> tuple[dict, pd.DataFrame]:
    """Choose the out-of-class score and its threshold; measure them on the other half.

    ``in_val``, ``in_test``, ``out``: ``out_of_class.ood_scores`` of the in-class validation
    and test spectra and of the out-of-class ones (each a dict of score name -> (N,)).
    Returns (scores, table): per score its AUROC on the choosing half (against in-class
    validation spectra) and on the measuring half (against in-class test spectra), the chosen
    score, its threshold, and the flagged fractions; one row per spectrum with its scores.
    With the spectra's objects (``test_objects`` of ``in_test``, ``out_objects`` of ``out``)
    also ``auroc_interval``: the chosen score's measuring AUROC over bootstrap resamples of
    whole objects (``cfg.auroc_bootstrap``).
    """
    choose, measure = out_half == "choose", out_half == "measure"
    by_score = {}
    for name in in_val:
        by_score[name] = {
            "auroc_choose": out_of_class.out_of_class_auroc(in_val[name], out[name][choose]),
            "auroc_measure": out_of_class.out_of_class_auroc(in_test[name], out[name][measure])}
    chosen = max(by_score, key=lambda name: by_score[name]["auroc_choose"])
    threshold = out_of_class.threshold_for_retention(in_val[chosen], cfg.ood_retain)
    flagged = out_of_class.false_alarm_and_detection(in_test[chosen], out[chosen][measure],
                                                     threshold)
    if test_objects is not None and out_objects is not None:
        boot = cfg.auroc_bootstrap
        in_scores, out_scores = np.asarray(in_test[chosen]), np.asarray(out[chosen])[measure]
        flagged["auroc_interval"] = grouped_bootstrap_interval(
            lambda rows_in, rows_out: out_of_class.out_of_class_auroc(in_scores[rows_in],
                                                                      out_scores[rows_out]),
            [np.asarray(test_objects), np.asarray(out_objects)[measure]],
            boot["resamples"], boot["seed"], boot["level"])
        flagged["auroc_interval_level"] = boot["level"]
    scores = {"by_score": by_score, "score": chosen, "threshold": float(threshold),
              "auroc": by_score[chosen]["auroc_measure"], "retain": cfg.ood_retain, **flagged,
              "n_out_of_class_spectra": {"choose": int(choose.sum()),
                                         "measure": int(measure.sum())},
              "n_in_class_spectra": {"val": int(len(in_val[chosen])),
                                     "test": int(len(in_test[chosen]))}}
    table = pd.concat([
        pd.DataFrame({"group": "in-class validation", **in_val}),
        pd.DataFrame({"group": "in-class test", **in_test}),
        pd.DataFrame({"group": np.where(choose, "out-of-class (choose)",
                                        "out-of-class (measure)"), **out})], ignore_index=True)
    return scores, table


def out_of_class_catalogue(catalogue: pd.DataFrame, types: tuple[str, ...],
                           min_coverage_fraction: float = 0.0,
                           max_spectra_per_object: int | None = None) -> pd.DataFrame:
    """The bank's spectra of SNID types outside the trained classes (``types``).

    Those are the catalogue rows dropped for their class (``label`` empty) that would otherwise
    be used: covering at least ``min_coverage_fraction`` of the rest-frame window, as
    ``labels.min_coverage_fraction`` asks of the trained classes. Each keeps its SNID subtype as
    its label. ``max_spectra_per_object`` keeps each object's spectra nearest maximum light, as
    ``realise`` does for the small profile.
    """
    unlabelled = catalogue["label"].isna() | (catalogue["label"].astype(str) == "")
    other = catalogue[unlabelled & catalogue["snid_type"].isin(types)
                      & catalogue["reason"].fillna("").str.contains("not one of the configured")
                      & (catalogue["coverage_fraction"] >= min_coverage_fraction)]
    other = other.assign(label=other["subtype"], split="out-of-class", fold=-1)
    if max_spectra_per_object:
        other = (other.assign(_phase=other["age_days"].abs().fillna(1e9))
                 .sort_values(["object_id", "_phase", "epoch"]).groupby("object_id")
                 .head(max_spectra_per_object).drop(columns="_phase")
                 .sort_values("spectrum_index"))
    return other.reset_index(drop=True)


def shipped_settings(calibration_fit: dict, ood: dict, interval_fold: dict,
                     cfg: ReliabilityConfig) -> dict:
    """What ``classify`` and ``real_spectra`` apply to a new spectrum (the fixed fold's fits)."""
    return {"format": SETTINGS_FORMAT, "calibration": calibration_fit,
            "none_of_these": {"score": ood["score"], "threshold": ood["threshold"],
                              "retain": cfg.ood_retain},
            # Inner edges only: JSON has no infinity (the outer edges are -inf and +inf).
            "redshift_interval": {"level": cfg.interval_level,
                                  "snr_inner_edges": [float(e) for e in
                                                      interval_fold["snr_edges"][1:-1]],
                                  "halfwidths": interval_fold["halfwidths"],
                                  "wide": cfg.wide_interval}}
