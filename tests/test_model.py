import pytest
import torch

from ciderlab.models.spectranet import SpectraNet, SpectraNetConfig, count_macs, count_parameters
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


def test_redshift_head_is_one_non_negative_number():
    model = SpectraNet(SpectraNetConfig(n_bins=256, n_outputs=1, head="redshift", **CPU)).eval()
    with torch.no_grad():
        z = model(torch.randn(5, 256) * 10)
    assert z.shape == (5,) and bool((z >= 0).all())


def test_profiles_in_params_build(tmp_path):
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for profile in ("default", "smoke", "paper"):
        text = (root / "params.yaml").read_text().replace("profile: default", f"profile: {profile}", 1)
        (tmp_path / "params.yaml").write_text(text)
        params = load_params(tmp_path / "params.yaml")
        config = SpectraNetConfig(n_bins=params["grid"]["n_bins"], **params["model"])
        assert count_parameters(SpectraNet(config)) > 0
        if profile == "paper":
            assert config.n_bins == 4096 and config.channels[-1] == 1024


def test_config_errors_are_clear():
    with pytest.raises(ValueError, match="odd"):
        SpectraNetConfig(kernels=((3, 4, 5),) * 5)
    with pytest.raises(ValueError, match="one kernel triple per stage"):
        SpectraNetConfig(channels=(8, 8))
