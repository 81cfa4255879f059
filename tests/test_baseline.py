from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dataclasses

import torch

from ciderlab.spectranet.snid import compare
from ciderlab.spectranet.snid.compare import (N_THREADS, compare_with_snid_sage, run_spectranet,
                                              score_comparison, snid_inputs,
                                              snid_on_test_subset, torch_threads)
from ciderlab.spectranet.snid.snid_input import rebuild_flat_observation, write_spectrum_file
from ciderlab.spectranet.snid.snid_output import parse_snid_output, snid_type_to_class
from ciderlab.spectranet.snid.install import install_snid_sage, templates_of_objects
from ciderlab.spectranet.snid.snid_sage import run_snid_sage
from ciderlab.spectranet.snid.subset import select_baseline_subset
from ciderlab.data.labels import EXTENDED_CLASSES
from ciderlab.spectranet.templates import TemplateBank, TemplateSpectrum, load_template_bank
from ciderlab.spectra.grid import make_log_grid
from ciderlab.spectra.preprocess import normalise_spectrum, remove_continuum
from ciderlab.spectranet.realise import realise_spectra
from conftest import SMALL_REALISE_CONFIG

REAL_WHEEL = Path(__file__).resolve().parents[1] / "data/raw/snid_sage-0.9.0-py3-none-any.whl"


# --- which spectra ------------------------------------------------------------------------------

def toy_meta() -> pd.DataFrame:
    """SN Ia: 5 objects x 3 epochs x 2 realisations; SN Ic: 2 x 2 x 2; TDE: 1 x 1 x 2; + train."""
    rows = []
    for label, n_objects, n_epochs, split in [("SN Ia", 5, 3, "test"), ("SN Ic", 2, 2, "test"),
                                               ("TDE", 1, 1, "test"), ("SN Ib", 4, 4, "train")]:
        for o in range(n_objects):
            for epoch in range(n_epochs):
                for r in range(2):
                    name = f"{label[-2:].strip()}obj{o}"
                    rows.append({"object_id": name.lower(), "template": name, "epoch": epoch,
                                 "label": label, "split": split, "realisation": r,
                                 "redshift": 0.01 * (o + 1)})
    return pd.DataFrame(rows)


def test_subset_is_class_balanced_and_spreads_over_objects_and_spectra():
    meta = toy_meta()
    subset = select_baseline_subset(meta, n_spectra=12, seed=3)
    assert set(subset["split"]) == {"test"}
    # TDE has only 2 rows; the other classes share what it cannot take
    assert subset["label"].value_counts().to_dict() == {"SN Ia": 5, "SN Ic": 5, "TDE": 2}
    ia = subset[subset["label"] == "SN Ia"]
    assert ia["object_id"].nunique() == 5  # one spectrum of each object before a second one
    ic = subset[subset["label"] == "SN Ic"]
    # all 4 Ic template spectra are used once before any is used twice
    assert ic.groupby(["template", "epoch"]).size().sort_values().tolist() == [1, 1, 1, 2]
    pd.testing.assert_frame_equal(subset, meta.loc[subset.index])  # rows and index kept


def test_subset_is_deterministic_and_independent_of_row_order():
    meta = toy_meta()
    first = select_baseline_subset(meta, n_spectra=9, seed=7)
    shuffled = meta.sample(frac=1.0, random_state=0)
    again = select_baseline_subset(shuffled, n_spectra=9, seed=7)
    assert sorted(first.index) == sorted(again.index)
    others = [set(select_baseline_subset(meta, n_spectra=9, seed=s).index) for s in range(5)]
    assert len({frozenset(o) for o in others}) > 1  # the seed matters


def test_subset_takes_all_test_rows_when_asked_for_more_and_rejects_bad_requests():
    meta = toy_meta()
    assert len(select_baseline_subset(meta, n_spectra=10_000, seed=0)) == 30 + 8 + 2
    with pytest.raises(ValueError, match="at least 1"):
        select_baseline_subset(meta, n_spectra=0, seed=0)
    with pytest.raises(ValueError, match="no rows with split == 'test'"):
        select_baseline_subset(meta[meta["split"] == "train"], n_spectra=5, seed=0)


# --- classes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("sn_type, subtype, expected", [
    ("Ia", "Ia-norm", "SN Ia"), ("Ia", "Ia-91bg", "SN Ia"), ("II", "IIL", "SN IIP"),
    ("II", "IIn-pec", "SN IIn"), ("Ic", "Ic-broad", "SN Ic"), ("TDE", "TDE-H-He", "TDE"),
    ("AGN", "QSO", "AGN"),
    ("Ia", "", "SN Ia"), ("Ic", "Unknown", "SN Ic"),  # no subtype: the type decides if it can
    ("II", "", "other"), ("II", "II-pec", "other"),  # II alone could be IIP, IIb or IIn
    ("SLSN", "SLSN-I", "other"), ("Galaxy", "Gal-E", "other"), ("Ibn", "Ibn", "other"),
])
def test_snid_answers_map_onto_our_classes(sn_type, subtype, expected):
    assert snid_type_to_class(sn_type, subtype) == expected


def test_extended_taxonomy_keeps_superluminous_supernovae():
    assert snid_type_to_class("SLSN", "SLSN-I", EXTENDED_CLASSES) == "SLSN-I"
    assert snid_type_to_class("SLSN", "", EXTENDED_CLASSES) == "SLSN-I"


def test_exclusions_cover_every_template_name_of_the_object():
    names = ["sn1994D", "SN2011fe_bsnip", "sn2011fe", "at2018dyb"]
    assert templates_of_objects(["2011fe", "2018dyb", "nobody"], names) == [
        ["SN2011fe_bsnip", "sn2011fe"], ["at2018dyb"], []]


# --- input --------------------------------------------------------------------------------------

def test_spectrum_file_holds_continuum_normalised_flux_on_covered_bins_only(tmp_path):
    wave = make_log_grid(3800, 9200, 20)
    flux = np.zeros(20)
    flux[5:15] = np.linspace(-0.4, 0.4, 10)  # one bin is exactly 0 inside the coverage
    covered = np.zeros(20, bool)
    covered[4:16] = True  # covered bins at the ends may hold 0 too
    write_spectrum_file(tmp_path / "s.dat", wave, flux, covered)
    table = np.loadtxt(tmp_path / "s.dat")
    np.testing.assert_allclose(table[:, 0], wave[covered], rtol=1e-7)
    np.testing.assert_allclose(table[:, 1], 1.0 + flux[covered], atol=1e-6)
    # without a mask, the coverage runs from the first to the last non-zero bin
    write_spectrum_file(tmp_path / "t.dat", wave, flux)
    assert len(np.loadtxt(tmp_path / "t.dat")) == 10


def test_spectrum_file_holds_observed_flux_as_it_is(tmp_path):
    wave = make_log_grid(3800, 9200, 20)
    flux = np.linspace(2.0, 5.0, 20)  # a continuum: SNID-SAGE removes it itself
    covered = np.zeros(20, bool)
    covered[3:17] = True
    write_spectrum_file(tmp_path / "raw.dat", wave, flux, covered, flattened=False)
    np.testing.assert_allclose(np.loadtxt(tmp_path / "raw.dat")[:, 1], flux[covered], atol=1e-6)


def test_spectrum_file_rejects_what_snid_sage_would_misread(tmp_path):
    wave = make_log_grid(3800, 9200, 20)
    bad = np.full(20, 0.1)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        write_spectrum_file(tmp_path / "s.dat", wave, bad, np.ones(20, bool))
    with pytest.raises(ValueError, match="differ"):
        write_spectrum_file(tmp_path / "s.dat", wave[:10], np.full(20, 0.1))
    assert not (tmp_path / "s.dat").exists()


CFG = SMALL_REALISE_CONFIG  # shared with the other tests (conftest.py)
WAVE_BANK = make_log_grid(2501.7, 9993.2, 1024)


def toy_template(name: str, centre_aa: float) -> TemplateSpectrum:
    flux = -0.5 * np.exp(-0.5 * ((WAVE_BANK - centre_aa) / 80.0) ** 2) + 0.02 * np.sin(WAVE_BANK / 50)
    flux[(WAVE_BANK < 3300) | (WAVE_BANK > 8800)] = 0.0
    return TemplateSpectrum(name, 0, "Ia", "Ia-norm", 0.0, flux)


def toy_realised():
    """Two toy SN Ia objects realised twice each, with the bank they came from."""
    templates = [toy_template("sn1", 6150.0), toy_template("sn2", 5000.0)]
    hosts = [dataclasses.replace(toy_template(name, centre), sn_type="Galaxy")
             for name, centre in (("galA", 4000.0), ("galB", 7000.0))]
    labels = pd.DataFrame({"object_id": ["1", "2"], "label": "SN Ia", "split": "test"})
    realised = realise_spectra(WAVE_BANK, templates, labels, hosts, CFG, progress=False)
    return realised, TemplateBank(WAVE_BANK, templates + hosts)


def test_rebuilt_observation_is_the_stored_one_before_normalisation():
    realised, bank = toy_realised()
    templates, hosts = bank.spectra[:2], bank.spectra[2:]
    for i, row in realised.meta.iterrows():
        template = templates[0] if row["template"] == "sn1" else templates[1]
        flux_flat, covered = rebuild_flat_observation(template, hosts, WAVE_BANK, row, CFG)
        np.testing.assert_array_equal(covered, realised.covered_obs[i])
        np.testing.assert_allclose(normalise_spectrum(flux_flat, covered),
                                   realised.flux_obs[i], atol=1e-5)
    other_seed = dataclasses.replace(CFG, seed=2)
    with pytest.raises(ValueError, match="seed or redshift range"):
        rebuild_flat_observation(templates[0], hosts, WAVE_BANK, realised.meta.iloc[0],
                                 other_seed)


def test_snid_sage_gets_the_raw_observation_when_stored_and_a_rebuilt_one_otherwise():
    realised, bank = toy_realised()
    assert realised.flux_raw_obs is not None
    flux_snid, flat, kind = snid_inputs(realised, CFG)
    assert kind == "flux_raw_obs"
    covered = realised.covered_obs
    # the observation with its continuum and noise, as stored, zero off coverage
    np.testing.assert_array_equal(flux_snid[covered], realised.flux_raw_obs[covered])
    assert not flux_snid[~covered].any()
    np.testing.assert_allclose(flat[0], remove_continuum(CFG.wave_obs_aa, flux_snid[0],
                                                         covered[0], CFG.preprocess))
    older = dataclasses.replace(realised, flux_raw_obs=None)
    with pytest.raises(ValueError, match="no flux_raw_obs"):
        snid_inputs(older, CFG)
    rebuilt_snid, rebuilt_flat, rebuilt_kind = snid_inputs(older, CFG, bank)
    assert rebuilt_kind == "rebuilt_flattened_plus_one"
    # both paths agree on the flattened spectrum; the fallback hands over flattened + 1
    np.testing.assert_allclose(rebuilt_flat, flat, atol=1e-4)
    np.testing.assert_allclose(rebuilt_snid[covered], 1.0 + rebuilt_flat[covered])


# --- SpectraNet's side and the comparison -------------------------------------------------------

class ThreadSpy(torch.nn.Module):
    """A stand-in model: a fixed linear map that records the thread count it ran on."""

    def __init__(self, n_bins: int, n_outputs: int):
        super().__init__()
        self.linear = torch.nn.Linear(n_bins, n_outputs)
        torch.nn.init.zeros_(self.linear.weight)
        self.calls: list[tuple[int, int]] = []  # (batch size, threads)

    def forward(self, flux):  # (B, L) -> (B, K), or (B,) for one output
        self.calls.append((len(flux), torch.get_num_threads()))
        out = self.linear(flux)
        return out[:, 0] if out.shape[1] == 1 else out


def test_torch_threads_sets_and_restores_the_thread_count():
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with torch_threads(target):
        assert torch.get_num_threads() == target
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(target):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_spectranet_runs_end_to_end_on_one_thread_after_a_warm_up():
    realised, _ = toy_realised()
    n_bins = CFG.preprocess.n_bins
    classifier, redshift_model = ThreadSpy(n_bins, 2), ThreadSpy(n_bins, 1)
    with torch.no_grad():
        classifier.linear.bias.copy_(torch.tensor([0.0, 1.0]))
        redshift_model.linear.bias.fill_(0.07)
    proba, z_pred, seconds = run_spectranet(classifier, redshift_model, realised.flux_obs,
                                            realised.covered_obs, CFG.preprocess)
    n = len(realised.meta)
    assert proba.shape == (n, 2) and (proba.argmax(axis=1) == 1).all()
    np.testing.assert_allclose(z_pred, 0.07, atol=1e-6)
    assert seconds > 0
    # one untimed warm-up spectrum, then the whole batch; all on N_THREADS threads
    assert [batch for batch, _ in redshift_model.calls] == [1, n]
    assert {threads for _, threads in classifier.calls + redshift_model.calls} == {N_THREADS}


def comparison_table() -> pd.DataFrame:
    return pd.DataFrame({
        "label": ["SN Ia", "SN Ia", "SN Ic", "SN Ic"], "redshift": [0.05, 0.1, 0.02, 0.08],
        "spectranet_class": ["SN Ia", "SN Ia", "SN Ia", "SN Ic"],
        "spectranet_redshift": [0.05, 0.1, 0.02, 0.08 + 0.2 * 1.08],  # one outlier
        "snid_class": ["SN Ia", "other", "SN Ic", "SN Ic"],
        "snid_redshift": [0.05, np.nan, 0.02, 0.08], "snid_status": ["ok", "error", "ok", "ok"]})


def test_headline_scores_of_both_methods_on_the_same_spectra():
    timing = {"threads_each": 1, "spectranet_spectra_per_second": 1000.0,
              "snid_sage_spectra_per_second": 0.1}
    scores = score_comparison(comparison_table(), timing)
    net, snid = scores["spectranet"], scores["snid_sage"]
    assert scores["n_spectra"] == 4 and scores["speed_ratio"] == pytest.approx(10_000)
    assert net["accuracy"] == 0.75 and snid["accuracy"] == 0.75
    assert net["ia_vs_non_ia_accuracy"] == 0.75 and snid["ia_vs_non_ia_accuracy"] == 0.75
    assert snid["ia_completeness"] == 0.5 and net["ia_purity"] == pytest.approx(2 / 3)
    assert net["redshift_outlier_fraction"] == 0.25 and net["n_with_redshift"] == 4
    assert net["redshift_rms"] == pytest.approx(0.1)  # sqrt(0.2**2 / 4)
    # SNID-SAGE is scored on the redshifts it gave; the failed spectrum still counts as wrong
    assert snid["n_with_redshift"] == 3 and snid["redshift_rms"] == pytest.approx(0.0)
    assert snid["n_answered"] == 3 and snid["spectra_per_second"] == 0.1


def test_comparison_hands_snid_sage_the_raw_spectra_and_times_only_its_matching(tmp_path,
                                                                               monkeypatch):
    realised, _ = toy_realised()
    realised = dataclasses.replace(realised, meta=realised.meta.assign(
        split=["test", "test", "train", "test"], object_id=["sn1", "sn1", "sn2", "sn2"]))
    n_bins = CFG.preprocess.n_bins
    calls = {}

    def fake_run(paths, exclude, zmin, zmax, install_dir, workdir, warm_up=False, workers=1):
        calls.update(tables=[np.loadtxt(p) for p in paths], exclude=exclude, warm_up=warm_up,
                     zrange=(zmin, zmax))
        result = pd.DataFrame({"status": ["ok", "ok", "error"], "type": ["Ia", "Ic", None],
                               "subtype": ["Ia-norm", "", None], "redshift": [0.05, 0.1, None],
                               "rlap": [9.0, 6.0, None], "best_template": ["sn9", "sn8", None],
                               "seconds": [2.0, 3.0, None], "error": ["", "", "boom"]})
        return result, {"import_seconds": 4.0, "warm_up_seconds": 20.0, "wall_seconds": 99.0}

    monkeypatch.setattr(compare, "run_snid_sage", fake_run)
    monkeypatch.setattr(compare, "installed_template_names",
                        lambda install_dir: {"sn1", "SN1_bsnip", "sn2", "sn9"})
    snid, snid_timing, arrays = snid_on_test_subset(
        realised, ["SN Ia", "SN Ic"], CFG, tmp_path / "install", tmp_path / "work",
        n_spectra=10, seed=0)
    # SpectraNet on the same rows, in a later and separate step (it needs no SNID-SAGE)
    table, timing, metrics, _ = compare_with_snid_sage(
        realised, snid, snid_timing, ThreadSpy(n_bins, 2), ThreadSpy(n_bins, 1),
        ["SN Ia", "SN Ic"], CFG)
    assert table["row"].equals(snid["row"])
    rows = table["row"].tolist()
    assert sorted(rows) == [0, 1, 3]  # the test split only
    for i, row in enumerate(rows):  # SNID-SAGE read the observation with its continuum
        covered = realised.covered_obs[row]
        np.testing.assert_allclose(calls["tables"][i][:, 1], realised.flux_raw_obs[row][covered],
                                   rtol=1e-5)
    assert calls["exclude"] == [["SN1_bsnip", "sn1"], ["SN1_bsnip", "sn1"], ["sn2"]]
    assert calls["warm_up"] and calls["zrange"] == (CFG.redshift_min, CFG.redshift_max)
    assert table["snid_class"].tolist() == ["SN Ia", "SN Ic", "other"]
    # per-spectrum matching time only: start-up, warm-up and the process's wall time are apart
    assert timing["snid_sage_seconds"] == 5.0 and timing["snid_sage_n_timed"] == 2
    assert timing["snid_sage_spectra_per_second"] == pytest.approx(2 / 5.0)
    assert timing["snid_sage_startup"]["warm_up_seconds"] == 20.0
    assert timing["threads_each"] == N_THREADS and timing["snid_sage_input"] == "flux_raw_obs"
    assert "1 thread" in timing["snid_sage_timed"] and "1 thread" in timing["spectranet_timed"]
    assert metrics["snid_sage"]["accuracy"] == pytest.approx(1 / 3)
    assert metrics["snid_sage"]["spectra_per_second"] == timing["snid_sage_spectra_per_second"]
    assert set(metrics["spectranet"]) >= {"accuracy", "ia_vs_non_ia_accuracy", "redshift_rms",
                                          "redshift_outlier_fraction", "spectra_per_second"}
    assert arrays["flux_snid"].shape == arrays["flux_flat"].shape == (3, n_bins)


# --- output -------------------------------------------------------------------------------------

# Trimmed from a real `sage identify --minimal` result (SNID-SAGE 0.9.0).
OUTPUT = """Generated: 2026-11-25 11:12:37

SNID-SAGE CLASSIFICATION RESULTS
==================================================

File: check

Best Template: sn2007co
   \u2514\u2500 Type: Ia, Subtype: Ia-norm
   \u2514\u2500 RLAP-CCC: 16.7 | z=0.055760 \u00b1 0.000448 | age=-4.1

Best Type: Ia (Quality: High; Confidence: High; margin over next-best type Ib: +446.4%)
Best Subtype: Ia-norm (confidence: Medium; margin over next-best subtype Ia-91T: +135.7%)
Redshift: 0.052004 \u00b1 0.000812 (weighted from 601 Ia-norm subtype templates)
Age: -0.4 \u00b1 0.2 days (weighted from 601 Ia-norm subtype templates)

TEMPLATE MATCHES (from Best Cluster (Auto-Selected)):
  # Template         Type   Subtype   RLAP-CCC    Redshift      \u00b1Error    Age
  1 sn2007co         Ia     Ia-norm       16.7    0.055760    0.000448   -4.1
"""


def test_snid_output_is_parsed_into_its_answer():
    assert parse_snid_output(OUTPUT) == {
        "type": "Ia", "subtype": "Ia-norm", "redshift": 0.052004, "redshift_best": 0.05576,
        "rlap": 16.7, "rlap_metric": "RLAP-CCC", "best_template": "sn2007co"}


def test_snid_output_without_subtype_or_weighted_redshift_falls_back_to_the_best_template():
    lines = [ln for ln in OUTPUT.splitlines() if not ln.startswith(("Best Subtype", "Redshift:"))]
    parsed = parse_snid_output("\n".join(lines).replace("RLAP-CCC:", "RLAP:"))
    assert parsed["subtype"] == "" and parsed["redshift"] == 0.05576
    assert parsed["rlap_metric"] == "RLAP"
    with pytest.raises(ValueError, match="not a SNID-SAGE 0.9.0 result"):
        parse_snid_output("File: check\nSNID analysis failed\n")


# --- the real tool ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_wheel(tmp_path_factory):
    """The real, checksum-verified SNID-SAGE wheel: the repository's copy, else a fresh pull
    (from the user download cache when it holds the file)."""
    if REAL_WHEEL.exists():
        return REAL_WHEEL
    from ciderlab.data.pull import SNID_SAGE_WHEEL, pull_archive

    return pull_archive(SNID_SAGE_WHEEL, tmp_path_factory.mktemp("raw"))


def test_snid_sage_finds_a_redshifted_ia_without_its_own_templates(tmp_path, real_wheel):
    """The real wheel, installed and run on sn2005cf at maximum moved to z = 0.05, once
    flattened and once on a blue continuum (~1 min: four `identify` calls)."""
    install_dir = install_snid_sage(real_wheel, tmp_path / "snid_sage")
    assert install_snid_sage(real_wheel, install_dir) == install_dir  # already there: no-op
    bank = load_template_bank(real_wheel, types={"Ia"})
    template = next(s for s in bank.spectra if s.name == "sn2005cf" and s.epoch == 27)
    assert abs(template.age_days) < 0.5
    wave_aa = bank.wave_rest_aa * 1.05
    write_spectrum_file(tmp_path / "sn2005cf.dat", wave_aa, template.flux)
    # The same spectrum with a 12,000 K continuum, as flux_raw_obs holds it
    continuum = (wave_aa / 5000.0) ** -5 / np.expm1(1.438777e8 / (wave_aa * 12000.0))
    continuum /= continuum.mean()
    covered = template.flux != 0
    write_spectrum_file(tmp_path / "sn2005cf_raw.dat", wave_aa,
                        np.where(covered, (1.0 + template.flux) * continuum, 0.0), covered,
                        flattened=False)
    own = templates_of_objects(["2005cf"], [s.name for s in bank.spectra])
    with pytest.raises(ValueError, match="not in SNID-SAGE's bank"):
        run_snid_sage([tmp_path / "sn2005cf.dat"], [["2005cf"]], 0.0, 0.3, install_dir, tmp_path)
    paths = [tmp_path / "sn2005cf.dat", tmp_path / "sn2005cf_raw.dat", tmp_path / "missing.dat"]
    # two workers, one thread each: the answers come back in input order from both
    result, startup = run_snid_sage(paths, own + own + [[]], 0.0, 0.3, install_dir,
                                    tmp_path / "work", warm_up=True, workers=2)
    for found in (result.iloc[0], result.iloc[1]):
        assert found["status"] == "ok", found["error"]
        assert snid_type_to_class(found["type"], found["subtype"]) == "SN Ia"
        assert abs(found["redshift"] - 0.05) < 0.005
        assert found["best_template"] != "sn2005cf" and found["rlap"] > 5
    missing = result.iloc[2]
    assert missing["status"] == "error" and "not found" in missing["error"]
    # start-up is timed apart from the spectra; the wall time holds the slowest worker's
    assert startup["import_seconds"] > 0 and startup["warm_up_seconds"] > 0
    assert startup["wall_seconds"] > (startup["import_seconds"] + startup["warm_up_seconds"]
                                      + result["seconds"].iloc[:2].max())


def test_snid_sage_sped_up_gives_the_answers_of_snid_sage_as_shipped(tmp_path, real_wheel):
    """One worker, three calls whose exclusions differ (own templates out, none out, out again
    and forced to the true redshift): with the bank kept across calls and the loops as array
    operations (the defaults) the answers are those of SNID-SAGE as shipped, which reads the
    bank on every call and loops in Python (~1 min: six `identify` calls)."""
    install_dir = install_snid_sage(real_wheel, tmp_path / "snid_sage")
    bank = load_template_bank(real_wheel, types={"Ia"})
    template = next(s for s in bank.spectra if s.name == "sn2005cf" and s.epoch == 27)
    write_spectrum_file(tmp_path / "sn2005cf.dat", bank.wave_rest_aa * 1.05, template.flux)
    own = templates_of_objects(["2005cf"], [s.name for s in bank.spectra])[0]
    paths = [tmp_path / "sn2005cf.dat"] * 3
    answers = {}
    for sped_up in (True, False):
        result, _ = run_snid_sage(paths, [own, [], own], 0.0, 0.3, install_dir,
                                  tmp_path / f"work_{sped_up}", cache_templates=sped_up,
                                  fast_loops=sped_up, forced_redshifts=[None, None, 0.05])
        assert (result["status"] == "ok").all(), result["error"].tolist()
        answers[sped_up] = result.drop(columns=["path", "seconds"])
    pd.testing.assert_frame_equal(answers[True], answers[False], check_exact=True)
    # the exclusions still bite with the bank kept: its own template only when allowed
    best = answers[True]["best_template"].tolist()
    assert best[0] not in own and best[2] not in own
    assert answers[True]["redshift_best"].iloc[2] == pytest.approx(0.05, abs=1e-4)


_FAST_LOOPS_CHECK = """
import json, sys
import numpy as np
from snid_sage.snid import fft_tools as shipped
from ciderlab.spectranet.snid import fast_loops as ours
rng = np.random.default_rng(0)
same = {}
for _ in range(100):
    n = int(rng.choice([1024, 1025]))
    x = rng.normal(size=n) * (rng.random(n) > 0.2)
    x[:rng.integers(0, 100)] = 0.0
    ft = np.fft.fft(x)
    k1, k2, k3, k4 = (int(k) for k in np.sort(rng.integers(0, n // 2, 4)))
    shift = float(rng.normal() * 30)
    for name, args in (("apply_filter", (ft, k1, k2, k3, k4)), ("calculate_rms", (ft, k1, k2, k3, k4)),
                       ("aspart", (ft, k1, k2, k3, k4, shift)), ("shiftit", (x, shift))):
        a, b = getattr(shipped, name)(*args), getattr(ours, name)(*args)
        same[name] = same.get(name, True) and bool(np.array_equal(np.asarray(a), np.asarray(b)))
print(json.dumps(same))
"""


def test_fast_loops_give_the_bits_of_snid_sage_loops(tmp_path, real_wheel):
    """Each numpy version against SNID-SAGE's own loop, bit for bit, on random spectra, filter
    edges and fractional shifts (in a child process, as the worker runs them)."""
    import json
    import subprocess
    import sys

    from ciderlab.spectranet.snid.snid_sage import _worker_env

    install_dir = install_snid_sage(real_wheel, tmp_path / "snid_sage")
    done = subprocess.run([sys.executable, "-c", _FAST_LOOPS_CHECK], env=_worker_env(install_dir),
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "apply_filter": True, "calculate_rms": True, "aspart": True, "shiftit": True}
