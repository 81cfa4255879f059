from pathlib import Path

import pytest

from ciderlab.params import PROFILES, load_params, resolve_params


def test_profile_overrides_only_what_it_names():
    raw = {"profile": "smoke", "model": {"hidden": 128, "dropout": 0.5},
           "profiles": {"smoke": {"model": {"hidden": 8}}}}
    params = resolve_params(raw)
    assert params["model"] == {"hidden": 8, "dropout": 0.5}
    assert "profiles" not in params


def test_default_profile_is_the_base():
    raw = {"profile": "default", "model": {"hidden": 128}, "profiles": {"smoke": {"model": {"hidden": 8}}}}
    assert resolve_params(raw)["model"]["hidden"] == 128


def test_profile_overrides_do_not_touch_the_raw_parameters():
    raw = {"profile": "smoke", "model": {"hidden": 128}, "profiles": {"smoke": {"model": {"hidden": 8}}}}
    resolve_params(raw)
    assert raw["model"]["hidden"] == 128


def test_unknown_profile_and_missing_file_are_clear(tmp_path):
    with pytest.raises(ValueError, match="profile 'gpu' is not defined.*known: default, smoke"):
        resolve_params({"profile": "gpu", "profiles": {"smoke": {}}})
    with pytest.raises(FileNotFoundError, match="repository root") as error:
        load_params(tmp_path / "params.yaml")
    assert str(tmp_path / "params.yaml") in str(error.value)


def test_unknown_profile_in_a_file_is_named(tmp_path):
    (tmp_path / "params.yaml").write_text("profile: gpu\nmodel: {hidden: 8}\nprofiles: {smoke: {}}\n")
    with pytest.raises(ValueError, match="profile 'gpu' is not defined"):
        load_params(tmp_path / "params.yaml")


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    (tmp_path / "params.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="expected a mapping") as error:
        load_params(tmp_path / "params.yaml")
    assert str(tmp_path / "params.yaml") in str(error.value)


def repository_params():
    import yaml

    return yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())


def test_repository_profiles_are_the_documented_ones():
    assert set(repository_params()["profiles"]) == set(PROFILES) - {"default"}


def test_repository_smoke_profile_shrinks_the_run_and_keeps_the_rest():
    raw = repository_params()
    base = resolve_params({**raw, "profile": "default"})
    smoke = resolve_params({**raw, "profile": "smoke"})
    assert base["grid"]["n_bins"] == 512 and smoke["grid"]["n_bins"] == 256
    assert smoke["split"]["max_objects_per_class"] == 6
    assert base["split"]["max_objects_per_class"] is None
    assert smoke["model"]["hidden"] < base["model"]["hidden"]
    assert (smoke["train_classifier"]["max_epochs"] < base["train_classifier"]["max_epochs"])
    # What the profile does not name comes from the base sections unchanged.
    assert smoke["labels"] == base["labels"]
    assert smoke["split"]["salt"] == base["split"]["salt"]
    assert smoke["grid"]["obs_wave_min_aa"] == base["grid"]["obs_wave_min_aa"]
    assert smoke["train_classifier"]["seeds"] == base["train_classifier"]["seeds"]


def test_repository_paper_profile_is_the_papers_set_up():
    raw = repository_params()
    paper = resolve_params({**raw, "profile": "paper"})
    assert paper["grid"]["n_bins"] == 4096
    assert paper["model"]["channels"] == [64, 128, 256, 512, 1024]
    assert paper["model"]["hidden"] == 384
    assert paper["train_classifier"]["batch_size"] == 256
    assert paper["train_classifier"]["max_epochs"] == 100
    assert paper["model"]["dropout"] == raw["model"]["dropout"]  # not overridden


def test_default_profile_is_the_base_sections():
    raw = repository_params()
    base = resolve_params({**raw, "profile": "default"})
    assert base == {k: v for k, v in raw.items() if k != "profiles"}
