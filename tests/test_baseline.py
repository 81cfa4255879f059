from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ciderlab.baselines.snid_sage import (install_snid_sage, parse_snid_output, rebuild_flat_observation,
                               run_snid_sage, select_baseline_subset, snid_type_to_class,
                               templates_of_objects, write_spectrum_file)
from ciderlab.data.labels import EXTENDED_CLASSES
from ciderlab.spectra.realise import RealiseConfig, realise_spectra
from ciderlab.spectra.grid import make_log_grid, normalise_spectrum
from ciderlab.data.templates import TemplateSpectrum, load_template_bank
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


def test_rebuilt_observation_is_the_stored_one_before_normalisation():
    templates = [toy_template("sn1", 6150.0), toy_template("sn2", 5000.0)]
    hosts = [toy_template("galA", 4000.0), toy_template("galB", 7000.0)]
    labels = pd.DataFrame({"object_id": ["1", "2"], "label": "SN Ia", "split": "test"})
    realised = realise_spectra(WAVE_BANK, templates, labels, hosts, CFG, progress=False)
    for i, row in realised.meta.iterrows():
        template = templates[0] if row["template"] == "sn1" else templates[1]
        flux_flat, covered = rebuild_flat_observation(template, hosts, WAVE_BANK, row, CFG)
        np.testing.assert_array_equal(covered, realised.covered_obs[i])
        np.testing.assert_allclose(normalise_spectrum(flux_flat, covered),
                                   realised.flux_obs[i], atol=1e-5)
    other_seed = RealiseConfig(**{**CFG.__dict__, "seed": 2})
    with pytest.raises(ValueError, match="seed or redshift range"):
        rebuild_flat_observation(templates[0], hosts, WAVE_BANK, realised.meta.iloc[0],
                                 other_seed)


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
    """The real wheel, installed and run on sn2005cf at maximum moved to z = 0.05 (~15 s)."""
    install_dir = install_snid_sage(real_wheel, tmp_path / "snid_sage")
    assert install_snid_sage(real_wheel, install_dir) == install_dir  # already there: no-op
    bank = load_template_bank(real_wheel, types={"Ia"})
    template = next(s for s in bank.spectra if s.name == "sn2005cf" and s.epoch == 27)
    assert abs(template.age_days) < 0.5
    write_spectrum_file(tmp_path / "sn2005cf.dat", bank.wave_rest_aa * 1.05, template.flux)
    own = templates_of_objects(["2005cf"], [s.name for s in bank.spectra])
    with pytest.raises(ValueError, match="not in SNID-SAGE's bank"):
        run_snid_sage([tmp_path / "sn2005cf.dat"], [["2005cf"]], 0.0, 0.3, install_dir, tmp_path)
    result = run_snid_sage([tmp_path / "sn2005cf.dat", tmp_path / "missing.dat"], own + [[]],
                           0.0, 0.3, install_dir, tmp_path / "work")
    found, missing = result.iloc[0], result.iloc[1]
    assert found["status"] == "ok", found["error"]
    assert snid_type_to_class(found["type"], found["subtype"]) == "SN Ia"
    assert abs(found["redshift"] - 0.05) < 0.005
    assert found["best_template"] != "sn2005cf" and found["rlap"] > 5
    assert missing["status"] == "error" and "not found" in missing["error"]
