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
# # Performance
#
# How fast the pieces run. Absolute times on shared machines drift, so speeds are measured
# against each other in the same run (ratios), and every figure on this page is a record in
# `benchmarks/results/timings.jsonl`, written down with the commit and machine it was measured
# on (the README's "Measured" table is written from the same records).
# `benchmarks/bench_spectranet.py --quick` measures SpectraNet on your machine in a few
# minutes.
#
# **SpectraNet's long kernels through the FFT.** The paper's network convolves with kernels up
# to {glue:text}`longest_kernel` taps. Through the FFT (one transform of a stage's input shared
# by its long branches, per-frequency products, one inverse transform) the long kernels cost a
# fraction of the direct convolution, with identical results up to float32 rounding and the
# same weights (`model.conv: fft` or `direct`; a branch goes through the FFT when its kernel is
# at least `model.fft_min_kernel` taps: {glue:text}`fft_min_paper` for the paper profile,
# {glue:text}`fft_min_default` for the default one, each chosen by measurement). Tests check
# outputs and gradients of both paths against each other on both profiles.
#
# **Two models side by side.** Cross-validation trains its folds in `cross_validate.workers`
# processes of one torch thread each, and the preprocessing comparison its options likewise
# (`ciderlab.workers.fork_map` forks the workers so that they share the realised spectra
# instead of copying them). A test checks that a fold's result is the same side by side as
# with one thread in turn.
#
# **Several GPUs, larger-than-memory data.** Training runs under `torchrun` with
# DistributedDataParallel (one process per GPU, each taking its share of every batch; a test
# checks two CPU processes over gloo against one). `realise` spreads its work over
# `realise.workers` processes with byte-identical output, and the stages memory-map the
# realised spectra and read one batch at a time. The README's "GPUs, several GPUs, and sharing
# results" section has the commands.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"  # unused: this page reads records, not results
params_path = "../params.yaml"
timings_path = "../benchmarks/results/timings.jsonl"

# %% tags=["hide-input"]
import pandas as pd
from myst_nb import glue

from ciderlab.evaluation import tables
from ciderlab.io import load_records
from ciderlab.params import load_params

default = load_params(params_path, profile="default")
paper = load_params(params_path, profile="paper")
glue("longest_kernel", f"{max(max(k) for k in paper['model']['kernels']):,}", display=False)
glue("fft_min_paper", paper["model"]["fft_min_kernel"], display=False)
glue("fft_min_default", default["model"]["fft_min_kernel"], display=False)

# %% [markdown]
# ## The records

# %% tags=["hide-input"]
# Code spans are written in backticks in the records (the README renders them); a table
# cell here shows text as it is, so they go.
tables.show(pd.DataFrame(load_records(timings_path)).replace("`", "", regex=True))
