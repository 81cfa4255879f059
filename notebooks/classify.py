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
# # Classify your own spectra
#
# **What this reproduces.** Not a paper figure: the use the paper's models are for. One held-out
# realised test spectrum of each class, as a telescope would deliver it (the observation with
# its continuum and noise, `flux_raw_obs`), is written as an SEDM-style ASCII file, a FITS file
# with a log-lambda WCS and a SkyPortal/Fritz JSON download, and classified by the same library
# call `ciderlab classify` makes (`ciderlab.spectranet.classify.classify_file`): the redshift model's
# estimate, then the classifier on the spectrum de-redshifted with it. The table compares the
# answers with the truth, and shows that the three file formats give the same answer.
#
# On the command line the same is
#
# ```bash
# ciderlab classify my_spectra/*.txt my_spectra/*.fits --csv --out answers.csv --plot plots/
# ```
#
# which reads SEDM/Fritz ASCII, plain 2-3 column ASCII, 1-D FITS (linear or log-lambda WCS,
# IRAF multispec, tables), ECSV and SkyPortal JSON; `--redshift Z` uses a known redshift.
# Each answer carries warnings where the spectrum lies outside what the models saw in
# training (coverage of the 3800-9200 AA window, resolution, redshift, S/N).

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"
params_path = "../params.yaml"

# %% tags=["hide-input"]
# %matplotlib inline
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ciderlab.spectranet.answer import classifications_table
from ciderlab.spectranet.classify import classify_file
from ciderlab.spectranet.shipped import load_models
from ciderlab.evaluation import figures
from ciderlab.evaluation.tables import show
from ciderlab.io import load_spectra
from ciderlab.params import load_params
from ciderlab.spectra.readers.writers import (save_log_wcs_fits, save_sedm_ascii,
                                              save_skyportal_json)

results = Path(results_dir)
params = load_params(params_path)
# The training domain (the redshift range a warning is given outside of) is the realise section's.
models = load_models(results / "train_classifier" / "classifier.pt",
                     results / "train_redshift" / "redshift.pt", {"realise": params["realise"]})
spectra = load_spectra(results / "realise" / "spectra.h5")
meta = spectra.meta
test = meta[(meta["split"] == "test") & (meta["realisation"] == 0)]
chosen = test.groupby("label", sort=True).head(1)

# %% [markdown]
# ## One test spectrum of each class, in three file formats

# %% tags=["hide-input"]
folder = Path(tempfile.mkdtemp(prefix="ciderlab-classify-"))
files, truth = [], []
for row, item in chosen.iterrows():
    covered = np.asarray(spectra.covered_obs[row])
    wave_aa = spectra.wave_obs_aa[covered]
    flux = np.asarray(spectra.flux_raw_obs[row], dtype=np.float64)[covered]
    stem = f"{item['object_id']}_{item['label'].replace(' ', '')}"
    save_sedm_ascii(folder / f"{stem}.txt", wave_aa, flux,
                    header={"SOURCE": item["object_id"], "INSTRUMENT": "SEDM-like (realised)"})
    save_log_wcs_fits(folder / f"{stem}.fits", wave_aa, flux)
    save_skyportal_json(folder / f"{stem}.json", wave_aa, flux, obj_id=item["object_id"])
    for suffix in (".txt", ".fits", ".json"):
        files.append(folder / f"{stem}{suffix}")
        truth.append({"true_class": item["label"], "true_redshift": item["redshift"],
                      "snr": item["snr"]})

answers = {path.name: classify_file(path, models)[1] for path in files}
table = pd.concat([classifications_table(answers), pd.DataFrame(truth)], axis=1)

# %% [markdown]
# ## Answers against the truth
#
# `p_1` is the top class's probability; `redshift` the redshift model's estimate. Each
# spectrum appears three times, once per file format: the rows agree.

# %%
show(table[["file", "true_class", "class_1", "p_1", "class_2", "p_2", "class_3", "p_3",
            "true_redshift", "redshift", "warnings"]], precision=3)

# %% [markdown]
# ## What `--plot` draws for one file
#
# The spectrum as read (the shaded band is the model's observed window), the classifier's input
# (continuum removed, de-redshifted, normalised), and every class's probability.

# %%
first = files[0]
spectrum, answer = classify_file(first, models)
figures.fig_classified_spectrum(spectrum.wave_aa, spectrum.flux, answer, first.name)

# %% [markdown]
# ## Summary
#
# A spectrum file from SEDM, Fritz/SkyPortal or any 1-D FITS/ASCII reduction goes through the
# same preprocessing as the training spectra, so the models see it exactly as they saw the
# realised test set. The agreement of the three formats checks the readers; the agreement with
# the truth is the end-to-end score of the Redshift chapter, here for one spectrum per class.
