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
# experiment's metrics apart from the committed ones. This page first shows one ablation that
# the pipeline itself runs (so its numbers are rebuilt with everything else), then how to run
# your own.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

from myst_nb import glue

from ciderlab.evaluation import figures, tables
from ciderlab.io import load_json, load_table

results = Path(results_dir)
ablation = load_json(results / "ablation" / "metrics.json")
history = load_table(results / "ablation" / "history.csv")
reference_history = load_table(results / "train_classifier" / "history.csv")
table = tables.table_ablation(ablation)

glue("ablation_name", ablation["name"], display=False)
glue("ablation_seed", ablation["seed"], display=False)
glue("ablation_overrides", str(ablation["overrides"]["train_classifier"]
                               | ablation["overrides"]["model"]), display=False)
glue("reference_macro_f1", ablation["reference"]["macro_f1"], display=False)
glue("ablated_macro_f1", ablation["ablated"]["macro_f1"], display=False)
glue("reference_ia", ablation["reference"]["ia_vs_non_ia"]["accuracy"], display=False)
glue("ablated_ia", ablation["ablated"]["ia_vs_non_ia"]["accuracy"], display=False)

# %% [markdown]
# ## The worked example: {glue:text}`ablation_name`
#
# The `ablation` stage retrains the classifier with seed {glue:text}`ablation_seed` (the
# reference classifier's seed) and the overrides in the `ablation` section of `params.yaml`,
# here {glue:text}`ablation_overrides`, and scores it on the same test spectra as the
# reference classifier. Test macro-F1 went from {glue:text}`reference_macro_f1:.3f` to
# {glue:text}`ablated_macro_f1:.3f`; SN Ia vs non-Ia accuracy from
# {glue:text}`reference_ia:.3f` to {glue:text}`ablated_ia:.3f`. One seed each: compare the
# change with the spread over seeds on the classification page before reading much into it.

# %%
tables.show(table)

# %% tags=["hide-input"]
figures.fig_validation_curves({"reference": reference_history, ablation["name"]: history})

# %% [markdown]
# ## Your own ablation
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
# 2. Run an experiment with one key changed. `train_classifier.seeds=[42]` trains one seed
#    instead of three, a third of the time:
#
#    ```bash
#    dvc exp run -S train_classifier.use_ema=false          # no EMA weights
#    dvc exp run -S train_classifier.use_focal_loss=true    # the authors' focal loss
#    dvc exp run -S train_classifier.edge_mask_max_fraction=0  # no edge masking
#    dvc exp run -S 'model.kernels=[[3,3,3],[3,3,3],[3,3,3],[3,3,3],[3,3,3]]'  # single scale
#    ```
#
#    Switches outside training work the same way, e.g. how much the realism of SPEC §5 costs
#    (noise and host light nearly off; this re-realises the spectra and retrains everything):
#
#    ```bash
#    dvc exp run -S realise.snr_min=50 -S realise.snr_max=100 -S realise.host_fraction_max=0.1
#    ```
#
#    Changing `train_classifier.*` re-runs the classifier stages (`train_classifier`,
#    `leave_one_out`, `ablation`), `evaluate`, `baselines`, the notebooks and the book;
#    `split`, `realise` and `train_redshift` are skipped. To make a different switch the
#    book's worked example, edit the `ablation` section instead: only the `ablation` stage,
#    this page and the book re-run.
#
# 3. Compare:
#
#    ```bash
#    dvc metrics diff          # the workspace (last experiment) against the committed reference
#    dvc exp show              # every experiment, with its parameters and metrics
#    dvc exp apply <name>      # bring one experiment's results (and its book) into the workspace
#    ```
#
# The book in `book/_build/html` always shows the run in the workspace.
