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
# # The data: real template spectra made SEDM-like
#
# **What this reproduces.** The SpectraNet data-set table (objects and spectra per class and
# split), the classes that cannot be trained and why, the class, redshift, S/N and phase
# distributions, and the folds of the cross-validation. The spectra are the 5,557 real, rest-frame
# SNID-SAGE 0.9.0 templates of 653 objects, read straight from the published wheel; the SEDM
# observing conditions applied to them are *our reconstruction* (see "What is reconstructed").

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

from IPython.display import Markdown
from myst_nb import glue

from ciderlab.evaluation import figures, tables
from ciderlab.io import load_json, load_table

results = Path(results_dir)
split_table = load_table(results / "split" / "split.csv")
catalogue = load_table(results / "split" / "catalogue.csv")
class_info = load_json(results / "split" / "classes.json")
meta = load_table(results / "realise" / "meta.csv")
duplicates = load_table(results / "split" / "duplicates.csv", allow_empty=True)

glue("n_objects", len(split_table), display=False)
glue("n_classes", len(class_info["classes"]), display=False)
glue("n_template_spectra", len(meta.drop_duplicates(["template", "epoch"])), display=False)
glue("n_realised", len(meta), display=False)
glue("n_test_objects", int((split_table["split"] == "test").sum()), display=False)
glue("n_folds", split_table["fold"].nunique(), display=False)
glue("n_duplicates", len(duplicates), display=False)
# Object ids are normalised names: an IAU designation is a year and letters ("2011fe").
survey_named = split_table[~split_table["object_id"].str.match(r"^\d{4}[a-z]")]
glue("n_survey_named", len(survey_named), display=False)
glue("duplicates_sentence",
     "none were found: no spectrum is filed twice under different names" if duplicates.empty
     else f"{len(duplicates)} were merged, listed below", display=False)
Markdown(tables.source_note(meta))

# %% [markdown]
# ## Objects and spectra per class and split
#
# The split is by **object** (all spectra of one supernova land in the same split), stratified
# by class and fixed by a hash of the object name. {glue:text}`n_objects` objects in
# {glue:text}`n_classes` classes give {glue:text}`n_template_spectra` template spectra and
# {glue:text}`n_realised` SEDM-like realisations. Every object is dealt to one of
# {glue:text}`n_folds` cross-validation folds and is a test object in that fold; the table
# shows the fixed fold (the paper's protocol), in which {glue:text}`n_test_objects` objects
# are held out for testing.

# %%
tables.show(tables.table_dataset(split_table, meta))

# %% [markdown]
# Objects per class in each fold:

# %%
tables.show(tables.table_folds(split_table))

# %% [markdown]
# ## One object, two names
#
# {glue:text}`n_survey_named` of the objects carry survey names (PTF, LSQ, ASASSN, PS1, …)
# rather than SN designations. An object filed twice would sit in two splits, so before splitting every pair
# of spectra of different names is compared on their common wavelengths at similar phase
# (`split.duplicate_*` in `params.yaml`): {glue:text}`duplicates_sentence`. Spectra of
# *different* epochs of one supernova cannot be told from a similar supernova this way; only
# the same spectrum filed twice can.

# %%
tables.show(tables.table_duplicates(duplicates))

# %% [markdown]
# ## Classes that are not trained, and why
#
# No spectrum is invented for a class the real data lacks. These classes of the paper's nine are
# dropped from training:

# %%
tables.show(tables.table_dropped_classes(class_info["dropped_classes"]))

# %% [markdown]
# Template spectra left out, by reason (types outside the configured classes, known bad data,
# too little wavelength coverage), and the corrections of the template bank's own type labels
# (`LABEL_FIXES` in `src/ciderlab/data/labels.py`):

# %%
tables.show(tables.table_dropped_templates(catalogue))

# %%
tables.show(tables.table_label_fixes(catalogue))

# %% [markdown]
# ## Distributions of the realised spectra

# %%
figures.fig_distributions(meta)

# %% [markdown]
# How a template becomes a model input, and how the continuum is removed, is on the next
# page, "Preprocessing".

# %% [markdown]
# ## Summary
#
# The data set is real spectra of real objects with simulated observing conditions; classes
# without real spectra are reported, not filled. Template spectra from the same object never
# cross the train/test boundary.
