import numpy as np
import torch
import pytest

from ciderlab.spectranet.domain_gap import realism_auc


def spectra(n, shift=0.0, seed=0, n_bins=16):
    """Smooth-ish fake model inputs; ``shift`` raises the red half, as a miscalibrated continuum."""
    rng = np.random.default_rng(seed)
    flux = rng.normal(size=(n, n_bins)).cumsum(axis=1) / np.sqrt(n_bins)
    flux[:, n_bins // 2:] += shift
    return flux


def test_same_distribution_is_indistinguishable():
    result = realism_auc(spectra(120, seed=1), spectra(400, seed=2))
    assert result["auc_mean"] == pytest.approx(0.5, abs=0.08)
    assert result["n_real"] == 120 and result["n_realised"] == 400


def test_shifted_realised_inputs_are_told_apart():
    result = realism_auc(spectra(120, seed=1), spectra(400, shift=1.0, seed=2))
    assert result["auc_mean"] > 0.95 and result["auc_std"] < 0.05


def test_realised_set_is_subsampled_to_ten_per_real_input_reproducibly():
    real, realised = spectra(20, seed=3), spectra(500, shift=0.3, seed=4)
    first = realism_auc(real, realised, seed=5)
    assert first["n_realised"] == 200
    assert realism_auc(real, realised, seed=5) == first
    assert realism_auc(real, realised, seed=6) != first


def test_inputs_on_different_grids_are_refused():
    with pytest.raises(ValueError, match="same grid"):
        realism_auc(spectra(20), spectra(20, n_bins=8))
    with pytest.raises(ValueError, match="n_splits"):
        realism_auc(spectra(3), spectra(20))


def test_breakdown_finds_a_gap_that_lies_in_the_coverage_alone():
    from ciderlab.spectranet.domain_gap import realism_breakdown

    rng = np.random.default_rng(5)
    real = rng.normal(size=(40, 30))
    realised = rng.normal(size=(300, 30))
    real_covered = np.ones((40, 30), bool)
    realised_covered = np.ones((300, 30), bool)
    realised_covered[:, :8] = rng.random((300, 8)) < 0.3  # templates often miss the blue end
    realised = np.where(realised_covered, realised, 0.0)
    parts = realism_breakdown(real, real_covered, realised, realised_covered)
    assert parts["coverage_only"]["auc_mean"] > 0.9
    assert parts["n_common_bins"] == 22
    assert abs(parts["flux_common_bins"]["auc_mean"] - 0.5) < 0.15


def test_region_mismatch_finds_the_band_the_realisation_lacks():
    from ciderlab.spectranet.domain_gap import region_mismatch

    rng = np.random.default_rng(0)
    wave = np.linspace(4000.0, 9000.0, 200)
    realised = rng.normal(size=(400, 200))
    real = rng.normal(size=(60, 200))
    band = (wave > 7594) & (wave < 7684)
    real[:, band] -= 3.0  # an absorption band every real spectrum has
    covered_real, covered_realised = np.ones_like(real, bool), np.ones_like(realised, bool)
    covered_real[:, :10] = False  # uncovered bins never count
    real[:, :10] = 100.0
    found = region_mismatch(real, covered_real, realised, covered_realised, wave,
                            {"A band": (7594, 7684), "middle": (5000, 6000),
                             "blue": (4300, 4500), "uncovered": (4000, 4200), "nowhere": (100, 200)})
    assert found["A band"] > 8 and abs(found["middle"] - 1) < 0.3
    assert abs(found["blue"] - 1) < 0.5
    assert np.isnan(found["uncovered"]) and np.isnan(found["nowhere"])


def test_real_files_prepared_per_option_are_measured_against_realised_inputs():
    """compare_preprocessing's realism AUC on the project's real files: against their own
    inputs (lightly perturbed) it is near chance, against inputs with a feature the real ones
    lack near 1."""
    from ciderlab.spectranet.compare_preprocessing import real_vs_realised
    from ciderlab.spectranet.real_spectra import load_truth, model_inputs
    from ciderlab.spectra.preprocess import PreprocessConfig

    from test_readers_real import REAL

    truth = load_truth(REAL / "truth.csv").head(30)
    cfg = PreprocessConfig(obs_wave_min_aa=3800, obs_wave_max_aa=9200, rest_wave_min_aa=3150,
                           rest_wave_max_aa=9200, n_bins=128, fwhm_lnwave=0.01,
                           continuum="spline", knot_spacing_lnwave=0.115,
                           median_window_lnwave=0.2)
    own = model_inputs(truth, REAL, cfg)["flux_rest"]
    rng = np.random.default_rng(1)
    alike = np.concatenate([own + 0.05 * rng.standard_normal(own.shape) * (own != 0)] * 3)
    unlike = alike.copy()
    unlike[:, 40:60] += 2.0  # a band no real input has
    near = real_vs_realised((truth, REAL), cfg, alike)
    far = real_vs_realised((truth, REAL), cfg, unlike)
    assert near["n_real"] == 30
    assert near["realism_auc"] < 0.7 < 0.95 < far["realism_auc"]
    assert "embedding_realism_auc" not in near  # no model given

    class BandReader(torch.nn.Module):
        """A network whose embedding is the band the unlike inputs carry, and one blind to it."""

        def __init__(self, bins):
            super().__init__()
            self.bins = bins

        def embed(self, x):
            return x[:, self.bins]

    sees = real_vs_realised((truth, REAL), cfg, unlike, BandReader(slice(40, 60)))
    blind = real_vs_realised((truth, REAL), cfg, unlike, BandReader(slice(80, 100)))
    assert sees["embedding_realism_auc"] > 0.95 > 0.7 > blind["embedding_realism_auc"]


def test_roughness_sees_the_noise_texture_a_linear_auc_cannot():
    from ciderlab.spectranet.domain_gap import roughness, roughness_auc

    rng = np.random.default_rng(3)
    covered = np.ones((200, 64), bool)
    covered[:, :8] = False  # uncovered bins (zeros) never count
    white = np.where(covered, rng.standard_normal((200, 64)), 0.0)
    # the same variance per bin, correlated over ~4 bins: smoother from bin to bin
    smooth = np.where(covered, np.repeat(rng.standard_normal((200, 16)), 4, axis=1), 0.0)
    assert np.median(roughness(white, covered)) == pytest.approx(np.sqrt(2), rel=0.1)
    assert np.median(roughness(smooth, covered)) < 0.7
    # same mean and variance everywhere: the linear AUC is near chance, the roughness is not
    assert realism_auc(smooth[:50], white[50:], seed=0)["auc_mean"] < 0.75
    told = roughness_auc(smooth[:50], covered[:50], white[50:], covered[50:])
    assert told["auc"] < 0.05 and told["median_real"] < told["median_realised"]
    alike = roughness_auc(white[:50], covered[:50], white[50:], covered[50:])
    assert 0.35 < alike["auc"] < 0.65


def test_mean_realism_auc_averages_the_shuffles():
    from ciderlab.spectranet.domain_gap import mean_realism_auc

    real, realised = spectra(40, shift=1.0, seed=1), spectra(200, seed=2)
    runs = [realism_auc(real, realised, seed) for seed in range(3)]
    mean = mean_realism_auc(real, realised, 3)
    assert mean["auc_mean"] == pytest.approx(np.mean([r["auc_mean"] for r in runs]))
    assert mean["auc_shuffle_std"] == pytest.approx(np.std([r["auc_mean"] for r in runs]))
    assert mean["n_real"] == 40 and mean["n_realised"] == 200
