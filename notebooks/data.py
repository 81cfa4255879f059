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
# distributions, and the preprocessing figure. The spectra are the 5,557 real, rest-frame
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
from ciderlab.io import load_arrays, load_json, load_table

results = Path(results_dir)
split_table = load_table(results / "split" / "split.csv")
catalogue = load_table(results / "split" / "catalogue.csv")
class_info = load_json(results / "split" / "classes.json")
meta = load_table(results / "realise" / "meta.csv")
examples = load_arrays(results / "realise" / "examples.npz")

glue("n_objects", len(split_table), display=False)
glue("n_classes", len(class_info["classes"]), display=False)
glue("n_template_spectra", len(meta.drop_duplicates(["template", "epoch"])), display=False)
glue("n_realised", len(meta), display=False)
glue("n_test_objects", int((split_table["split"] == "test").sum()), display=False)

# %% [markdown]
# ## Objects and spectra per class and split
#
# The split is by **object** (all spectra of one supernova land in the same split), stratified
# by class and fixed by a hash of the object name. {glue:text}`n_objects` objects in
# {glue:text}`n_classes` classes give {glue:text}`n_template_spectra` template spectra and
# {glue:text}`n_realised` SEDM-like realisations; {glue:text}`n_test_objects` objects are held
# out for testing.

# %%
tables.show(tables.table_dataset(split_table, meta))

# %% [markdown]
# ## Classes that are not trained, and why
#
# No spectrum is invented for a class the real data lacks. These classes of the paper's nine are
# dropped from training:

# %%
tables.show(tables.table_dropped_classes(class_info["dropped_classes"]))

# %% [markdown]
# Template spectra left out, by reason (types outside the configured classes, known bad data,
# too little wavelength coverage), and the label corrections applied (SPEC §3.1):

# %%
tables.show(tables.table_dropped_templates(catalogue))

# %%
tables.show(tables.table_label_fixes(catalogue))

# %% [markdown]
# ## Distributions of the realised spectra

# %%
figures.fig_distributions(meta)

# %% [markdown]
# ## From template to model input
#
# One template per class walks through the realisation: host light is mixed in, the spectrum
# is degraded to R~100, redshifted onto the SEDM grid, noise is added, and the result is
# re-flattened with the same continuum fit that a real SEDM spectrum would get. The redshift
# model sees the observed-frame input; the classifier sees it de-redshifted onto a fixed rest-frame
# log-wavelength grid.

# %%
figures.fig_preprocessing(examples, "SN Ia")

# %%
figures.fig_preprocessing(examples, "TDE")

# %% [markdown]
# ## Summary
#
# The data set is real spectra of real objects with simulated observing conditions; classes
# without real spectra are reported, not filled. Template spectra from the same object never
# cross the train/test boundary.
