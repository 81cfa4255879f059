import math
from pathlib import Path

import pytest
import torch

from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig, count_macs, count_parameters
from ciderlab.params import load_params

CPU = dict(channels=(16, 32, 64, 128, 256),
           kernels=((3, 9, 127), (3, 7, 31), (3, 5, 15), (3, 3, 7), (3, 3, 3)), hidden=128)


def test_paper_profile_matches_the_authors_network():
    config = SpectraNetConfig()  # defaults are the paper's: 4096 bins, 64..1024 channels
    model = SpectraNet(config)
    assert count_parameters(model) == pytest.approx(25.2e6, rel=0.005)
    assert count_macs(config) == pytest.approx(4.1e9, rel=0.01)
    with torch.no_grad():
        assert model(torch.randn(1, 4096)).shape == (1, 9)


@pytest.mark.parametrize("length", [1, 7, 100, 256, 513, 1024])
def test_any_input_length_gives_one_output_row_per_spectrum(length):
    model = SpectraNet(SpectraNetConfig(n_bins=length, n_outputs=8, **CPU)).eval()
    with torch.no_grad():
        assert model(torch.randn(3, length)).shape == (3, 8)
        assert model(torch.randn(2, 1, length)).shape == (2, 8)


def set_output_bias(model, bias):
    """Make the last layer ignore its input and output ``bias``."""
    last = model.head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(bias)


def test_classifier_gives_raw_logits_one_row_per_spectrum():
    model = SpectraNet(SpectraNetConfig(n_bins=256, n_outputs=7, **CPU)).eval()
    set_output_bias(model, -3.0)
    with torch.no_grad():
        logits = model(torch.randn(4, 256))
    # Logits, not probabilities: the losses and the evaluation apply the softmax themselves.
    assert logits.shape == (4, 7)
    torch.testing.assert_close(logits, torch.full((4, 7), -3.0))


def test_redshift_head_is_one_non_negative_number():
    model = SpectraNet(SpectraNetConfig(n_bins=256, n_outputs=1, head="redshift", **CPU)).eval()
    with torch.no_grad():
        z = model(torch.randn(5, 256) * 10)
    assert z.shape == (5,) and bool((z >= 0).all())
    # A strongly negative pre-activation still gives z >= 0: the head is a softplus.
    set_output_bias(model, -3.0)
    with torch.no_grad():
        z = model(torch.randn(5, 256))
    torch.testing.assert_close(z, torch.full((5,), math.log1p(math.exp(-3.0))))


def test_output_does_not_depend_on_the_other_spectra_in_the_batch():
    model = SpectraNet(SpectraNetConfig(n_bins=256, n_outputs=4, **CPU)).eval()
    flux = torch.randn(3, 256)
    with torch.no_grad():
        torch.testing.assert_close(model(flux)[1:2], model(flux[1:2]), rtol=1e-5, atol=1e-5)


def profile_config(tmp_path, profile):
    """The classifier config that params.yaml gives for ``profile`` (9 classes)."""
    root = Path(__file__).resolve().parents[1]
    text = (root / "params.yaml").read_text()
    assert "profile: default" in text
    (tmp_path / "params.yaml").write_text(text.replace("profile: default", f"profile: {profile}", 1))
    params = load_params(tmp_path / "params.yaml")
    return SpectraNetConfig(n_bins=params["grid"]["n_bins"], **params["model"])


def test_paper_profile_in_params_is_the_papers_network(tmp_path):
    # SPEC: ~25.2 M parameters and ~4.1 GMAC per 4096-bin spectrum.
    config = profile_config(tmp_path, "paper")
    assert config.n_bins == 4096 and config.channels == (64, 128, 256, 512, 1024)
    assert count_parameters(SpectraNet(config)) == pytest.approx(25.2e6, rel=0.005)
    assert count_macs(config) == pytest.approx(4.1e9, rel=0.01)


def test_smaller_profiles_build_smaller_networks(tmp_path):
    sizes = {}
    for profile in ("smoke", "default", "paper"):
        config = profile_config(tmp_path, profile)
        sizes[profile] = (count_parameters(SpectraNet(config)), count_macs(config))
        if profile == "smoke":
            assert config.n_bins == 256 and config.channels == (8, 16, 16, 32, 32)
        if profile == "default":
            assert config.n_bins == 512 and config.channels == (16, 32, 64, 128, 256)
    assert sizes["smoke"][0] < sizes["default"][0] < sizes["paper"][0]
    assert sizes["smoke"][1] < sizes["default"][1] < sizes["paper"][1]


def test_count_macs_scales_with_the_input_length():
    config = SpectraNetConfig(n_bins=512, **CPU)
    # Convolutions dominate, and their cost is linear in the number of bins.
    assert count_macs(config, n_bins=1024) == pytest.approx(2 * count_macs(config), rel=0.02)
    assert count_macs(config, n_bins=1024) == count_macs(SpectraNetConfig(n_bins=1024, **CPU))


def test_config_errors_are_clear():
    with pytest.raises(ValueError, match="odd"):
        SpectraNetConfig(kernels=((3, 4, 5),) * 5)
    with pytest.raises(ValueError, match="one kernel triple per stage"):
        SpectraNetConfig(channels=(8, 8))
    with pytest.raises(ValueError, match="unknown head 'regression'"):
        SpectraNetConfig(head="regression")
