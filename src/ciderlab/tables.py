"""Tables for the book, built from results files' contents (never typed by hand)."""

from __future__ import annotations

import pandas as pd

SPLITS = ("train", "val", "test")


def table_dataset(split_table: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Objects, template spectra and realised spectra per class and split."""
    templates = meta.drop_duplicates(["template", "epoch"])
    rows = []
    for label in sorted(split_table["label"].unique()):
        row = {"class": label}
        for split in SPLITS:
            row[f"{split} objects"] = int(((split_table["label"] == label)
                                           & (split_table["split"] == split)).sum())
            row[f"{split} spectra"] = int(((templates["label"] == label)
                                           & (templates["split"] == split)).sum())
        row["realised spectra"] = int((meta["label"] == label).sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    total = table.drop(columns="class").sum().to_dict()
    return pd.concat([table, pd.DataFrame([{"class": "total", **total}])], ignore_index=True)


def table_dropped_classes(dropped: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"class": k, "why it is not trained": v} for k, v in dropped.items()])


def table_dropped_templates(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Template spectra left out, grouped by reason."""
    dropped = catalogue[catalogue["reason"].fillna("") != ""]
    return (dropped.groupby("reason").agg(spectra=("template", "size"),
                                          objects=("object_id", "nunique"))
            .sort_values("spectra", ascending=False).reset_index())


def table_label_fixes(catalogue: pd.DataFrame) -> pd.DataFrame:
    fixed = catalogue[catalogue["label_fix"].fillna("") != ""]
    return (fixed.drop_duplicates("template")[["template", "subtype", "label_fix"]]
            .rename(columns={"subtype": "corrected subtype", "label_fix": "reason"})
            .reset_index(drop=True))


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
    names = {"rms": "RMS of dz/(1+z)", "bias": "bias, mean dz/(1+z)",
             "sigma_nmad": "sigma_NMAD (centred)",
             "sigma_nmad_uncentred_authors": "sigma_NMAD, uncentred (authors' code)",
             "outlier_fraction": "outlier fraction, |dz|/(1+z) > 0.15",
             "mae": "mean absolute error in z", "n_spectra": "test spectra"}
    return pd.DataFrame([{"metric": label, "value": redshift[key]} for key, label in names.items()])


def table_scenarios(scenarios: dict[str, dict]) -> pd.DataFrame:
    """Classification scores of the same test spectra under different conditions
    (true or predicted redshift, full or narrow wavelength coverage)."""
    rows = []
    for name, values in scenarios.items():
        rows.append({"test condition": name, "accuracy": values["accuracy"],
                     "macro-F1": values["macro_f1"], "top-3 accuracy": values["top3_accuracy"],
                     "SN Ia vs non-Ia accuracy": values["ia_vs_non_ia"]["accuracy"]})
    return pd.DataFrame(rows).round(3)


# Published SN Ia vs non-Ia accuracies on 4,646 SEDM spectra (Kim et al. 2024). Literature
# values, quoted, not computed here: the book labels them as such.
LITERATURE_IA_ACCURACY = {"NGSF": 0.876, "SNID": 0.793, "DASH": 0.762}


def table_literature() -> pd.DataFrame:
    return pd.DataFrame([{"method": name, "SN Ia vs non-Ia accuracy": value,
                          "data": "4,646 real SEDM spectra", "source": "Kim et al. 2024 (literature)"}
                         for name, value in LITERATURE_IA_ACCURACY.items()])


def table_method_comparison(comparison: pd.DataFrame, timing: dict) -> pd.DataFrame:
    """SpectraNet and SNID-SAGE on the identical subset: class and Ia scores, redshift, speed."""
    from .metrics import label_scores, redshift_metrics

    rows = []
    for method, prefix in (("SpectraNet", "spectranet"), ("SNID-SAGE 0.9.0", "snid")):
        scores = label_scores(comparison["label"], comparison[f"{prefix}_class"])
        z = comparison[f"{prefix}_redshift"].astype(float)
        found = z.notna()
        redshift = (redshift_metrics(z[found], comparison["redshift"][found])
                    if found.any() else {"rms": float("nan"), "outlier_fraction": float("nan")})
        speed_key = "spectranet" if prefix == "spectranet" else "snid_sage"
        rows.append({"method": method, "spectra": len(comparison),
                     "class accuracy": scores["accuracy"],
                     "Ia vs non-Ia accuracy": scores["ia_vs_non_ia"]["accuracy"],
                     "Ia purity": scores["ia_vs_non_ia"]["purity"],
                     "Ia completeness": scores["ia_vs_non_ia"]["completeness"],
                     "redshift RMS dz/(1+z)": redshift["rms"],
                     "redshift outliers": redshift["outlier_fraction"],
                     "with a redshift": int(found.sum()),
                     "spectra per second": timing[f"{speed_key}_spectra_per_second"]})
    return pd.DataFrame(rows).round(4)


def table_architecture(configs: dict) -> pd.DataFrame:
    """Parameters and multiply-accumulates per spectrum of SpectraNet configurations."""
    from .model import SpectraNet, SpectraNetConfig, count_macs, count_parameters

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
