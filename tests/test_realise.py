import numpy as np
import pandas as pd
import pytest

from ciderlab.spectra.realise import (Draw, draw_conditions, realisations_per_spectrum,
                              realise_one, realise_spectra, rng_for)
from ciderlab.spectra.grid import make_log_grid
from ciderlab.data.templates import TemplateSpectrum
from conftest import SMALL_REALISE_CONFIG

CFG = SMALL_REALISE_CONFIG  # shared with the other tests (conftest.py)
WAVE = make_log_grid(2501.7, 9993.2, 1024)


def flat_template(centre_aa=6355.0, start_aa=3300.0, stop_aa=8800.0):
    """A flattened spectrum with one broad absorption line, zero outside its coverage."""
    flux = -0.5 * np.exp(-0.5 * ((WAVE - centre_aa) / 80.0) ** 2)
    flux += 0.01 * np.sin(WAVE / 50.0)
    flux[(WAVE < start_aa) | (WAVE > stop_aa)] = 0.0
    return flux


def test_realisation_puts_the_line_at_the_redshifted_wavelength_and_back():
    draw = Draw(redshift=0.1, host_fraction=0.0, host_index=0, snr=1e6)
    steps = realise_one(WAVE, flat_template(), np.zeros(1024), draw, np.random.default_rng(0), CFG)
    wave_obs = CFG.wave_obs_aa
    line_obs = wave_obs[np.argmin(np.where(steps["covered_obs"], steps["flux_obs"], np.inf))]
    assert line_obs == pytest.approx(6355.0 * 1.1, rel=0.01)
    wave_rest = CFG.wave_rest_aa
    line_rest = wave_rest[np.argmin(np.where(steps["covered_rest"], steps["flux_rest"], np.inf))]
    assert line_rest == pytest.approx(6355.0, rel=0.01)


def test_model_inputs_are_normalised_on_coverage_and_zero_elsewhere():
    rng = rng_for(1, "toy", 0, 0)
    draw = draw_conditions(rng, CFG, 1)
    steps = realise_one(WAVE, flat_template(), np.zeros(1024), draw, rng, CFG)
    for frame in ("obs", "rest"):
        flux, covered = steps[f"flux_{frame}"], steps[f"covered_{frame}"]
        assert flux[covered].mean() == pytest.approx(0, abs=1e-9)
        assert flux[covered].std() == pytest.approx(1)
        assert np.all(flux[~covered] == 0)
    # the template starts at 3300 AA rest: redshifted past 3800 AA the blue end is uncovered
    blue_edge_obs = 3300 * (1 + draw.redshift)
    if blue_edge_obs > 3850:
        assert not steps["covered_obs"][0]
    if blue_edge_obs < 3750:
        assert steps["covered_obs"][0]


def test_draws_stay_in_their_ranges_and_depend_only_on_the_key():
    draws = [draw_conditions(rng_for(1, "sn", 0, r), CFG, 3) for r in range(200)]
    assert all(CFG.redshift_min <= d.redshift <= CFG.redshift_max for d in draws)
    assert all(CFG.snr_min <= d.snr <= CFG.snr_max for d in draws)
    assert all(0 <= d.host_fraction <= CFG.host_fraction_max for d in draws)
    assert draw_conditions(rng_for(1, "sn", 0, 5), CFG, 3) == draws[5]
    assert draw_conditions(rng_for(2, "sn", 0, 5), CFG, 3) != draws[5]


def test_realise_spectra_is_reproducible_and_keeps_the_conditions():
    spectra = [TemplateSpectrum("a", 0, "Ia", "Ia-norm", 3.0, flat_template()),
               TemplateSpectrum("b", 0, "Ib", "Ib-norm", float("nan"), flat_template(5900.0))]
    labels = pd.DataFrame({"object_id": ["a", "b"], "label": ["SN Ia", "SN Ib"],
                           "split": ["train", "test"]})
    hosts = [TemplateSpectrum("kcE", 0, "Galaxy", "Gal-E", float("nan"), 0.05 * np.cos(WAVE / 30))]
    one = realise_spectra(WAVE, spectra, labels, hosts, CFG, progress=False)
    two = realise_spectra(WAVE, spectra, labels, hosts, CFG, progress=False)
    assert np.array_equal(one.flux_rest, two.flux_rest)
    assert len(one.meta) == 4
    assert {"redshift", "snr", "host_fraction", "age_days", "object_id", "split"} <= set(one.meta)
    assert one.meta["split"].tolist() == ["train", "train", "test", "test"]
    # the second template's realisations do not depend on the first being realised
    alone = realise_spectra(WAVE, spectra[1:], labels.iloc[1:], hosts, CFG, progress=False)
    assert np.array_equal(alone.flux_obs, one.flux_obs[2:])


def test_rare_training_classes_get_more_realisations_but_not_val_or_test():
    labels = pd.DataFrame({"label": ["SN Ia"] * 10 + ["TDE"] * 2 + ["TDE"],
                           "split": ["train"] * 12 + ["test"]})
    counts = realisations_per_spectrum(labels, 2, min_train_per_class=20, max_per_spectrum=8)
    assert counts[:10].tolist() == [2] * 10
    assert counts[10:12].tolist() == [8, 8]  # wanted 10 each, capped at 8
    assert counts[12] == 2


def realise_narrow_template(start_aa: float, stop_aa: float):
    """Realise one template (sn1999zz, epoch 3) covering only start_aa..stop_aa."""
    narrow = TemplateSpectrum("sn1999zz", 3, "Ia", "Ia-norm", 0.0,
                              flat_template(centre_aa=6000.0, start_aa=start_aa, stop_aa=stop_aa))
    labels = pd.DataFrame({"object_id": ["sn1999zz"], "label": ["SN Ia"], "split": ["train"]})
    hosts = [TemplateSpectrum("kcE", 0, "Galaxy", "Gal-E", float("nan"), np.zeros(1024))]
    return realise_spectra(WAVE, [narrow], labels, hosts, CFG, progress=False)


def test_a_template_too_narrow_for_the_grid_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"sn1999zz \(epoch 3\).*covered bins"):
        realise_narrow_template(5970.0, 6010.0)


def test_a_narrow_template_is_realised_with_fewer_continuum_knots():
    # ~50 observed bins cannot hold 13 knots of 4 bins each; the continuum fit uses fewer.
    realised = realise_narrow_template(5800.0, 6300.0)
    assert 8 <= realised.covered_obs[0].sum() < 4 * CFG.continuum_knots
    assert np.all(np.isfinite(realised.flux_obs)) and realised.flux_obs[0].std() > 0
