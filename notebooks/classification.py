# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Classification of SEDM-like spectra
#
# **What this reproduces.** SpectraNet's test-set confusion matrix (counts and row-normalised),
# its classification report, and the training curves, for the profile this book was built with.
# The classifier sees the rest-frame spectrum de-redshifted with the known redshift.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

from myst_nb import glue

from ciderlab import figures, tables
from ciderlab.checkpoint import load_checkpoint
from ciderlab.io import load_json, load_table
from ciderlab.model import SpectraNetConfig

results = Path(results_dir)
metrics = load_json(results / "evaluate" / "metrics.json")
predictions = load_table(results / "evaluate" / "predictions.csv")
history = load_table(results / "train_classifier" / "history.csv")
_, checkpoint = load_checkpoint(results / "train_classifier" / "classifier.pt")

glue("accuracy", metrics["accuracy"], display=False)
glue("macro_f1", metrics["macro_f1"], display=False)
glue("ia_accuracy", metrics["ia_vs_non_ia"]["accuracy"], display=False)
glue("ia_purity", metrics["ia_vs_non_ia"]["purity"], display=False)
glue("ia_completeness", metrics["ia_vs_non_ia"]["completeness"], display=False)
glue("n_test_spectra", metrics["n_spectra"], display=False)
glue("n_test_objects", sum(metrics["n_test_objects"].values()), display=False)
glue("best_epoch", checkpoint["epoch"], display=False)
glue("narrow_lo", metrics["narrow_coverage"]["obs_wave_range_aa"][0], display=False)
glue("narrow_hi", metrics["narrow_coverage"]["obs_wave_range_aa"][1], display=False)

# %% [markdown]
# ## Headline numbers
#
# On {glue:text}`n_test_spectra` test spectra of {glue:text}`n_test_objects` held-out objects:
# accuracy {glue:text}`accuracy:.3f`, macro-F1 {glue:text}`macro_f1:.3f`. SN Ia vs non-Ia
# accuracy {glue:text}`ia_accuracy:.3f` (purity {glue:text}`ia_purity:.3f`, completeness
# {glue:text}`ia_completeness:.3f`), the number the literature compares.

# %% [markdown]
# ## Confusion matrix (test objects)

# %%
figures.fig_confusion_matrix(metrics["confusion_matrix"], metrics["classes"])

# %% [markdown]
# ## Classification report
#
# Precision, recall and F1 per class, one-vs-rest ROC-AUC, and the number of test spectra
# (support). Classes with few objects (TDE, AGN, SN IIn) have very few test objects, so their
# scores move a lot between splits.

# %%
tables.table_classification_report(metrics)

# %% [markdown]
# ## One-vs-rest ROC curves

# %%
figures.fig_roc(predictions, metrics["classes"])

# %% [markdown]
# ## Accuracy against phase and S/N
#
# Grey numbers are the test spectra in each bin; spectra without a known phase are left out of
# the first panel.

# %%
figures.fig_accuracy_vs(predictions, "age_days", [-30, -10, 0, 10, 20, 40, 80, 160, 400],
                        "phase (days from maximum)")

# %%
figures.fig_accuracy_vs(predictions, "snr", [10, 14, 20, 28, 40, 56, 80, 101],
                        "S/N per resolution element", log=True)

# %% [markdown]
# ## Narrow wavelength coverage (an emulation of the paper's NGPS test)
#
# The paper tests generalisation to spectra from another instrument (NGPS). We have no such
# spectra, so this is an **emulation**: the same test spectra cut to
# {glue:text}`narrow_lo:.0f`–{glue:text}`narrow_hi:.0f` Å observed, re-normalised, and classified
# by the unchanged model.

# %%
tables.table_scenarios({"full SEDM coverage": metrics, "narrow coverage": metrics["narrow_coverage"]})

# %% [markdown]
# ## Architecture
#
# The network this book was built with, beside the paper's (same class, two configurations).

# %%
tables.table_architecture({"this run": checkpoint["model_config"],
                           "paper (authors' code)": SpectraNetConfig(n_outputs=len(metrics["classes"]))})

# %% [markdown]
# ## Training curves
#
# Validation uses the EMA weights; the checkpoint keeps the epoch with the best validation
# macro-F1 (epoch {glue:text}`best_epoch`).

# %%
figures.fig_training_curves(history)

# %% [markdown]
# ## Summary
#
# Every number above is read from `results/evaluate/metrics.json`, written by `ciderlab evaluate`.
