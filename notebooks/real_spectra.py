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
# # Real spectra
#
# **What this measures.** Every other page scores SpectraNet on spectra this project realised
# from the SNID-SAGE template bank. Here the final models meet real observed spectra of
# classified transients, as their instruments' pipelines wrote them: SEDM (the paper's own
# instrument, both the 2016 pipeline and pysedm), other low-resolution spectrographs, SDSS
# quasars and classical novae (`real_spectra/`, with `truth.csv` and a README crediting each
# source). Each file is classified twice, with its catalogue redshift given and with the
# redshift model's own, exactly as `ciderlab classify` answers a user; SNID-SAGE runs on the
# same files under the same two conditions (stages `real_spectra`, `snid_real_spectra`).
# **Nothing is chosen on these spectra**: they are too few, and they are the only honest
# check of how the realised training set transfers.

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"
real_dir = "../real_spectra"
switches_path = "../benchmarks/results/realism_switches.jsonl"
noise_path = "../benchmarks/results/noise_texture.jsonl"

# %% tags=["hide-input"]
# %matplotlib inline
from pathlib import Path

from myst_nb import glue

from ciderlab.evaluation import sentences, tables
from ciderlab.evaluation.figures import real_spectra as figures
from ciderlab.spectranet.real_spectra import redshift_errors
from ciderlab.io import load_arrays, load_json, load_records, load_table

results = Path(results_dir)
metrics = load_json(results / "real_spectra" / "metrics.json")
ours = load_table(results / "real_spectra" / "predictions.csv")
snid = load_table(results / "snid_real_spectra" / "answers.csv")
inputs = load_arrays(results / "real_spectra" / "inputs.npz")
truth = load_table(Path(real_dir) / "truth.csv")
cross_validation = load_json(results / "evaluate" / "metrics.json")["cross_validation"]
realised = load_table(results / "evaluate" / "cross_validation_predictions.csv")
split = load_table(results / "split" / "split.csv")
realised_median_dz = float(redshift_errors(realised).median())

cat, pred = metrics["ours"]["catalogue"], metrics["ours"]["predicted"]
glue("n_files", metrics["n_files"], display=False)
glue("n_unreadable", metrics["n_unreadable"], display=False)
glue("n_classes", len(metrics["classes"]), display=False)
glue("n_instruments", truth["instrument"].str.split(" (", regex=False).str[0].nunique(),
     display=False)
glue("acc_cat", cat["accuracy"], display=False)
glue("acc_pred", pred["accuracy"], display=False)
glue("n_typed", cat["n_typed"], display=False)
glue("median_dz", pred["median_dz"], display=False)
glue("n_catastrophic", pred["n_catastrophic"], display=False)
glue("realised_acc", cross_validation["accuracy"]["mean"], display=False)
glue("realised_median_dz", realised_median_dz, display=False)
untrained = cat["untrained_flagged"]
glue("n_untrained", len(untrained), display=False)
glue("n_untrained_flagged", sum(untrained.values()), display=False)
glue("n_trained_flagged", cat["trained_flagged"], display=False)
realism = metrics["realism_auc"]
glue("realism_auc", realism["flux"]["auc_mean"], display=False)
glue("realism_coverage", realism["coverage_only"]["auc_mean"], display=False)
glue("realism_common", realism.get("flux_common_bins", {}).get("auc_mean", float("nan")),
     display=False)
glue("n_common_bins", realism["n_common_bins"], display=False)
glue("realism_embedding", float(realism["embedding"]["auc_mean"]), display=False)
preprocessing = load_json(results / "compare_preprocessing" / "metrics.json")
by_option = preprocessing["options"]
if all("realism_auc" in v for v in by_option.values()):
    least, most = (min(by_option, key=lambda o: by_option[o]["realism_auc"]),
                   max(by_option, key=lambda o: by_option[o]["realism_auc"]))
    glue("continuum_auc", f"from {by_option[least]['realism_auc']:.2f} ({least}) to "
         f"{by_option[most]['realism_auc']:.2f} ({most})", display=False)
    glue("continuum_chosen", preprocessing["chosen_option"], display=False)
else:
    glue("continuum_auc", "(not measured in this run)", display=False)
    glue("continuum_chosen", preprocessing["best_option"], display=False)
switches = load_records(switches_path)
noise = load_records(noise_path)
rough = metrics["roughness_rest"]
glue("roughness_auc", rough["auc"], display=False)
glue("roughness_real", rough["median_real"], display=False)
glue("roughness_realised", rough["median_realised"], display=False)
noise_table = tables.table_noise_texture(noise)
independent = next(r for r in noise if r["switch"] == "noise_pixel_lnwave=0")
adopted_noise = next(r for r in noise if r["switch"].startswith("none"))
for name, record in (("independent", independent), ("pixel", adopted_noise)):
    glue(f"rough_{name}_sedm", record["roughness_rest_instrument"]["auc"], display=False)
    glue(f"rough_{name}_all", record["roughness_rest"]["auc"], display=False)
scatter = metrics["region_mismatch_obs"]
for name, region in (("blue", "blue end"), ("a", "O2 A"), ("b", "O2 B"), ("middle", "5000-6500")):
    glue(f"scatter_{name}", scatter[region], display=False)
adopted = next(r for r in switches if r["switch"].startswith("none"))
before = next(r for r in switches if r["switch"].endswith("(before)"))
for name, record in (("before", before), ("after", adopted)):
    glue(f"{name}_blue", record["mismatch_obs"]["blue end"], display=False)
    glue(f"{name}_a", record["mismatch_obs"]["O2 A"], display=False)
    glue(f"{name}_auc_rest", record["auc_rest"], display=False)
    glue(f"{name}_auc_obs", record["auc_obs"], display=False)
latest_reference = [r for r in switches if r["switch"].startswith("none")][-1]
glue("b_at", latest_reference["commit"][:7], display=False)
glue("b_scatter_reference", latest_reference["mismatch_obs"]["O2 B"], display=False)
glue("b_scatter_stronger", ", ".join(
    f"{r['mismatch_obs']['O2 B']:.2f} at {r['switch'].split('=')[1]}" for r in switches
    if r["switch"].startswith("continuum.telluric_b_strength")), display=False)
glue("untrained_classes", ", ".join(sorted(set(metrics["classes"])
                                           - set(metrics["trained_classes"]))), display=False)
snid_cat, snid_pred = metrics["snid_sage"]["catalogue"], metrics["snid_sage"]["predicted"]
glue("snid_acc_cat", snid_cat["accuracy"], display=False)
glue("snid_acc_pred", snid_pred["accuracy"], display=False)
glue("snid_median_dz", snid_pred["median_dz"], display=False)
per_class = tables.table_real_per_class(metrics, split)
glue("acc_cat_interval", "–".join(f"{x:.2f}" for x in cat["accuracy_interval"]), display=False)
glue("acc_pred_interval", "–".join(f"{x:.2f}" for x in pred["accuracy_interval"]),
     display=False)
glue("interval_level", f"{cat['interval_level']:.0%}", display=False)
glue("interval_halfwidth", (cat["accuracy_interval"][1] - cat["accuracy_interval"][0]) / 2,
     display=False)
for name, value in sentences.paired_with_snid(metrics, cat["interval_level"]).items():
    glue(name, value, display=False)
for name, value in sentences.real_set_by_training_objects(per_class).items():
    glue(name, value, display=False)

# %% [markdown]
# ## The set
#
# {glue:text}`n_files` files of {glue:text}`n_classes` classes from
# {glue:text}`n_instruments` instruments (by `truth.csv`'s instrument column); every one is read
# by the project's readers ({glue:text}`n_unreadable` refused). Classes outside the trained ones
# ({glue:text}`untrained_classes`) are there to test "none of these".

# %% tags=["hide-input"]
tables.show(truth.groupby("class").agg(files=("file", "size"), objects=("object", "nunique"),
                                       instruments=("instrument", "nunique")).reset_index())

# %% [markdown]
# ## The domain gap at a glance
#
# The same scores on realised test spectra (cross-validated) and on the real files: type
# accuracy with the redshift given ({glue:text}`realised_acc:.2f` against
# {glue:text}`acc_cat:.2f`) and the median redshift error of the redshift model
# ({glue:text}`realised_median_dz:.4f` against {glue:text}`median_dz:.4f`).

# %% tags=["hide-input"]
tables.show(tables.table_domain_gap(metrics, cross_validation, realised_median_dz), precision=3)

# %% [markdown]
# ## SpectraNet and SNID-SAGE on the same files
#
# Type accuracy counts the {glue:text}`n_typed` files of trained classes by their most probable
# class, whether or not "none of these" fired (its false alarms are counted below). With the
# catalogue redshift SpectraNet types
# {glue:text}`acc_cat:.2f` of them, with its own {glue:text}`acc_pred:.2f` (median
# $|\Delta z|/(1+z)$ {glue:text}`median_dz:.4f`, {glue:text}`n_catastrophic` catastrophic
# failures above 0.15). SNID-SAGE: {glue:text}`snid_acc_cat:.2f` and
# {glue:text}`snid_acc_pred:.2f` (median {glue:text}`snid_median_dz:.4f`). SNID-SAGE
# matches against its whole bank and may answer a type outside ours ("other"), which counts as
# wrong; both methods are blind to objects of their own bank (AT2019azh's templates are
# excluded from SNID-SAGE's, and none of these objects is in SpectraNet's training set).
#
# **How far these few files can be trusted.** A rate measured on {glue:text}`n_typed` files
# is uncertain by about ±{glue:text}`interval_halfwidth:.2f`: SpectraNet's accuracy has the
# {glue:text}`interval_level` Wilson interval {glue:text}`acc_cat_interval` with the
# catalogue redshift and {glue:text}`acc_pred_interval` with its own (the table gives every
# row's). Paired on the
# same files (the exact McNemar test, which only the files one method gets right and the
# other wrong inform), catalogue redshift: {glue:text}`paired_catalogue`; own redshift:
# {glue:text}`paired_predicted`.

# %% tags=["hide-input"]
tables.show(tables.table_real_set(metrics), precision=4)

# %% [markdown]
# Per class, beside how many of the class's objects the template bank holds and how many the
# shipped classifier trained on (the fixed fold's training objects; SNID-SAGE matches against
# the whole bank). The classes with the fewest: {glue:text}`fewest_trained`; every other class
# (at least {glue:text}`rest_min_trained` objects trained on): {glue:text}`rest_right`. Even
# on realised spectra the classifier scores lower on objects it never trained on than on
# those it did (page "Classification", "Noise and host light, or the objects?"); a class
# known from a handful of objects meets, in a real file, an object unlike any of them.

# %% tags=["hide-input"]
tables.show(per_class)

# %% tags=["hide-input"]
figures.fig_real_confusion(ours, snid, metrics["trained_classes"])

# %% [markdown]
# ## Redshifts
#
# Signed $\Delta z/(1+z)$ of each method's own redshift against the catalogue's (SpectraNet with
# its redshift interval from the `reliability` stage); the dashed lines are the
# catastrophic-failure limit.

# %% tags=["hide-input"]
figures.fig_real_redshift(ours, snid)

# %% [markdown]
# ## One spectrum per class, as the classifier sees it
#
# The classifier's input (rest frame at the catalogue redshift, continuum removed, normalised)
# and its answer.

# %% tags=["hide-input"]
figures.fig_real_examples(inputs, ours)

# %% [markdown]
# ## "None of these" on real spectra
#
# Of the {glue:text}`n_untrained` files of classes the classifier never trained on,
# {glue:text}`n_untrained_flagged` are flagged "none of the trained classes"; of the files of
# trained classes, {glue:text}`n_trained_flagged` are (false alarms).
#
# ## What tells real from realised
#
# A logistic regression told to separate the classifier's inputs of real files from those of
# realised test spectra reaches a cross-validated AUC of {glue:text}`realism_auc:.2f`
# (0.5: indistinguishable): a label-free measure of how realistic the realisation is, and the
# number to lower when changing the realisation, not the scores on this page. Told only *which
# bins are covered*, it reaches {glue:text}`realism_coverage:.2f`; told the flux on the
# {glue:text}`n_common_bins` bins that every real and nearly every realised input covers,
# {glue:text}`realism_common:.2f`. The realised spectra differ first in what they cover: a real
# spectrum covers the whole SEDM window, a realised one only the rest-frame range its template
# was observed over, which the realisation cannot extend (no spectrum is invented). Told the
# shipped classifier's own embedding of the inputs (the features its last layer reads), it
# reaches {glue:text}`realism_embedding:.2f`: the network sees the real files as apart from the
# realised ones at least as clearly as a linear model on the inputs does.
#
# **The continuum removal moves it most.** Each continuum-removal option of the page
# "Preprocessing" prepares these files and its own realised validation spectra; the realism AUC
# runs {glue:text}`continuum_auc`. A coarse fit leaves each real file's flux calibration and
# host light in the input, which the realised continua do not reproduce. The pipeline uses
# {glue:text}`continuum_chosen`: the most realistic of the options within the folds' spread of
# the best validation score (neither the labels nor the scores on this page take part).
#
# **Where they differ, by wavelength.** In the observed frame, where the instrument and the
# atmosphere leave their marks at fixed wavelengths, the real inputs scatter about the realised
# ones' mean {glue:text}`scatter_blue:.2f` times as much as realised inputs do at the blue end
# (3800-4000 Å), {glue:text}`scatter_a:.2f` times in the atmosphere's O2 A band and
# {glue:text}`scatter_b:.2f` times in its B band, and {glue:text}`scatter_middle:.2f` times at
# 5000-6500 Å (1 = as much; `domain_gap.region_mismatch`).
#
# **One switch at a time** (`benchmarks/realism_switches.py`, records in
# `benchmarks/results/realism_switches.jsonl`): each switch changed alone from the settings
# before the last two were adopted (the row "both switches off (before)"), scored by both realism AUCs (rest
# and observed frame, means over repeated shuffles; the spread over the cross-validation splits
# is ~0.05) and the regional scatter. The noise per detector pixel, the S/N range, the host
# light, the sky level and the instrument response move neither AUC beyond that spread. Two
# switches target what the regional scatter points to, and each lowers it where it aims: noise rising to the blue end
# (`realise.continuum.sky_blue_boost_max`; the SED Machine's spectra of 2016 are noisiest there)
# and the residual O2 bands of an imperfect telluric correction
# (`realise.continuum.telluric_depth_max`). Together (the first row: `params.yaml` as it was
# then, with the coarser continuum removal and independent noise per bin) they take the blue-end scatter from {glue:text}`before_blue:.2f` to
# {glue:text}`after_blue:.2f` and the A band's from {glue:text}`before_a:.2f` to
# {glue:text}`after_a:.2f`, and lower the AUCs from {glue:text}`before_auc_rest:.3f` to
# {glue:text}`after_auc_rest:.3f` (rest frame) and {glue:text}`before_auc_obs:.3f` to
# {glue:text}`after_auc_obs:.3f` (observed), within the splits' spread. The B band's scatter
# rises with the telluric depth. Made deeper relative to the A band
# (`realise.continuum.telluric_b_strength`, 0.4 from the bands' equivalent widths; rows at
# {glue:text}`b_at`, against params.yaml then), it rises further: from
# {glue:text}`b_scatter_reference:.2f` to {glue:text}`b_scatter_stronger`. The excess there is
# not a deeper band: at these files' redshifts (0.03-0.06) Hα falls on it (6563 Å x 1.047 =
# 6872 Å), and the real spectra carry the variety of real Hα profiles. No switch was judged by
# the scores on this page.

# %% tags=["hide-input"]
tables.show(tables.table_realism_switches(switches), precision=3)

# %% [markdown]
# **The noise's texture.** A linear classifier sees where inputs differ on average, not how
# noisy they are. The inputs' bin-to-bin roughness (`domain_gap.roughness`: the RMS difference
# between neighbouring bins) does: as a score for "real" it reaches an AUC of
# {glue:text}`roughness_auc:.2f` against the realised test spectra (0.5: alike; below, real
# inputs are smoother; median roughness {glue:text}`roughness_real:.2f` real,
# {glue:text}`roughness_realised:.2f` realised). The realisation used to draw independent
# noise in every model bin, while an SEDM file's pixels are 0.004 wide in ln λ, two model bins:
# its noise is correlated over a pixel. Drawing the noise per SEDM pixel (`realise.
# noise_pixel_lnwave`, the width read off the SEDM files, not fitted) takes the roughness AUC on
# the SEDM files from {glue:text}`rough_independent_sedm:.2f` to
# {glue:text}`rough_pixel_sedm:.2f` (all files: {glue:text}`rough_independent_all:.2f` to
# {glue:text}`rough_pixel_all:.2f`; the other instruments' spectra are smoother still, their
# finer pixels averaged down to the model's resolution). The table: each pixel width with
# everything else as `params.yaml` (`benchmarks/results/noise_texture.jsonl`). With less
# variance in each bin, the blue end's noise boost measured with independent noise (80) no
# longer matched the real blue ends (scatter 2.65); 320 restores the scatter it was adopted
# for (the rows `continuum.sky_blue_boost_max`).

# %% tags=["hide-input"]
tables.show(noise_table, precision=3)

# %% [markdown]
#
# ## Every file

# %% tags=["hide-input"]
tables.show(tables.table_real_answers(ours, snid), precision=3)
