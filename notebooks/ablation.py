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
# # Running an ablation
#
# Every switch of the training recipe is a key in `params.yaml`, so an ablation is one
# command. DVC re-runs only the stages that depend on the key you change and keeps each
# experiment's metrics apart from the committed ones. This page first shows the ablations that
# the pipeline itself runs (their numbers are rebuilt with everything else), then how to run
# your own.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

from myst_nb import glue

from ciderlab.evaluation import figures, tables
from ciderlab.io import load_json

results = Path(results_dir)
ablation = load_json(results / "ablation" / "metrics.json")
variants = ablation["variants"]
glue("n_variants", len(variants), display=False)
glue("n_folds", ablation["reference"]["n_folds"], display=False)
def overrides(variant: dict) -> str:
    changed = variant["overrides"]["train_classifier"] | variant["overrides"]["model"]
    return ", ".join(f"{key}: {str(value).lower() if isinstance(value, bool) else value}"
                     for key, value in changed.items())


glue("variant_changes", "; ".join(
    f"{name} ({overrides(variant)}): "
    f"macro-F1 {tables.mean_std(variant['difference']['macro_f1'])}, SN Ia vs non-Ia accuracy "
    f"{tables.mean_std(variant['difference']['ia_vs_non_ia_accuracy'])}"
    for name, variant in variants.items()), display=False)

# %% [markdown]
# ## The variants in `params.yaml`
#
# The `ablation` stage trains every variant under `ablation.variants` in `params.yaml` (here
# {glue:text}`n_variants`; each a name and its overrides of `train_classifier` and `model`)
# over all {glue:text}`n_folds` cross-validation folds, exactly as `cross_validate_classifier`
# trains the reference, and scores it on the same test spectra. Each change is the difference
# from the reference **fold by fold**, with the spread of those differences: the folds share
# which objects are hard, so pairing them shows a change that the spread of either score
# would hide. Changes against the reference (mean ± std over folds): {glue:text}`variant_changes`.

# %%
tables.show(tables.table_ablation(ablation))

# %% tags=["hide-input"]
figures.fig_paired_differences(ablation)

# %% [markdown]
# ## Your own ablation
#
# **A variant on this page.** Add three lines under `ablation.variants` in `params.yaml` and
# rebuild; only the `ablation` stage, this page and the book run again. The variants already
# trained are not trained again (their fold models are kept in `results/ablation/models/` and
# reused when their recipe, data and folds are unchanged), so a new variant costs one
# cross-validation of the classifier:
#
# ```yaml
# ablation:
#   variants:
#     the authors' focal loss instead of cross-entropy:
#       train_classifier: {use_focal_loss: true}
#     no EMA weights:
#       train_classifier: {use_ema: false}
# ```
#
# ```bash
# dvc repro
# ```
#
# **A one-off experiment** that changes the pipeline itself (every stage that reads the key
# runs again; the reference results stay in git):
#
# 1. Build the reference once and commit its record (`dvc.lock` says which inputs,
#    parameters and code produced which outputs):
#
#    ```bash
#    make
#    git add dvc.lock && git commit -m "reference run"
#    source .venv/bin/activate
#    ```
#
# 2. Run an experiment with one key changed:
#
#    ```bash
#    dvc exp run -S train_classifier.use_ema=false
#    ```
#
#    Switches outside training work the same way, e.g. how much the host galaxy's light
#    costs (none at all; this re-realises the spectra and retrains everything):
#
#    ```bash
#    dvc exp run -S realise.host_fraction_max=0.0
#    ```
#
# 3. Compare, and get the reference back:
#
#    ```bash
#    dvc metrics diff          # the workspace (last experiment) against the committed reference
#    dvc exp show              # every experiment, with its parameters and metrics
#    dvc exp apply <name>      # bring one experiment's results (and its book) into the workspace
#    git checkout dvc.lock params.yaml && dvc checkout   # the reference results and book again
#    ```
#
# The book in `book/_build/html` always shows the run in the workspace.
