"""Tables of our models' results: classification and redshift scores, scores over seeds and folds,
the architecture, preprocessing options and ablation compared, and where the classifier errs."""

from __future__ import annotations

import pandas as pd

from ciderlab.evaluation.metrics import object_accuracy
from ciderlab.evaluation.tables.display import mean_std


def table_classification_report(metrics: dict) -> pd.DataFrame:
    """Per-class precision, recall, F1, ROC-AUC and support, with macro averages."""
    rows = [{"class": name, **values} for name, values in metrics["per_class"].items()
            if values["support"] > 0]
    table = pd.DataFrame(rows)[["class", "precision", "recall", "f1", "roc_auc", "support"]]
    macro = {"class": "macro average", "precision": table["precision"].mean(),
             "recall": table["recall"].mean(), "f1": metrics["macro_f1"],
             "roc_auc": metrics["macro_roc_auc"], "support": table["support"].sum()}
    return pd.concat([table, pd.DataFrame([macro])], ignore_index=True).round(3)


def table_redshift_metrics(redshift: dict) -> pd.DataFrame:
    """One row per redshift metric; the value column is of dtype object so that the number of
    test spectra stays an integer beside the float metrics."""
    names = {"rms": "RMS of dz/(1+z)", "bias": "bias, mean dz/(1+z)",
             "sigma_nmad": "sigma_NMAD (centred)",
             "sigma_nmad_uncentred_authors": "sigma_NMAD, uncentred (authors' code)",
             "outlier_fraction": "outlier fraction, |dz|/(1+z) > 0.15",
             "mae": "mean absolute error in z", "n_spectra": "test spectra"}
    return pd.DataFrame({"metric": list(names.values()),
                         "value": pd.Series([redshift[key] for key in names], dtype=object)})


def table_scenarios(scenarios: dict[str, dict]) -> pd.DataFrame:
    """Classification scores of the same test spectra under different conditions
    (true or predicted redshift, full or narrow wavelength coverage)."""
    rows = []
    for name, values in scenarios.items():
        rows.append({"test condition": name, "accuracy": values["accuracy"],
                     "macro-F1": values["macro_f1"], "top-3 accuracy": values["top3_accuracy"],
                     "SN Ia vs non-Ia accuracy": values["ia_vs_non_ia"]["accuracy"]})
    return pd.DataFrame(rows).round(3)


def table_architecture(configs: dict) -> pd.DataFrame:
    """Parameters and multiply-accumulates per spectrum of SpectraNet configurations."""
    from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig, count_macs, count_parameters

    rows = []
    for name, config in configs.items():
        config = config if isinstance(config, SpectraNetConfig) else SpectraNetConfig(**config)
        rows.append({"configuration": name, "input bins": config.n_bins,
                     "channels": "/".join(map(str, config.channels)),
                     "kernels (per stage)": "; ".join(",".join(map(str, k)) for k in config.kernels),
                     "head width": config.hidden,
                     "parameters": count_parameters(SpectraNet(config)),
                     "MMAC per spectrum": round(count_macs(config) / 1e6, 1)})
    return pd.DataFrame(rows)


def table_seed_report(seeds: dict) -> pd.DataFrame:
    """Per-class precision, recall and F1 as mean ± std over seeds, then the headline scores."""
    rows = [{"": name, **{key: mean_std(values[key]) for key in ("precision", "recall", "f1")}}
            for name, values in seeds["per_class"].items()]
    headline = {"accuracy": "accuracy", "macro_f1": "macro-F1", "top3_accuracy": "top-3 accuracy",
                "macro_roc_auc": "macro ROC-AUC"}
    for key, label in headline.items():
        rows.append({"": label, "f1": mean_std(seeds[key])})
    for key in ("accuracy", "purity", "completeness"):
        if "ia_vs_non_ia" in seeds:
            rows.append({"": f"SN Ia vs non-Ia {key}", "f1": mean_std(seeds["ia_vs_non_ia"][key])})
    table = pd.DataFrame(rows).fillna("").set_index("")
    return table.rename(columns={"f1": "F1 / score"})


def table_cross_validation(cv: dict) -> pd.DataFrame:
    """The cross-validated headline scores: mean ± std over folds, and pooled over all objects."""
    pooled, z = cv["pooled"], cv["pooled_redshift"]
    rows = [
        ("macro-F1 (" + ", ".join(cv["headline_classes"]) + ")", cv["macro_f1"],
         pooled["macro_f1"]),
        ("accuracy", cv["accuracy"], pooled["accuracy"]),
        ("SN Ia vs non-Ia accuracy", cv["ia_vs_non_ia_accuracy"],
         pooled["ia_vs_non_ia"]["accuracy"]),
        ("redshift RMS Δz/(1+z)", cv["redshift_rms"], z["rms"]),
        ("redshift outlier fraction (|Δz|/(1+z) > 0.15)", cv["redshift_outlier_fraction"],
         z["outlier_fraction"]),
        ("redshift σ_NMAD", cv["redshift_sigma_nmad"], z["sigma_nmad"]),
    ]
    digits = {"redshift RMS Δz/(1+z)": 4, "redshift σ_NMAD": 4}
    return pd.DataFrame(
        [{"score": name, f"mean ± std over {cv['n_folds']} folds":
          mean_std(stats, digits.get(name, 3)), "pooled over every object":
          round(float(value), digits.get(name, 3))} for name, stats, value in rows]
    ).set_index("score")


def table_cross_validation_classes(cv: dict) -> pd.DataFrame:
    """Per class, pooled over every fold: objects, spectra, precision, recall, F1 — each object
    tested once — with the classes kept out of the headline (AGN) on their own lines."""
    pooled = cv["pooled"]
    rows = [{"class": name, "objects": int(pooled["n_objects"].get(name, 0)),
             "spectra": values["support"], "precision": values["precision"],
             "recall": values["recall"], "F1": values["f1"]}
            for name, values in pooled["per_class"].items() if values["support"] > 0]
    for name, values in cv.get("separate", {}).items():
        rows.append({"class": f"{name} (outside the headline)", "objects": values["n_objects"],
                     "spectra": None, "precision": None, "recall": values["recall"], "F1": None})
    return pd.DataFrame(rows).astype({"objects": "Int64", "spectra": "Int64"}).set_index("class")


def table_preprocessing_options(options: pd.DataFrame, chosen: str | None = None) -> pd.DataFrame:
    """The continuum-removal options side by side, best validation macro-F1 first, with the
    realism AUCs of each option's real inputs (and of its network's embedding of them) where
    measured; ``chosen`` is marked."""
    table = options.sort_values("val_macro_f1", ascending=False)
    columns = ["option", "val_macro_f1", "val_accuracy", "val_ia_vs_non_ia_accuracy",
               "realism_auc", "embedding_realism_auc", "best_epoch", "minutes"]
    table = (table[[c for c in columns if c in table]]
             .rename(columns={"val_macro_f1": "validation macro-F1",
                              "val_accuracy": "validation accuracy",
                              "val_ia_vs_non_ia_accuracy": "SN Ia vs non-Ia (validation)",
                              "realism_auc": "realism AUC (real vs realised)",
                              "embedding_realism_auc": "realism AUC, network's embedding",
                              "best_epoch": "best epoch"}))
    table["option"] = [f"{o} (chosen)" if o == chosen else o for o in table["option"]]
    return table.set_index("option")


def table_ablation(ablation: dict) -> pd.DataFrame:
    """The reference and each variant over the cross-validation folds (mean ± std), and each
    variant's change paired fold by fold (``paired_differences``: mean ± std of the per-fold
    differences). ``ablation`` is results/ablation/metrics.json."""
    reference = ablation["reference"]
    headline = ", ".join(reference["headline_classes"])
    scores = {"macro_f1": f"macro-F1 ({headline})", "accuracy": "accuracy",
              "ia_vs_non_ia_accuracy": "SN Ia vs non-Ia accuracy"}

    def of(result: dict, key: str) -> dict | None:
        if key in scores:
            return result[key]
        return result["per_class_f1"].get(key.removeprefix("f1 "))

    keys = list(scores) + [f"f1 {name}" for name in reference["per_class_f1"]]
    columns = {"reference": {key: of(reference, key) for key in keys}}
    for name, variant in ablation["variants"].items():
        columns[name] = {key: of(variant["scores"], key) for key in keys}
        columns[f"change: {name}"] = {key: variant["difference"].get(key) for key in keys}
    rows = [{"score": scores.get(key, key.replace("f1 ", "F1 ")),
             **{column: "–" if values[key] is None else mean_std(values[key])
                for column, values in columns.items()}} for key in keys]
    return pd.DataFrame(rows).set_index("score")


def table_top_confusions(metrics: dict, n: int = 6) -> pd.DataFrame:
    """The ``n`` largest off-diagonal cells of the confusion matrix, as % of the true class."""
    classes = metrics["classes"]
    rows = []
    for i, row in enumerate(metrics["confusion_matrix"]):
        total = sum(row)
        for j, count in enumerate(row):
            if i != j and count:
                rows.append({"true class": classes[i], "predicted as": classes[j],
                             "spectra": count, "% of true class": round(100 * count / total, 1)})
    if not rows:
        return pd.DataFrame(columns=["true class", "predicted as", "spectra", "% of true class"])
    return (pd.DataFrame(rows).sort_values("% of true class", ascending=False).head(n)
            .reset_index(drop=True))


def table_object_accuracy(predictions: pd.DataFrame, skip: tuple[str, ...] = ("SN Ia",)) -> pd.DataFrame:
    """Per test object (classes in ``skip`` left out): spectra, accuracy, most common answer."""
    table = object_accuracy(predictions)
    table = table[~table["class"].isin(skip)].reset_index(drop=True)
    return table.assign(accuracy=table["accuracy"].round(2))


def table_seen_against_unseen(scores: dict) -> pd.DataFrame:
    """Per class, F1 on the objects the classifier was trained on against new objects, for all
    realised spectra and the clean ones (``evaluate``'s ``seen_against_unseen``), with the gap."""
    columns = {"seen_all": "F1 seen objects", "seen_clean": "F1 seen objects, clean",
               "unseen_all": "F1 new objects", "unseen_clean": "F1 new objects, clean"}
    table = pd.DataFrame({label: pd.Series(scores[key]["f1"])
                          for key, label in columns.items() if key in scores})
    table = table.reindex([c for c in scores["classes"] if c in table.index])
    table["seen - new"] = table["F1 seen objects"] - table["F1 new objects"]
    table.index.name = "class"
    return table


def table_selection(records: list[dict]) -> pd.DataFrame:
    """Each recipe choice beside what it was chosen over, scored on the fixed fold's
    validation objects (``evaluation.selection.verdicts``): one row per choice."""
    from ciderlab.evaluation.selection import verdicts

    labels = {"macro_f1": "validation macro-F1", "rms": "validation RMS Δz/(1+z)"}
    rows = []
    for _, run in verdicts(records).iterrows():
        digits = 3 if run["score"] == "macro_f1" else 4
        rows.append({"model": run["head"], "choice": run["choice"],
                     "seeds": ", ".join(map(str, run["seeds"])), "score": labels[run["score"]],
                     "value": mean_std(run, digits),
                     "better by": "" if run["verdict"] == "chosen"
                     else f"{run['difference']:+.{digits}f}",
                     "verdict": run["verdict"]})
    return pd.DataFrame(rows)
