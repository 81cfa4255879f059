"""The book's "What is reconstructed" table: our choice for each unknown of the paper, with
every number read from the resolved ``params.yaml`` (never typed into the prose)."""

from __future__ import annotations

import math

import pandas as pd


def table_reconstruction(params: dict, paper: dict, n_options: int) -> pd.DataFrame:
    """One row per reconstructed part: what we do and why.

    Parameters
    ----------
    params : the resolved default profile (``params.resolve_params``)
    paper : the resolved paper profile (its grid and the authors' recipe)
    n_options : continuum-removal options the ``compare_preprocessing`` stage measured
    """
    realise, prep, labels = params["realise"], params["preprocess"], params["labels"]
    split, rel = params["split"], params["reliability"]
    clf, z = params["train_classifier"], params["train_redshift"]
    authors = paper["train_classifier"]
    sn_t, tde_t = (realise["continuum"][key] for key in ("sn_temperature_k", "tde_temperature_k"))
    grid = params["grid"]
    elements = math.log(grid["obs_wave_max_aa"] / grid["obs_wave_min_aa"]) / prep["fwhm_lnwave"]
    continuum = prep["continuum"] + (f" (knots every {prep['knot_spacing_lnwave']} in ln λ)"
                                     if prep["continuum"] == "spline" else "")

    def budget(section: dict) -> str:
        return (f"{section['max_epochs']} epochs of {section['samples_per_epoch']:,} spectra, "
                f"lr {section['lr']:g}, batch {section['batch_size']}")

    rows = [
        ("spectra", "real SNID-SAGE templates (rest frame, flattened), realised as SEDM-like "
         "observations", "the SEDM training set is not public"),
        ("redshift", f"uniform in {realise['redshift_min']}–{realise['redshift_max']}",
         "the SEDM / Bright Transient Survey range"),
        ("continuum", "each realisation gets a random smooth SED: a supernova blackbody of "
         f"{sn_t[1]:,} K before maximum cooling to {sn_t[0]:,} K, TDE "
         f"{tde_t[0]:,}–{tde_t[1]:,} K, AGN a power law; host and Milky Way reddening (CCM89) "
         "and a smooth instrument response",
         "the templates' continua are removed; real spectra have them, and continuum removal "
         "must meet them in training"),
        ("host light", "a SNID galaxy template on a redder blackbody, a uniform random "
         f"fraction of the light up to {realise['host_fraction_max']}",
         "the templates' own host continua are not recoverable"),
        ("resolution", f"Gaussian of FWHM {prep['fwhm_lnwave']} in ln λ "
         f"(R ≈ {1 / prep['fwhm_lnwave']:.0f})", "SEDM's resolving power"),
        ("noise", "Gaussian, following the flux plus a sky term rising to the red; median S/N "
         f"per resolution element log-uniform in {realise['snr_min']:g}–{realise['snr_max']:g}",
         "SEDM-like; per resolution element so it does not depend on the grid"),
        ("continuum removal", f"{continuum}, chosen on validation objects among {n_options} "
         "options (page \"Preprocessing\"); the same code prepares real input",
         "the paper's normalisation is not public"),
        ("grid", f"{params['grid']['n_bins']} log-λ bins (paper profile: "
         f"{paper['grid']['n_bins']})", f"at R ≈ {1 / prep['fwhm_lnwave']:.0f} the SEDM range "
         f"holds ~{elements:.0f} resolution elements"),
        ("classes", f"the paper's {len(labels['classes'])}; a class with fewer than "
         f"{labels['min_objects']} real objects is dropped",
         "no spectrum is ever invented"),
        ("split", f"by object, stratified by class, fixed by a hash of the name: "
         f"{split['n_folds']} cross-validation folds (every object tested once); fold "
         f"{split['fixed_fold']} is the fixed split of the paper's seed protocol; "
         f"{split['val_fraction']:.0%} of each fold's other objects validate (early stopping "
         "and every choice below)", "the paper's split sizes are unknown"),
        ("duplicate names", "spectra of two names correlating above "
         f"{split['duplicate_min_correlation']} at the same phase are one object",
         "survey and IAU names are not cross-matched in the bank"),
        ("training budget", f"classifier: {budget(clf)}; redshift model: {budget(z)} "
         f"(authors' code: up to {authors['max_epochs']} epochs, lr {authors['lr']:g}, batch "
         f"{authors['batch_size']})", "every model trains on two CPU cores within the main "
         "command; each choice is measured on validation objects (table below)"),
        ("rare classes in training", "extra realisations until each class has "
         f"{realise['min_realisations_per_class']:,}; only the first "
         f"{realise['n_realisations']} of each spectrum are ever scored",
         "the classes hold very different numbers of spectra (page \"Data\")"),
        (", ".join(labels["separate_classes"]) or "separate classes",
         "trained and predicted, but reported on their own line, outside every headline score",
         "too few objects to score a class by (page \"Classification\")"),
        ("calibration, \"none of these\", redshift intervals",
         "per fold, temperature scaling or a top-label isotonic map, whichever calibrates "
         "held-out validation objects better; the out-of-class score (logits, Gaussians or "
         "outlier detectors on the embedding) chosen on half of the bank's other types, "
         f"threshold keeping {rel['ood_retain']:.0%} of validation spectra; "
         f"split-conformal {rel['interval_level']:.0%} intervals in {rel['interval_snr_bins']} "
         "S/N bins; all fitted on validation objects (page \"How far an answer can be "
         "trusted\")", "the papers report point answers only"),
        ("real spectra", "public spectra with published classifications in `real_spectra/`, "
         "scored, their labels never used to choose anything; their spectra, label-free, "
         "measure the realism (page \"Real spectra\")",
         "the paper's SEDM test set is not public"),
    ]
    return pd.DataFrame(rows, columns=["what", "our reconstruction", "why"]).set_index("what")
