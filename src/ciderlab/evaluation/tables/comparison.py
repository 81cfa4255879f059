"""Tables comparing methods: SpectraNet beside SNID-SAGE, and the published accuracies of others."""

from __future__ import annotations

import pandas as pd

# Published SN Ia vs non-Ia accuracies on 4,646 SEDM spectra (Kim et al. 2024). Literature
# values, quoted, not computed here: the book labels them as such.
LITERATURE_IA_ACCURACY = {"NGSF": 0.876, "SNID": 0.793, "DASH": 0.762}


def table_literature() -> pd.DataFrame:
    """The published SN Ia vs non-Ia accuracies, labelled as literature values."""
    return pd.DataFrame([{"method": name, "SN Ia vs non-Ia accuracy": value,
                          "data": "4,646 real SEDM spectra", "source": "Kim et al. 2024 (literature)"}
                         for name, value in LITERATURE_IA_ACCURACY.items()])


def table_method_comparison(comparison: pd.DataFrame, timing: dict) -> pd.DataFrame:
    """SpectraNet and SNID-SAGE on the identical subset: class and Ia scores, redshift, speed.

    One row per metric (index ``metric``) and one column per method, so the table stays as
    narrow as the number of methods. Values are of dtype object: counts stay integers, scores
    are rounded to 4 decimals.
    """
    from ciderlab.evaluation.metrics import label_scores, redshift_metrics

    columns = {}
    for method, prefix in (("SpectraNet", "spectranet"), ("SNID-SAGE 0.9.0", "snid")):
        scores = label_scores(comparison["label"], comparison[f"{prefix}_class"])
        z = comparison[f"{prefix}_redshift"].astype(float)
        found = z.notna()
        redshift = (redshift_metrics(z[found], comparison["redshift"][found])
                    if found.any() else {"rms": float("nan"), "outlier_fraction": float("nan")})
        speed_key = "spectranet" if prefix == "spectranet" else "snid_sage"
        scores = {"class accuracy": scores["accuracy"],
                  "SN Ia vs non-Ia accuracy": scores["ia_vs_non_ia"]["accuracy"],
                  "SN Ia purity": scores["ia_vs_non_ia"]["purity"],
                  "SN Ia completeness": scores["ia_vs_non_ia"]["completeness"],
                  "redshift RMS of dz/(1+z)": redshift["rms"],
                  "redshift outlier fraction": redshift["outlier_fraction"],
                  "spectra per second": timing[f"{speed_key}_spectra_per_second"]}
        columns[method] = {"spectra": len(comparison), "spectra with a redshift": int(found.sum()),
                           **{name: round(float(value), 4) for name, value in scores.items()}}
    return pd.DataFrame({method: pd.Series(values, dtype=object)
                         for method, values in columns.items()}).rename_axis("metric")


def table_spectral_branches(runs: dict[str, dict]) -> pd.DataFrame:
    """The two papers' spectra models on the same cross-validated test spectra: per-class F1,
    macro-F1, accuracy and SN Ia vs non-Ia accuracy, each mean ± std over the folds.

    Parameters
    ----------
    runs : dict
        Model name -> its cross-validated scores (``evaluation.cross_validation.
        classification_scores``: SpectraNet's ``cross_validation`` block of
        results/evaluate/metrics.json, results/train_galspecnet/metrics.json).
    """
    from ciderlab.evaluation.tables.display import mean_std

    first = next(iter(runs.values()))
    rows = {f"F1 {name}": {model: mean_std(scores["per_class_f1"][name])
                           if name in scores["per_class_f1"] else "-"
                           for model, scores in runs.items()}
            for name in first["per_class_f1"]}
    headline = ", ".join(first["headline_classes"])
    for key, label in (("macro_f1", f"macro-F1 ({headline})"), ("accuracy", "accuracy"),
                       ("ia_vs_non_ia_accuracy", "SN Ia vs non-Ia accuracy")):
        rows[label] = {model: mean_std(scores[key]) for model, scores in runs.items()}
    rows["test spectra (all folds)"] = {model: scores["pooled"]["n_spectra"]
                                        for model, scores in runs.items()}
    return pd.DataFrame({model: pd.Series({name: values[model] for name, values in rows.items()},
                                          dtype=object)
                         for model in runs}).rename_axis("score")


# What the SpectraNet paper states of its own results (its abstract; the full text is not
# available to us): the redshift RMS of dz/(1+z). Quoted, not computed here.
PAPER_REDSHIFT_RMS = 0.02


def table_paper_beside_us(cv: dict, real: dict) -> pd.DataFrame:
    """The paper's figures beside ours, cross-validated on realised spectra and on real ones,
    each row with why the numbers cannot simply be compared.

    Parameters
    ----------
    cv : the ``cross_validation`` block of results/evaluate/metrics.json
    real : results/real_spectra/metrics.json (``real_set_scores``)
    """
    from ciderlab.evaluation.tables.display import mean_std

    given, own = real["ours"]["catalogue"], real["ours"]["predicted"]
    headline = ", ".join(cv["headline_classes"])
    n_real = given["headline"]["n_files"]
    per_class = [v["n"] for c, v in given["per_class"].items() if c in cv["headline_classes"]]
    rows = [
        {"score": "redshift: RMS of Δz/(1+z)",
         "the paper": f"{PAPER_REDSHIFT_RMS} (abstract; real SEDM spectra, test set unknown "
                      "to us)",
         "ours, realised spectra (5-fold CV)": mean_std(cv["redshift_rms"], 4),
         f"ours, real spectra ({own['n_redshifts']} files)":
             f"{own['rms_dz']:.4f} (median |Δz|/(1+z) {own['median_dz']:.4f})",
         "why they differ": "Realised spectra carry the template's exact redshift and our noise "
                            "model, and the network was trained on them; the real files come from "
                            "many instruments with their own calibration, and their RMS is "
                            "ruled by a few files. Whether the paper's figure counts outliers, "
                            "and on which spectra, is not known to us."},
        {"score": f"macro-F1 over {headline}",
         "the paper": "not in the abstract",
         "ours, realised spectra (5-fold CV)": mean_std(cv["macro_f1"]),
         f"ours, real spectra ({own['n_redshifts']} files)":
             f"{given['headline']['macro_f1']:.3f} with the catalogue redshift, "
             f"{own['headline']['macro_f1']:.3f} with its own ({n_real} files)",
         "why they differ": f"The real set has {min(per_class, default=0)} to "
                            f"{max(per_class, default=0)} files per class, so its macro-F1 "
                            "moves by tenths with one file; the realised "
                            f"test spectra are {cv['pooled']['n_spectra']:,}, but all made from "
                            "the template bank's objects."},
        {"score": "SN Ia vs non-Ia accuracy",
         "the paper": "not in the abstract; on 4,646 real SEDM spectra (Kim et al. 2024, "
                      "literature): " + ", ".join(f"{name} {value}" for name, value in
                                                 LITERATURE_IA_ACCURACY.items()),
         "ours, realised spectra (5-fold CV)": mean_std(cv["ia_vs_non_ia_accuracy"]),
         f"ours, real spectra ({own['n_redshifts']} files)":
             f"{given['headline']['ia_vs_non_ia_accuracy']:.3f} with the catalogue redshift, "
             f"{own['headline']['ia_vs_non_ia_accuracy']:.3f} with its own",
         "why they differ": "The literature figures are other methods on the paper group's "
                            "own SEDM spectra, which are not public; ours are one network on "
                            "spectra of other origins."},
    ]
    return pd.DataFrame(rows).set_index("score")


def table_like_for_like(evaluate: dict, galspecnet_fixed_fold: dict) -> pd.DataFrame:
    """SpectraNet and GalSpecNet on the fixed fold's test spectra, each as far as it can go
    without being told the answer: SpectraNet with the catalogue redshift and end to end with
    its own, GalSpecNet on the observed frame (it takes no redshift).

    Parameters
    ----------
    evaluate : results/evaluate/metrics.json (the fixed fold's scores, ``end_to_end``)
    galspecnet_fixed_fold : GalSpecNet's ``classification_metrics`` on the same spectra
    """
    runs = {"SpectraNet, catalogue redshift": evaluate,
            "SpectraNet, its own redshift (end to end)": evaluate["end_to_end"],
            "GalSpecNet, no redshift (observed frame)": galspecnet_fixed_fold}
    headline = ", ".join(evaluate["headline_classes"])
    return pd.DataFrame([{"model": name, f"macro-F1 ({headline})": m["macro_f1"],
                          "accuracy": m["accuracy"],
                          "SN Ia vs non-Ia accuracy": m["ia_vs_non_ia"]["accuracy"],
                          "test spectra": m["n_spectra"]} for name, m in runs.items()])
