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
# # SpectraNet beside template matching (SNID-SAGE)
#
# **What this reproduces.** The SpectraNet paper's comparison with template-fitting tools,
# run here on identical spectra: SNID-SAGE 0.9.0 (a maintained Python implementation of the
# SNID cross-correlation method) and SpectraNet classify the same held-out, SEDM-like test
# spectra, and neither is told the redshift: SpectraNet runs end to end (its classifier sees
# the spectrum de-redshifted with its own redshift estimate). SNID-SAGE matches against its
# own template bank **with every template of the test object excluded**, so no spectrum is
# matched against itself. Each method gets what it would get from a telescope: SNID-SAGE the
# observed spectrum with its continuum and noise (it removes the continuum itself), SpectraNet
# the same spectrum through its own preprocessing; SNID-SAGE searches the redshift range the
# spectra were drawn from.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

from myst_nb import glue

from ciderlab.evaluation import figures, tables
from ciderlab.io import load_arrays, load_json, load_table

results = Path(results_dir)
comparison = load_table(results / "baselines" / "comparison.csv")
timing = load_json(results / "baselines" / "timing.json")
spectra = load_arrays(results / "snid_realised_spectra" / "spectra.npz")
classes = load_json(results / "split" / "classes.json")["classes"]
summary = tables.table_method_comparison(comparison, timing)

glue("n_compared", len(comparison), display=False)
glue("snid_rate", timing["snid_sage_spectra_per_second"], display=False)
glue("net_rate", timing["spectranet_spectra_per_second"], display=False)
glue("speedup", timing["spectranet_spectra_per_second"] / timing["snid_sage_spectra_per_second"],
     display=False)
glue("threads", timing["threads_each"], display=False)
glue("snid_timed", timing["snid_sage_timed"], display=False)
glue("net_timed", timing["spectranet_timed"], display=False)

# %% [markdown]
# ## Scores on the same spectra
#
# Both methods see the same {glue:text}`n_compared` test spectra (a class-stratified subset;
# `baselines.n_spectra` in `params.yaml`). SNID-SAGE answers outside our classes (e.g. SLSN, Ibn,
# "II" without a subtype) count as "other". Speed was measured in the same run on the same
# machine, each method on {glue:text}`threads` CPU thread(s): SpectraNet classified and
# redshifted {glue:text}`net_rate:.0f` spectra per second, SNID-SAGE {glue:text}`snid_rate:.3f`
# ({glue:text}`speedup:.0f` times slower). What is timed: SNID-SAGE, {glue:text}`snid_timed`;
# SpectraNet, {glue:text}`net_timed`.

# %%
tables.show(summary, precision=4)

# %%
figures.fig_method_confusion(comparison, classes, timing["other_class"])

# %% [markdown]
# ## Redshift residuals

# %%
figures.fig_method_redshift(comparison)

# %% [markdown]
# ## Where the methods disagree

# %%
figures.fig_disagreements(comparison, spectra)

# %% [markdown]
# ## Literature values (not computed here)
#
# For orientation only: published SN Ia vs non-Ia accuracies of template matchers and DASH on
# 4,646 *real* SEDM spectra (Kim et al. 2024). They are literature values on different data,
# not results of this pipeline.

# %%
tables.show(tables.table_literature())

# %% [markdown]
# ## Summary
#
# The subset is small (SNID-SAGE takes seconds per spectrum), so the scores above carry
# large uncertainties; raise `baselines.n_spectra` for a tighter comparison.
