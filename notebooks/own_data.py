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
# # Your own data
#
# The pipeline trains on its embedded stand-ins: the SNID-SAGE template bank realised as
# SEDM-like spectra, and a few hundred real ZTF alerts labelled by their SIMBAD cross-match.
# The people these papers come from hold the real thing: SEDM spectra and classifications on
# Fritz, the Bright Transient Survey's labels, nightly ZTF alerts. This page shows the three
# ways in (the README's "For your own data" has the same commands), then one catalogue run
# and what `ciderlab classify-alerts` prints for real alert packets.
#
# **A folder of spectra with a classification table** (a WISeREP or TNS download, your own
# reductions): a CSV beside the files, one row per spectrum, with the columns `file`, `object`,
# `class`, `redshift` (optional `phase`, `instrument`). The class takes the type strings TNS and
# WISeREP write (`SN Ia-91T-like`, `SN Ic-BL`, `TDE-H-He`, `SN II`, ...), mapped to the
# classes in one place (`ciderlab.data.labels.class_of_type_string`); a type outside them is
# listed, never guessed.
#
# ```bash
# # each file at its own redshift:
# ciderlab classify --catalogue own_data/spectra/catalogue.csv
# dvc exp run -S catalogue_cv.folder=own_data/spectra \
#             -S catalogue_cv.csv=catalogue.csv catalogue_cv
# ```
#
# The `catalogue_cv` stage cross-validates the classifier on the catalogue, from scratch and
# fine-tuned (below). To train **the whole pipeline** on it instead of the template bank, make
# the folder the spectra source: `split` divides its objects into folds and `realise` prepares
# each spectrum as `classify` does, as observed (the only version scored) and varied for
# training (`augment` in `params.yaml`); every later stage and this book then run unchanged.
#
# ```bash
# dvc exp run -S spectra.source=own_data/spectra -S spectra.csv=catalogue.csv
# ```
#
# **A Fritz pull** writes such a catalogue itself (the token comes from `$FRITZ_TOKEN`):
#
# ```bash
# ciderlab pull fritz --objects ztf_ids.txt --out own_data/fritz --catalogue
# ```
#
# **A night of ZTF alerts with Bright Transient Survey labels**: pull the night, put the BTS
# table (its explorer's CSV: `ZTFID, ..., type, redshift, ...`) in the night's folder, and
# point the `alerts` stage at both; `train_multimodal` then cross-validates AppleCiDEr on the
# paper's groups (SN I, SN II, CV, AGN, TDE).
#
# ```bash
# ciderlab pull ztf-alerts --night 20210601 --out own_data/night
# cp bts.csv own_data/night/
# dvc exp run -S alerts.source=own_data/night \
#             -S alerts.labels=own_data/night/bts.csv train_multimodal
# # Avro packets (or a night's tarball, or Parquet):
# ciderlab classify-alerts own_data/packets/*.avro
# ```

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"
alert_archive = "../data/raw/fink-science-7.4.0.tar.gz"

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

from myst_nb import glue

from ciderlab.evaluation import figures, tables
from ciderlab.evaluation.metrics import label_confusion_matrix
from ciderlab.io import load_json, load_table

results = Path(results_dir)
metrics = load_json(results / "catalogue_cv" / "metrics.json")
predictions = load_table(results / "catalogue_cv" / "predictions.csv")
skipped = load_table(results / "catalogue_cv" / "skipped.csv")
starts = metrics["starts"]
as_trained, scratch, tuned = (starts[s] for s in starts)
glue("n_spectra", metrics["n_spectra"], display=False)
glue("n_objects", metrics["n_objects"], display=False)
glue("n_classes", len(metrics["classes"]), display=False)
glue("n_folds", metrics["n_folds"], display=False)
glue("n_skipped", metrics["n_skipped"], display=False)
glue("acc_as_trained", f"{as_trained['accuracy']:.2f}", display=False)
glue("acc_scratch", f"{scratch['accuracy']:.2f}", display=False)
glue("acc_tuned", f"{tuned['accuracy']:.2f}", display=False)
glue("f1_as_trained", f"{as_trained['macro_f1']:.2f}", display=False)
glue("f1_scratch", f"{scratch['macro_f1']:.2f}", display=False)
glue("f1_tuned", f"{tuned['macro_f1']:.2f}", display=False)

# %% [markdown]
# ## A catalogue run: the real-spectra set as a catalogue
#
# The `catalogue_cv` stage takes a catalogue (here `real_spectra/truth.csv`, the set the
# page "Real spectra" scores the main models on) and cross-validates SpectraNet's classifier
# over its objects, {glue:text}`n_folds` folds grouped by object and stratified by class:
# {glue:text}`n_spectra` spectra of {glue:text}`n_objects` objects in {glue:text}`n_classes`
# classes ({glue:text}`n_skipped` rows left out, listed below). The network starts twice, with
# the same recipe, folds and seed: **from scratch**, and **fine-tuned** from the
# template-trained classifier (its weights, the output rows of the classes both share, new rows
# for the others). Training sees each spectrum as observed and varied the way realised spectra
# vary (instrument response, extra noise, a redshift jittered within the catalogue's error, edge
# masks); only the spectrum as observed is scored. The first row is the reference: the
# template-trained classifier as it is, on the same test spectra.
#
# On these spectra, training from scratch reaches accuracy {glue:text}`acc_scratch`
# (macro-F1 {glue:text}`f1_scratch`) and fine-tuning {glue:text}`acc_tuned` (macro-F1
# {glue:text}`f1_tuned`), against {glue:text}`acc_as_trained` ({glue:text}`f1_as_trained`) for
# the classifier as trained on the templates. The recipe is `train_classifier`'s with the
# overrides in `catalogue_cv.recipe`, chosen before any of these scores were seen and never
# changed for them. These models are kept apart (`results/catalogue_cv/models`, one checkpoint per
# start and fold, each one `ciderlab classify --classifier` reads): the main models never see
# these spectra, which stay the honest check of the page "Real spectra". With a catalogue of a
# few hundred spectra per class, the same stage is the papers' own-data path.

# %%
tables.show(tables.table_catalogue_starts(metrics), precision=2)

# %%
tables.show(tables.table_catalogue_classes(metrics, predictions), precision=2)

# %% tags=["hide-input"]
fine_tuned = predictions[predictions["start"] == "fine-tuned"]
figures.fig_confusion_matrix(
    label_confusion_matrix(fine_tuned["true"], fine_tuned["predicted"], metrics["classes"]),
    metrics["classes"], title="fine-tuned, every object tested once")

# %% [markdown]
# Rows of the catalogue left out, each with its reason:

# %%
tables.show(skipped)

# %% [markdown]
# ## Classifying alerts
#
# `ciderlab classify-alerts` reads ZTF alert packets (Avro files as ZTF writes them, a nightly
# archive tarball, Parquet like the snapshot's, or folders of them), refuses a bad packet with
# its reason (a truncated file, missing cutouts, a packet stripped of its history, an unknown
# schema version) and answers per object at its latest alert: each trained mode's class
# probabilities (the mean of its cross-validation fold models) and the fused `ztf` mode's
# answer. Here, what it prints for the first three objects of the snapshot's `alerts.parquet`
# (real packets, not labelled by SIMBAD) with the models `train_multimodal` saved:

# %% tags=["hide-input"]
from ciderlab.applecider.alerts.archive import iter_packets, read_archive_alerts
from ciderlab.applecider.alerts.packet_files import packet_problem
from ciderlab.applecider.classify_alerts import classify_packets, format_alert_answers
from ciderlab.applecider.ensemble import load_alert_models

models = load_alert_models(results / "train_multimodal" / "models")
packets = [p for p in iter_packets(read_archive_alerts(alert_archive, ["alerts.parquet"]))
           if packet_problem(p) is None]
first = sorted({p["objectId"] for p in packets})[:3]
print(format_alert_answers(classify_packets([p for p in packets if p["objectId"] in first],
                                            models)))
