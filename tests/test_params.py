import pytest

from ciderlab.params import load_params, resolve_params


def test_profile_overrides_only_what_it_names():
    raw = {"profile": "smoke", "model": {"hidden": 128, "dropout": 0.5},
           "profiles": {"smoke": {"model": {"hidden": 8}}}}
    params = resolve_params(raw)
    assert params["model"] == {"hidden": 8, "dropout": 0.5}
    assert "profiles" not in params


def test_default_profile_is_the_base():
    raw = {"profile": "default", "model": {"hidden": 128}, "profiles": {"smoke": {"model": {"hidden": 8}}}}
    assert resolve_params(raw)["model"]["hidden"] == 128


def test_unknown_profile_and_missing_file_are_clear(tmp_path):
    with pytest.raises(ValueError, match="profile 'gpu' is not defined"):
        resolve_params({"profile": "gpu", "profiles": {"smoke": {}}})
    with pytest.raises(FileNotFoundError, match="repository root"):
        load_params(tmp_path / "params.yaml")


def test_repository_params_resolve_for_every_profile():
    from pathlib import Path

    import yaml

    raw = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())
    for profile in ["default", *raw["profiles"]]:
        params = resolve_params({**raw, "profile": profile})
        assert params["grid"]["n_bins"] > 0 and params["train_classifier"]["max_epochs"] > 0
