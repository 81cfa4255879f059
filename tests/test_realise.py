import numpy as np
import pandas as pd
import pytest

from ciderlab.spectranet.templates import TemplateSpectrum
from ciderlab.spectra.continua import ContinuumConfig, ContinuumDraw, draw_continuum
from ciderlab.spectra.grid import make_log_grid
from ciderlab.errors import InputError
from ciderlab.spectranet.observe import Draw, add_noise, draw_conditions, realise_one, rng_for
from ciderlab.spectranet.realise import (chunk_bounds, realisations_per_spectrum,
                                         realise_examples, realise_spectra)
from ciderlab.workers import resolve_workers
from conftest import SMALL_REALISE_CONFIG

CFG = SMALL_REALISE_CONFIG  # shared with the other tests (conftest.py)
WAVE = make_log_grid(2501.7, 9993.2, 1024)
HOT = ContinuumDraw(sed="blackbody", temperature_k=12000.0, power_index=float("nan"),
                    host_temperature_k=5000.0, ebv_mw=0.05, ebv_host=0.1, response=(0.05, 0.0, 0.0))


def flat_template(centre_aa=6355.0, start_aa=3300.0, stop_aa=8800.0):
    """A flattened spectrum with one broad absorption line, zero outside its coverage."""
    flux = -0.5 * np.exp(-0.5 * ((WAVE - centre_aa) / 80.0) ** 2)
    flux += 0.01 * np.sin(WAVE / 50.0)
    flux[(WAVE < start_aa) | (WAVE > stop_aa)] = 0.0
    return flux


def realise_at(redshift, template=None, snr=1e6):
    draw = Draw(redshift=redshift, host_fraction=0.0, host_index=0, snr=snr)
    return realise_one(WAVE, flat_template() if template is None else template, np.zeros(1024),
                       draw, HOT, np.random.default_rng(0), CFG)


def test_realisation_puts_the_line_at_the_redshifted_wavelength_and_back():
    steps = realise_at(0.1)
    line_obs = CFG.wave_obs_aa[np.argmin(np.where(steps["covered_obs"], steps["flux_obs"], np.inf))]
    assert line_obs == pytest.approx(6355.0 * 1.1, rel=0.01)
    line_rest = CFG.wave_rest_aa[np.argmin(np.where(steps["covered_rest"], steps["flux_rest"],
                                                    np.inf))]
    assert line_rest == pytest.approx(6355.0, rel=0.01)


def test_model_inputs_are_normalised_on_coverage_and_zero_elsewhere():
    steps = realise_at(0.1, snr=20)
    for frame in ("obs", "rest"):
        flux, covered = steps[f"flux_{frame}"], steps[f"covered_{frame}"]
        assert flux[covered].mean() == pytest.approx(0, abs=1e-9)
        assert flux[covered].std() == pytest.approx(1)
        assert np.all(flux[~covered] == 0)


def test_coverage_follows_the_template_edge_through_the_redshift():
    # The template starts at 3300 AA rest: at z = 0.2 that is 3960 AA, past the grid's 3800 AA
    # blue end, so the first bins are uncovered; at z = 0.1 (3630 AA) they are covered.
    far, near = realise_at(0.2), realise_at(0.1)
    assert not far["covered_obs"][0]
    first = CFG.wave_obs_aa[np.argmax(far["covered_obs"])]
    assert first == pytest.approx(3300 * 1.2, rel=0.01)
    assert near["covered_obs"][0]


def test_the_raw_observation_carries_a_real_looking_continuum():
    # A hot blackbody: far more flux in the blue than in the red, which the preprocessing removes.
    steps = realise_at(0.05)
    raw, covered = steps["raw_obs"], steps["covered_obs"]
    wave = CFG.wave_obs_aa
    blue = raw[covered & (wave < 4500)].mean()
    red = raw[covered & (wave > 8000)].mean()
    assert blue > 2.5 * red
    assert abs(np.polyfit(np.log(wave[covered]), steps["flux_obs"][covered], 1)[0]) < 0.5


def test_noise_follows_the_flux_and_rises_in_the_red():
    wave = CFG.wave_obs_aa
    covered = np.ones(len(wave), bool)
    observed = np.where(wave < 6000, 2.0, 0.5)  # bright blue half, faint red half
    rng = np.random.default_rng(3)
    draws = np.stack([add_noise(observed, covered, 30.0, wave, CFG, rng) for _ in range(400)])
    sigma = draws.std(axis=0)
    bins_per_resolution = CFG.preprocess.fwhm_lnwave / np.log(wave[1] / wave[0])
    snr = observed * np.sqrt(bins_per_resolution) / sigma
    assert np.median(snr) == pytest.approx(30.0, rel=0.1)
    assert sigma[wave < 5000].mean() > sigma[(wave > 6200) & (wave < 7000)].mean()  # photon noise
    assert sigma[wave > 8500].mean() > 1.3 * sigma[(wave > 6200) & (wave < 7000)].mean()  # sky


def test_continuum_draws_follow_class_and_phase():
    cfg = ContinuumConfig()
    early = [draw_continuum(rng_for(1, "sn", 0, r), "SN Ia", -10.0, cfg) for r in range(200)]
    late = [draw_continuum(rng_for(1, "sn", 0, r), "SN Ia", 60.0, cfg) for r in range(200)]
    assert np.median([d.temperature_k for d in early]) > 1.5 * np.median([d.temperature_k for d in late])
    tde = draw_continuum(rng_for(1, "tde", 0, 0), "TDE", 0.0, cfg)
    assert cfg.tde_temperature_k[0] <= tde.temperature_k <= cfg.tde_temperature_k[1]
    agn = draw_continuum(rng_for(1, "agn", 0, 0), "AGN", float("nan"), cfg)
    assert agn.sed == "power_law" and cfg.agn_power_index[0] <= agn.power_index <= cfg.agn_power_index[1]
    assert all(0 <= d.ebv_mw <= cfg.ebv_mw_max and d.ebv_host >= 0 for d in early)


def test_draws_stay_in_their_ranges_and_depend_only_on_the_key():
    draws = [draw_conditions(rng_for(1, "sn", 0, r), CFG, 3) for r in range(200)]
    assert all(CFG.redshift_min <= d.redshift <= CFG.redshift_max for d in draws)
    assert all(CFG.snr_min <= d.snr <= CFG.snr_max for d in draws)
    assert all(0 <= d.host_fraction <= CFG.host_fraction_max for d in draws)
    assert draw_conditions(rng_for(1, "sn", 0, 5), CFG, 3) == draws[5]
    assert draw_conditions(rng_for(2, "sn", 0, 5), CFG, 3) != draws[5]


def two_templates():
    spectra = [TemplateSpectrum("a", 0, "Ia", "Ia-norm", 3.0, flat_template()),
               TemplateSpectrum("b", 0, "Ib", "Ib-norm", float("nan"), flat_template(5900.0))]
    labels = pd.DataFrame({"object_id": ["a", "b"], "label": ["SN Ia", "SN Ib"],
                           "split": ["train", "test"], "fold": [1, 0]})
    hosts = [TemplateSpectrum("kcE", 0, "Galaxy", "Gal-E", float("nan"), 0.05 * np.cos(WAVE / 30))]
    return spectra, labels, hosts


def test_realise_spectra_is_reproducible_and_keeps_the_conditions():
    spectra, labels, hosts = two_templates()
    one = realise_spectra(WAVE, spectra, labels, hosts, CFG, progress=False)
    two = realise_spectra(WAVE, spectra, labels, hosts, CFG, progress=False)
    assert np.array_equal(one.flux_rest, two.flux_rest)
    assert np.array_equal(one.flux_raw_obs, two.flux_raw_obs)
    assert len(one.meta) == 4
    assert {"redshift", "snr", "host_fraction", "age_days", "object_id", "split", "fold",
            "temperature_k", "ebv_mw", "ebv_host"} <= set(one.meta)
    assert one.meta["split"].tolist() == ["train", "train", "test", "test"]
    assert one.meta["fold"].tolist() == [1, 1, 0, 0]
    # the second template's realisations do not depend on the first being realised
    alone = realise_spectra(WAVE, spectra[1:], labels.iloc[1:], hosts, CFG, progress=False)
    assert np.array_equal(alone.flux_obs, one.flux_obs[2:])


def test_the_examples_are_the_realised_spectra():
    spectra, labels, hosts = two_templates()
    realised = realise_spectra(WAVE, spectra, labels, hosts, CFG, progress=False)
    examples = realise_examples(WAVE, spectra, labels, hosts, CFG)
    assert np.allclose(examples["SN_Ia/flux_rest"], realised.flux_rest[0], atol=1e-6)
    assert np.allclose(examples["SN_Ib/raw_obs"], realised.flux_raw_obs[2], rtol=1e-6)


def test_rare_classes_get_more_realisations_up_to_the_cap():
    labels = pd.Series(["SN Ia"] * 10 + ["TDE"] * 2 + ["AGN"])
    counts = realisations_per_spectrum(labels, 2, min_per_class=20, max_per_spectrum=8)
    assert counts[:10].tolist() == [2] * 10
    assert counts[10:12].tolist() == [8, 8]  # wanted 10 each, capped at 8
    assert counts[12] == 8  # wanted 20, capped


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


def test_a_narrow_template_keeps_its_line_where_it_belongs():
    # ~50 observed bins: too few for the window's knot spacing; the fit uses fewer knots and the
    # absorption line still sits at 6000 AA in the rest frame.
    realised = realise_narrow_template(5500.0, 6500.0)
    covered = realised.covered_rest[0]
    assert np.all(np.isfinite(realised.flux_rest)) and realised.flux_rest[0][covered].std() > 0
    line = realised.wave_rest_aa[np.argmin(np.where(covered, realised.flux_rest[0], np.inf))]
    assert line == pytest.approx(6000.0, rel=0.01)


def test_parallel_workers_give_the_serial_result_byte_for_byte():
    spectra, labels, hosts = two_templates()
    counts = np.array([3, 2])
    serial = realise_spectra(WAVE, spectra, labels, hosts, CFG, counts, progress=False, workers=1)
    # one template spectrum per chunk: two chunks on two processes, reassembled in order
    parallel = realise_spectra(WAVE, spectra, labels, hosts, CFG, counts, progress=False,
                               workers=2, realisations_per_chunk=1)
    for name in ("flux_obs", "flux_rest", "flux_raw_obs", "covered_obs", "covered_rest"):
        assert getattr(parallel, name).tobytes() == getattr(serial, name).tobytes(), name
    pd.testing.assert_frame_equal(parallel.meta, serial.meta)
    assert parallel.meta["realisation"].tolist() == [0, 1, 2, 0, 1]


def test_chunks_cover_every_spectrum_once_in_order():
    assert chunk_bounds(np.array([3, 2, 6, 1, 1]), 4) == [(0, 2), (2, 3), (3, 5)]
    assert chunk_bounds(np.array([2, 2]), 1) == [(0, 1), (1, 2)]


def test_workers_zero_means_every_available_cpu_and_negative_is_an_error():
    assert resolve_workers(0, "realise.workers") >= 1
    assert resolve_workers(3, "realise.workers") == 3
    with pytest.raises(InputError, match="realise.workers"):
        resolve_workers(-1, "realise.workers")


def test_noise_drawn_per_detector_pixel_is_correlated_but_keeps_its_level_per_element():
    from ciderlab.spectranet.observe import unit_noise

    wave = np.exp(np.linspace(np.log(3800), np.log(9200), 512))
    bin_lnwave = np.log(wave[1] / wave[0])
    rng = np.random.default_rng(0)
    white = np.array([unit_noise(wave, 0.0, rng) for _ in range(400)])
    pixels = np.array([unit_noise(wave, 0.004, rng) for _ in range(400)])

    def lag1(noise):
        return np.mean([np.corrcoef(n[:-1], n[1:])[0, 1] for n in noise])

    assert abs(lag1(white)) < 0.05
    assert lag1(pixels) > 0.5  # neighbouring bins share a detector pixel
    # Averaged over a resolution element (0.01 in ln lambda) both have about the same scatter.
    width = int(round(0.01 / bin_lnwave))

    def element_scatter(noise):
        return np.std(noise[:, 100:100 + width].mean(axis=1))

    assert element_scatter(pixels) == pytest.approx(element_scatter(white), rel=0.3)


def test_noise_rises_to_the_blue_end_when_switched_on():
    wave = CFG.wave_obs_aa
    covered = np.ones(len(wave), bool)
    observed = np.ones(len(wave))
    sigma = {}
    for name, boost in (("off", 0.0), ("on", 10.0)):
        rng = np.random.default_rng(5)
        sigma[name] = np.stack([add_noise(observed, covered, 30.0, wave, CFG, rng, boost)
                                for _ in range(300)]).std(axis=0)
    edge, middle = wave < 3950, (wave > 5000) & (wave < 6000)
    ratio = {k: s[edge].mean() / s[middle].mean() for k, s in sigma.items()}
    assert ratio["off"] == pytest.approx(1.0, abs=0.1)  # flat without the switch
    assert ratio["on"] > 1.4  # sqrt((1 + 0.2 x 11) / (1 + 0.2)) ~ 1.6 at the edge


def test_telluric_residual_absorbs_the_o2_bands_only_when_switched_on():
    from ciderlab.spectra.continua import telluric_transmission

    wave = CFG.wave_obs_aa
    transmission = telluric_transmission(wave, 0.3, CFG.preprocess.fwhm_lnwave)
    a_band, b_band = np.argmin(np.abs(wave - 7640.0)), np.argmin(np.abs(wave - 6905.0))
    assert 0.7 < transmission[a_band] < transmission[b_band] < 0.95
    assert np.all(transmission[(wave < 6500) | (wave > 8200)] > 0.999)
    assert np.array_equal(telluric_transmission(wave, 0.0, CFG.preprocess.fwhm_lnwave),
                          np.ones(len(wave)))
    # drawn per realisation only when switched on: off, the other draws are unchanged
    off = ContinuumConfig()
    on = ContinuumConfig(telluric_depth_max=0.3, sky_blue_boost_max=5.0)
    draws_off = [draw_continuum(rng_for(1, "sn", 0, r), "SN Ia", 0.0, off) for r in range(50)]
    draws_on = [draw_continuum(rng_for(1, "sn", 0, r), "SN Ia", 0.0, on) for r in range(50)]
    assert all(d.telluric_depth == 0.0 and d.sky_blue_boost == 0.0 for d in draws_off)
    assert all(0.0 < d.telluric_depth <= 0.3 and 0.0 < d.sky_blue_boost <= 5.0
               for d in draws_on)
    assert [d.response for d in draws_off] == [d.response for d in draws_on]
    # and the realised observation carries the band at the drawn depth
    deep = HOT.__class__(**{**HOT.__dict__, "telluric_depth": 0.3})
    draw = Draw(redshift=0.05, host_fraction=0.0, host_index=0, snr=1e6)
    plain = realise_one(WAVE, flat_template(), np.zeros(1024), draw, HOT,
                        np.random.default_rng(0), CFG)["observed"]
    absorbed = realise_one(WAVE, flat_template(), np.zeros(1024), draw, deep,
                           np.random.default_rng(0), CFG)["observed"]
    assert absorbed[a_band] / plain[a_band] == pytest.approx(transmission[a_band], rel=1e-9)
