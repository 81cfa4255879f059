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
