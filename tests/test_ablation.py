"""The ablation stage's model folder: one folder per variant, kept between runs."""

import pytest

from ciderlab.spectranet.ablation import _replace_folder, variant_folder, variant_folders


def test_a_variant_folder_is_its_name_in_plain_characters():
    assert variant_folder("the authors' focal loss instead of cross-entropy") == (
        "the-authors-focal-loss-instead-of-cross-entropy")
    assert variant_folder("EMA off") == "ema-off"


def test_two_variants_that_would_share_a_folder_are_refused():
    with pytest.raises(ValueError, match="'EMA off' and 'ema-off' both make the folder 'ema-off'"):
        variant_folders(["EMA off", "ema-off"])


def test_the_new_model_set_replaces_the_old_and_drops_an_interrupted_runs_leftovers(tmp_path):
    old, new = tmp_path / "models", tmp_path / "models.new"
    (old / "removed-variant").mkdir(parents=True)
    (old / "removed-variant" / "fold_0.pt").write_bytes(b"old")
    (new / "kept").mkdir(parents=True)
    (new / "kept" / "fold_0.pt").write_bytes(b"this run")
    (new / "stale").mkdir()
    (new / "stale" / "fold_1.pt").write_bytes(b"an interrupted run's, not asked for now")
    _replace_folder(old, new, keep={new / "kept" / "fold_0.pt"})
    assert not new.exists()
    assert sorted(p.relative_to(old).as_posix() for p in old.rglob("*")) == ["kept",
                                                                              "kept/fold_0.pt"]
    assert (old / "kept" / "fold_0.pt").read_bytes() == b"this run"
