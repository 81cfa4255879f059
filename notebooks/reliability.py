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
# # How far an answer can be trusted
#
# **What this adds.** Three things a classifier's user needs beside its answer, none of them in
# the paper: probabilities that mean what they say (calibration), an honest "none of the trained
# classes", and a redshift with an interval. Every setting on this page is fitted on
# **validation** objects only (stage `reliability`, `src/ciderlab/spectranet/reliability.py`)
# and scored on test objects, pooled over the cross-validation folds.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"
averaging_path = "../benchmarks/results/redshift_averaging.jsonl"
halvings_path = "../benchmarks/results/out_of_class_halvings.jsonl"

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

from myst_nb import glue

from ciderlab.evaluation.figures import real_spectra as real_figures
from ciderlab.evaluation.figures import reliability as figures
from ciderlab.evaluation import sentences, tables
from ciderlab.io import load_json, load_records, load_table
from ciderlab.spectranet.out_of_class import score_label

results = Path(results_dir) / "reliability"
metrics = load_json(results / "metrics.json")
settings = load_json(results / "reliability.json")
calibration, ood, interval = (metrics["calibration"], metrics["none_of_these"],
                              metrics["redshift_interval"])
reliability_tables = {"before": load_table(results / "reliability_before.csv"),
                      "after": load_table(results / "reliability_after.csv")}
coverage_tables = {"before": load_table(results / "accuracy_coverage_before.csv"),
                   "after": load_table(results / "accuracy_coverage_after.csv")}
purity = load_table(results / "purity_completeness.csv")
ood_table = load_table(results / "out_of_class_scores.csv")
intervals = load_table(results / "redshift_intervals.csv")

glue("ece_before", calibration["ece_before"], display=False)
glue("ece_after", calibration["ece_after"], display=False)
glue("n_cal_test", calibration["n_test_spectra"], display=False)
glue("cal_method", calibration["method"], display=False)
glue("val_ece_temperature", float(calibration["val_half_ece"]["temperature"]), display=False)
glue("val_ece_map", float(calibration["val_half_ece"]["top-label isotonic"]), display=False)
for when in ("before", "after"):
    point = calibration[f"ia_completeness_{when}"]
    glue(f"ia_completeness_{when}", point["completeness"], display=False)
glue("ood_score", score_label(ood["score"]), display=False)
glue("ood_auroc", ood["auroc"], display=False)
glue("ood_auroc_interval", "–".join(f"{x:.3f}" for x in ood["auroc_interval"]), display=False)
glue("ood_auroc_level", f"{ood['auroc_interval_level']:.0%}", display=False)
glue("ood_retain", 100 * ood["retain"], display=False)
glue("ood_in_flagged", 100 * ood["in_flagged_fraction"], display=False)
glue("ood_out_flagged", 100 * ood["out_flagged_fraction"], display=False)
glue("ood_n_out", sum(ood["n_out_of_class_spectra"].values()), display=False)
glue("ood_n_objects", sum(metrics["out_of_class_objects"].values()), display=False)
glue("ood_types", ", ".join(sorted(metrics["out_of_class_objects"])), display=False)
largest = max(metrics["out_of_class_objects"].items(), key=lambda item: item[1])
glue("ood_largest_type", f"{largest[1]} of them {largest[0]}", display=False)
halvings = load_records(halvings_path)
for key, value in sentences.out_of_class_halvings(halvings, ood["auroc"]).items():
    glue(key, value, display=False)
glue("z_level", 100 * interval["level"], display=False)
glue("z_coverage", 100 * interval["coverage"], display=False)
glue("z_coverage_folds", ", ".join(f"{100 * c:.1f}" for c in interval["coverage_by_fold"]),
     display=False)
glue("z_halfwidths", ", ".join(f"{h:.4f}" for h in settings["redshift_interval"]["halfwidths"]),
     display=False)

# %% [markdown]
# ## Probabilities that mean what they say
#
# Two calibration maps are candidates, each fitted on a fold's validation spectra: temperature
# scaling ($p = \mathrm{softmax}(\log p_\mathrm{model} / T)$, $T$ by maximum likelihood) and
# a top-label isotonic map (the top probability replaced by the accuracy validation spectra of
# that confidence reach, the other classes sharing the rest in their old proportions). Neither
# changes which class is most probable. Which one is decided on validation objects alone:
# fitted on half of each fold's validation objects and scored on the other half, the expected
# calibration error is {glue:text}`val_ece_temperature:.3f` with a temperature and
# {glue:text}`val_ece_map:.3f` with the map (mean over folds and both ways round); chosen:
# **{glue:text}`cal_method`**. Over the {glue:text}`n_cal_test` test spectra of all folds the
# ECE (top-label, 15 bins) is {glue:text}`ece_before:.3f` before and {glue:text}`ece_after:.3f`
# after.

# %% tags=["hide-input"]
figures.fig_reliability(reliability_tables, ece={"before": calibration["ece_before"],
                                                 "after": calibration["ece_after"]})

# %% [markdown]
# **Answer only when sure.** Keeping only spectra whose top probability passes a threshold
# trades coverage for accuracy:

# %% tags=["hide-input"]
figures.fig_accuracy_coverage(coverage_tables)

# %% [markdown]
# **SN Ia purity against completeness** (calibrated SN Ia probability as the score). At
# contamination of at most 1 % (purity ≥ 99 %, the operating point automated SN Ia
# classifiers are judged by) the completeness is {glue:text}`ia_completeness_after:.3f`
# ({glue:text}`ia_completeness_before:.3f` before calibration).

# %% tags=["hide-input"]
figures.fig_purity_completeness(purity, calibration["ia_completeness_after"])

# %% [markdown]
# ## "None of the trained classes"
#
# The SNID-SAGE bank holds {glue:text}`ood_n_objects` objects of types the classifier never
# saw ({glue:text}`ood_types`), realised here like the training spectra
# ({glue:text}`ood_n_out` spectra). A stable hash of each object's name puts half of them in a
# set that *chooses* the score (whichever separates them best from the in-class validation
# spectra) and half in a set that *measures* it against the in-class test spectra. Three scores
# read the trained network as it is (maximum softmax probability, energy, Mahalanobis distance
# in its embedding); three more come from an *outlier detector* on the embedding, fitted to
# tell the choosing half from the in-class validation spectra (outlier exposure): a logistic
# regression (linear), a network with one hidden layer, and their mean probability. Their
# choosing-half and validation scores, which choose and set the threshold, come
# from detectors fitted without their object (five folds by object). Chosen: **{glue:text}`ood_score`**, with AUROC
# {glue:text}`ood_auroc:.3f` on the measuring half ({glue:text}`ood_auroc_level` interval over
# resampled objects, in-class and out-of-class alike: {glue:text}`ood_auroc_interval`; the
# measuring half holds a few dozen objects). The threshold keeps
# {glue:text}`ood_retain:.0f` % of in-class validation spectra; on test spectra it flags
# {glue:text}`ood_in_flagged:.1f` % of in-class spectra and {glue:text}`ood_out_flagged:.1f` %
# of out-of-class ones. `ciderlab classify` then says "none of the trained classes" and still
# prints the nearest three.

# %% tags=["hide-input"]
real_figures.fig_out_of_class_scores(ood_table, ood["score"], ood["threshold"])

# %% tags=["hide-input"]
tables.show(tables.table_none_of_these(ood))

# %% [markdown]
# **One halving or many?** The stage halves the objects once. Repeating its choose-then-measure
# exactly (the detector refitted on each choosing half and cross-fitted as here) over
# {glue:text}`halvings_n` halvings of the same objects, the stage's own first
# (`benchmarks/out_of_class_halvings.py`, models of {glue:text}`halvings_commit`), the chosen
# score measures {glue:text}`halvings_chosen` on average; {glue:text}`halvings_stage_rank`.
# The mean, not one halving's number, is what to expect of the procedure. Choosing halves of {glue:text}`halvings_objects` objects (of
# the {glue:text}`ood_n_objects`, {glue:text}`ood_largest_type`) do not reliably rank scores a
# hundredth apart: the three learned detectors are {glue:text}`halvings_learned`; the
# highest mean measuring AUROC is {glue:text}`halvings_best`. Nothing is chosen by these
# measuring AUROCs, which would choose on the objects that measure.

# %% tags=["hide-input"]
tables.show(tables.table_out_of_class_halvings(halvings), precision=3)

# %% [markdown]
# ## Redshift with an interval
#
# Split-conformal intervals: on each fold's validation spectra, the
# {glue:text}`z_level:.0f` % quantile of $|\Delta z|/(1+z)$ in each of three S/N bins is that
# bin's half-width (the shipped model's: {glue:text}`z_halfwidths`, lowest S/N first). On the
# test spectra of every fold the intervals hold the true redshift
# {glue:text}`z_coverage:.1f` % of the time (per fold: {glue:text}`z_coverage_folds`). These
# are intervals for spectra like the realised ones; a real spectrum unlike any of them (the
# "Real spectra" page) can fall outside its interval however narrow.

# %% tags=["hide-input"]
tables.show(tables.table_interval_coverage(intervals))

# %% [markdown]
# **Classifying at a predicted redshift.** When the redshift is the model's own, `classify`
# averages the class probabilities over five redshifts across the interval (weights of a normal
# distribution whose 68 % range is the interval) rather than taking the one point. Measured on
# the fixed fold's *validation* spectra (`benchmarks/redshift_averaging.py`; test objects
# choose nothing), with the catalogue redshift for reference (the latest record; the earlier
# ones, each with its commit, are in `benchmarks/results/redshift_averaging.jsonl`). The one
# point and the average have traded places between classifiers by less than a hundredth;
# `classify` keeps the average, which carries the interval's uncertainty into the answer.

# %% tags=["hide-input"]
tables.show(tables.table_redshift_averaging(load_records(averaging_path)), precision=4)

# %% [markdown]
# ## Summary
#
# Calibration takes the expected calibration error from {glue:text}`ece_before:.3f` to
# {glue:text}`ece_after:.3f`; "none of the trained classes" separates the bank's other types
# with AUROC {glue:text}`ood_auroc:.3f` on the stage's halving of the objects and
# {glue:text}`halvings_chosen` on average over {glue:text}`halvings_n` halvings;
# {glue:text}`z_level:.0f` % redshift intervals cover
# {glue:text}`z_coverage:.1f` % of test spectra. All fitted on validation objects.
