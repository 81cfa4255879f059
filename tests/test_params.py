from pathlib import Path

import pytest

from ciderlab.errors import InputError
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


def test_repository_params_fit_the_schema_in_every_profile(tmp_path):
    import yaml

    from ciderlab.params import schema_problems

    raw = repository_params()
    assert schema_problems(raw) == []
    for profile in PROFILES:
        (tmp_path / "params.yaml").write_text(yaml.safe_dump({**raw, "profile": profile}))
        assert load_params(tmp_path / "params.yaml")["profile"] == profile


def test_schema_keys_are_the_config_dataclasses_fields():
    # The sections a dataclass reads may set exactly its fields (plus the few read elsewhere).
    from dataclasses import fields

    from ciderlab.spectranet.evaluate import EvaluateConfig
    from ciderlab.spectranet.model import SpectraNetConfig
    from ciderlab.params import SCHEMA
    from ciderlab.spectra.continua import ContinuumConfig
    from ciderlab.spectra.preprocess import PreprocessConfig
    from ciderlab.spectranet.realise import RealiseConfig
    from ciderlab.training.loop import TrainConfig

    def names(cls, *drop):
        return {f.name for f in fields(cls)} - set(drop)

    assert set(SCHEMA["train_classifier"]) == names(TrainConfig) | {"seeds", "model"}
    assert SCHEMA["train_redshift"] == SCHEMA["train_classifier"]
    assert set(SCHEMA["realise"]) == (names(RealiseConfig, "preprocess")
                                      | {"max_spectra_per_object", "workers"})
    assert set(SCHEMA["realise"]["continuum"]) == names(ContinuumConfig)
    assert set(SCHEMA["grid"]) | set(SCHEMA["preprocess"]) == names(PreprocessConfig)
    # n_bins comes from grid, n_outputs and head from the stage (training.runs)
    assert set(SCHEMA["model"]) == names(SpectraNetConfig, "n_bins", "n_outputs", "head")
    assert set(SCHEMA["evaluate"]) == names(EvaluateConfig)
    from ciderlab.applecider.galspecnet import GalSpecNetConfig
    from ciderlab.applecider.galspecnet_input import GalSpecInputConfig

    assert set(SCHEMA["train_galspecnet"]) == (names(TrainConfig) | names(GalSpecInputConfig)
                                               | {"model", "torch_threads"})
    assert set(SCHEMA["train_galspecnet"]["model"]) == names(GalSpecNetConfig, "n_bins",
                                                             "n_outputs")


@pytest.mark.parametrize("text, expected", [
    ("model: {hidden: 8\n", "not valid YAML (line 2"),
    ("trian_classifier: {lr: 1.0e-3}\n", "did you mean 'train_classifier'?"),
    ("model: {hiden: 8}\n", "unknown key 'model.hiden' (did you mean 'hidden'?)"),
    ("train_redshift: {lr: 1e-3}\n", "train_redshift.lr is '1e-3', expected a number"),
    ("train_redshift: {batch_size: 6.5}\n", "batch_size is 6.5, expected a whole number"),
    ("train_redshift: {use_ema: 1}\n", "use_ema is 1, expected true or false"),
    ("model: {channels: [8, x]}\n", "model.channels is [8, 'x'], expected a list of a whole"),
    ("profiles: {smoke: {model: {hiden: 8}}}\n", "'profiles.smoke.model.hiden'"),
])
def test_bad_settings_are_named_with_what_to_do(tmp_path, text, expected):
    from ciderlab.errors import InputError

    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_params(path)
    assert expected in str(error.value) and str(path) in str(error.value)


def test_a_heads_own_model_section_overrides_the_shared_one_for_that_head_only():
    from ciderlab.training.heads import CLASSIFIER, REDSHIFT
    from ciderlab.training.runs import model_config_from_params

    params = load_params(Path(__file__).parents[1] / "params.yaml")
    params["train_redshift"]["model"] = {"dropout": 0.05}
    params["train_classifier"].pop("model", None)
    redshift = model_config_from_params(params, REDSHIFT, ["a", "b"])
    classifier = model_config_from_params(params, CLASSIFIER, ["a", "b"])
    assert redshift.dropout == 0.05
    assert classifier.dropout == params["model"]["dropout"]
    # An explicit override (the ablation's) still wins over both.
    assert model_config_from_params(params, REDSHIFT, ["a"], {"dropout": 0.3}).dropout == 0.3


def test_an_edit_the_active_profile_replaces_is_named():
    from ciderlab.params import shadowed_edits

    committed = {"profile": "smoke", "model": {"kernels": [[3]], "hidden": 8},
                 "profiles": {"smoke": {"model": {"kernels": [[5]]}}}}
    edited = {**committed, "model": {"kernels": [[7]], "hidden": 8}}
    assert shadowed_edits(edited, committed) == ["model.kernels"]
    # a key the profile leaves alone, or an edit of the profile's own value, is fine
    assert shadowed_edits({**committed, "model": {"kernels": [[3]], "hidden": 16}}, committed) == []
    assert shadowed_edits({**committed, "profiles": {"smoke": {"model": {"kernels": [[9]]}}}},
                          committed) == []


def test_a_silently_overridden_edit_in_a_git_checkout_is_an_error(tmp_path):
    # What `dvc exp run -S model.kernels=...` does with the smoke profile active: the base
    # value changes in the working copy, the profile's value would win.
    import subprocess

    import yaml

    from ciderlab.errors import InputError

    raw = yaml.safe_load((Path(__file__).parents[1] / "params.yaml").read_text())
    raw["profile"] = "smoke"
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    for command in (["git", "init", "-q"], ["git", "add", "params.yaml"],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "p"]):
        subprocess.run(command, cwd=tmp_path, check=True)
    assert load_params(path)["model"]["kernels"] == raw["profiles"]["smoke"]["model"]["kernels"]
    raw["model"]["kernels"] = [[3, 5, 7]] * 5
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(InputError, match=r"model\.kernels changed.*profiles\.smoke\.model\.kernels"):
        load_params(path)
    raw["profiles"]["smoke"]["model"]["kernels"] = [[3, 5, 7]] * 5  # the way that works
    raw["model"]["kernels"] = yaml.safe_load((Path(__file__).parents[1] / "params.yaml")
                                             .read_text())["model"]["kernels"]
    path.write_text(yaml.safe_dump(raw))
    assert load_params(path)["model"]["kernels"] == [[3, 5, 7]] * 5


def test_a_page_can_read_another_profile_than_the_active_one(tmp_path):
    from tests.recipes import params_file

    path = params_file(tmp_path)  # the repository's params.yaml: profile default
    paper = load_params(path, profile="paper")
    default = load_params(path)
    assert paper["grid"]["n_bins"] == 4096 and default["grid"]["n_bins"] == 512
    assert load_params(path, profile="default") == default
    with pytest.raises(InputError, match="'nope' is not defined"):
        load_params(path, profile="nope")
