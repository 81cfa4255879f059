"""The numbers and phrases the AppleCiDEr page's prose quotes, computed from results in one
tested place (as ``evaluation.sentences`` does for SpectraNet's pages)."""

from __future__ import annotations

import pandas as pd

from ciderlab.applecider.tables import paired_mode_difference
from ciderlab.evaluation.metrics import classification_metrics
from ciderlab.evaluation.tables import mean_std

SIMPLE_BASELINE = "logistic regression (metadata)"


def beyond_spread(difference: dict, otherwise: str) -> str:
    """Whether a paired difference (mean, std) is ahead by more than its spread over folds."""
    return "ahead beyond that spread" if difference["mean"] - difference["std"] > 0 else otherwise


def ranked_networks(metrics: dict) -> list[str]:
    """The trained network modes (not the baselines), best mean macro-F1 first."""
    return sorted((m for m in metrics["modes"] if m not in metrics.get("baselines", [])),
                  key=lambda m: -metrics["modes"][m]["macro_f1"]["mean"])


def modes_compared(metrics: dict) -> dict:
    """The best network against the runner-up and against the simple baseline, fold by fold,
    with verdicts; the chance baselines' scores."""
    networks = ranked_networks(metrics)
    best, runner_up = networks[0], networks[1]
    ahead = paired_mode_difference(metrics, best, runner_up)
    over_simple = paired_mode_difference(metrics, best, SIMPLE_BASELINE)
    return {
        "best_mode": best, "best_mode_f1": mean_std(metrics["modes"][best]["macro_f1"]),
        "runner_up": runner_up, "ahead": mean_std(ahead), "over_simple": mean_std(over_simple),
        "ahead_verdict": beyond_spread(
            ahead, "not ahead beyond that spread: at this sample size the two are tied"),
        "simple_verdict": beyond_spread(over_simple, "not ahead beyond that spread"),
        **{name.split()[0] + "_f1": mean_std(metrics["modes"][name]["macro_f1"])
           for name in ("majority class", "stratified chance")}}


def listed(values) -> str:
    """'1, 3 and 7' for [1, 3, 7]."""
    text = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + f" and {text[-1]}"


def alerts_described(summary: dict, metrics: dict, section: dict) -> dict:
    """The alert sample (the ``alerts`` stage's summary) and the training set-up."""
    labelled = {k: v for k, v in summary["objects_per_label"].items() if k != "unlabelled"}
    days = sorted(float(d) for d in next(iter(metrics["early"].values())))
    return {
        "n_objects": summary["objects"], "n_alerts": summary["alerts"],
        "n_detections": f"{summary['detections']:,}",
        "n_limits": f"{summary['upper_limits']:,}",
        "n_labelled_objects": sum(labelled.values()),
        "n_edge": summary["edge_of_chip_alerts"], "n_nan_stamps": summary["stamps_with_nan"],
        "trained_classes": ", ".join(metrics["classes"]), "n_folds": metrics["n_folds"],
        "early_days": listed(days), "early_modes": ", ".join(metrics["early"]),
        "top_k": section["astrominn"]["top_k"], "n_experts": section["astrominn"]["n_experts"]}


def galspecnet_described(galspecnet: dict, section: dict, spectral_branches: dict) -> dict:
    """GalSpecNet's input and network, and each spectral branch's cross-validated scores."""
    model = galspecnet["model"]
    recipe = galspecnet["recipe"]
    values = {
        "galspecnet_range": f"{section['wave_min_aa']:g} to {section['wave_max_aa']:g}",
        "galspecnet_step": f"{section['step_aa']:g}",
        "galspecnet_bins": f"{model['n_bins']:,}",
        "galspecnet_layers": (f"{len(model['channels'])} blocks of "
                              + "/".join(map(str, model["channels"]))
                              + f" channels, kernel {model['kernel_size']}, pooling by "
                              f"{model['pool_size']}"),
        "galspecnet_parameters": f"{galspecnet['n_parameters']:,}",
        "galspecnet_budget": (f"{recipe['max_epochs']} epochs of "
                              f"{recipe['samples_per_epoch'] or 'all the'} training spectra"),
        "galspecnet_folds": galspecnet["n_folds"],
        "galspecnet_test_spectra": f"{galspecnet['pooled']['n_spectra']:,}"}
    for name, scores in spectral_branches.items():
        values[f"{name.lower()}_f1"] = mean_std(scores["macro_f1"])
        values[f"{name.lower()}_ia"] = mean_std(scores["ia_vs_non_ia_accuracy"])
    return values


def fixed_fold_scores(predictions: pd.DataFrame, meta: pd.DataFrame, classes: list[str],
                      headline: list[str], fixed_fold: int) -> dict:
    """Scores of a cross-validated spectral model on the fixed fold's test spectra alone (the
    like-for-like comparison with SpectraNet's fixed-fold classifier)."""
    fixed = predictions[predictions["fold"] == fixed_fold]
    if fixed.empty:
        raise ValueError(f"no predictions of fold {fixed_fold}: is it one of the folds?")
    labels = meta["label"].iloc[fixed["row"]].map({c: k for k, c in enumerate(classes)})
    return classification_metrics(labels.to_numpy(),
                                  fixed[[f"p_{k}" for k in range(len(classes))]].to_numpy(),
                                  classes, headline)
