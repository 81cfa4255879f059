import numpy as np
import pytest
import torch

from ciderlab import __version__
from ciderlab.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig

TINY = SpectraNetConfig(n_bins=64, n_outputs=3, channels=(4, 4, 8), kernels=((3, 5, 9),) * 3,
                        hidden=8)


def saved(tmp_path, config=TINY, **describe):
    """A freshly initialised model and the checkpoint file it was saved to."""
    torch.manual_seed(0)
    model = SpectraNet(config).eval()
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, **describe)
    return model, path


def test_round_trip_gives_the_same_model_and_description(tmp_path):
    wave_aa = np.linspace(3150, 9200, 64)
    model, path = saved(tmp_path, classes=["AGN", "SN Ia", "TDE"], split_hash="abc123",
                        recipe={"lr": 1e-3}, wave_aa=wave_aa)
    loaded, payload = load_checkpoint(path)
    assert not loaded.training  # ready for inference: dropout off
    assert loaded.config == TINY
    flux = torch.randn(4, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(flux), model(flux), rtol=0, atol=0)
    assert payload["classes"] == ["AGN", "SN Ia", "TDE"]
    assert payload["split_hash"] == "abc123" and payload["recipe"] == {"lr": 1e-3}
    np.testing.assert_array_equal(payload["wave_aa"], wave_aa)
    assert payload["ciderlab_version"] == __version__
    assert payload["checkpoint_format"] == CHECKPOINT_FORMAT


def test_redshift_head_survives_the_round_trip(tmp_path):
    config = SpectraNetConfig(**{**TINY.to_dict(), "n_outputs": 1, "head": "redshift"})
    model, path = saved(tmp_path, config)
    loaded, _ = load_checkpoint(path)
    flux = torch.randn(2, 64)
    with torch.no_grad():
        z = loaded(flux)
        torch.testing.assert_close(z, model(flux), rtol=0, atol=0)
    assert z.shape == (2,)


def test_missing_file_says_to_train_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the training stage") as error:
        load_checkpoint(tmp_path / "absent.pt")
    assert str(tmp_path / "absent.pt") in str(error.value)


def test_a_text_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("these are not weights\n")
    with pytest.raises(ValueError, match="not a ciderlab checkpoint") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("content", [{"weights": torch.zeros(3)}, torch.zeros(3)])
def test_a_torch_file_without_the_checkpoint_keys_is_refused(tmp_path, content):
    path = tmp_path / "other.pt"
    torch.save(content, path)
    with pytest.raises(ValueError, match="not a ciderlab checkpoint") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def rewrite(path, **changes):
    """Edit a saved checkpoint's payload in place (None deletes the key)."""
    payload = torch.load(path, weights_only=False)
    for key, value in changes.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    torch.save(payload, path)


def test_a_checkpoint_in_another_format_is_refused_with_what_to_do(tmp_path):
    _, path = saved(tmp_path)
    rewrite(path, checkpoint_format=CHECKPOINT_FORMAT + 1, ciderlab_version="9.9.9")
    with pytest.raises(ValueError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert str(path) in message and f"format {CHECKPOINT_FORMAT + 1}" in message
    assert "retrain" in message and "ciderlab 9.9.9" in message


def test_a_checkpoint_from_before_formats_were_recorded_is_refused(tmp_path):
    _, path = saved(tmp_path)
    rewrite(path, checkpoint_format=None)
    with pytest.raises(ValueError, match="format unrecorded.*retrain"):
        load_checkpoint(path)


def test_weights_that_do_not_fit_the_stored_config_are_reported(tmp_path):
    _, path = saved(tmp_path)
    rewrite(path, model_config={**TINY.to_dict(), "hidden": 16})
    with pytest.raises(ValueError, match="do not fit the model config") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_description_cannot_overwrite_what_save_checkpoint_records(tmp_path):
    with pytest.raises(ValueError, match="checkpoint_format"):
        saved(tmp_path, checkpoint_format=0)
