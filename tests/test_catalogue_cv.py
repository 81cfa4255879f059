"""SpectraNet on a catalogue of labelled real spectra (catalogue_cv): the spectra as observed are
exactly what ``classify`` feeds the classifier, fine-tuning starts from the pretrained weights,
and the cross-validation tests every object once per start, on real files of real_spectra/."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ciderlab.checkpoint import load_checkpoint, save_checkpoint
from ciderlab.cli import main
from ciderlab.data.spectra_catalogue import read_spectra_catalogue
from ciderlab.errors import InputError
from ciderlab.params import load_params
from ciderlab.spectra.preprocess import PreprocessConfig
from ciderlab.spectranet.augment import AugmentConfig
from ciderlab.spectranet.catalogue_cv import (AS_TRAINED, STARTS,
                                              catalogue_inputs, cross_validate_catalogue,
                                              fine_tune_builder, usable_rows)
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.spectranet.real_spectra import model_inputs
from recipes import preprocess_config

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "real_spectra" / "truth.csv"
PRETRAINED_CLASSES = ["SN Ia", "SN IIP", "TDE", "AGN"]


def tiny_checkpoint(path: Path) -> Path:
    torch.manual_seed(0)
    config = SpectraNetConfig(n_bins=256, n_outputs=len(PRETRAINED_CLASSES), head="classifier",
                              channels=(4, 4, 4, 4, 4), kernels=((3, 5, 7),) * 5, hidden=8)
    save_checkpoint(path, SpectraNet(config), classes=PRETRAINED_CLASSES,
                    preprocess=preprocess_config(n_bins=256).to_dict())
    return path


def small_params(n_variants: int = 2, **overrides) -> dict:
    params = load_params(ROOT / "params.yaml")
    params["augment"] = {**params["augment"], "n_variants": n_variants}
    params["catalogue_cv"] = {**params["catalogue_cv"], "workers": 1,
                              "recipe": {"max_epochs": 1, "warmup_epochs": 0, "patience": 1,
                                         "samples_per_epoch": None, "batch_size": 16},
                              **overrides}
    return params


def test_classes_with_too_few_objects_and_unmapped_types_are_left_out_with_reasons():
    table = read_spectra_catalogue(TRUTH)
    kept, reasons = usable_rows(table, min_objects=3)
    assert set(kept["label"]) == {"CV", "SN IIP", "SN IIn", "SN Ia", "SN Ib", "SN Ic", "TDE"}
    assert len(kept) + len(reasons) == len(table)
    # the bank's two AGN and two SN IIb objects are fewer than three objects each
    assert {r.split(":")[0] for r in reasons.values()} == {"AGN", "SN IIb"}
    assert all("fewer than catalogue_cv.min_objects (3)" in r for r in reasons.values())


def test_the_spectrum_as_observed_is_what_classify_feeds_and_variants_repeat(tmp_path):
    table = read_spectra_catalogue(TRUTH).head(3)
    preprocess = preprocess_config(n_bins=256)
    cfg = AugmentConfig.from_params(small_params(n_variants=3))
    flux, meta = catalogue_inputs(table, TRUTH.parent, preprocess, cfg)
    assert flux.shape == (9, 256) and list(meta["realisation"]) == [0, 1, 2] * 3
    observed = model_inputs(table.rename(columns={"object": "object_id"}), TRUTH.parent,
                            preprocess)["flux_rest"]
    np.testing.assert_array_equal(flux[meta["realisation"] == 0], observed.astype(np.float32))
    varied = flux[meta["realisation"] == 1]
    assert not np.allclose(varied, flux[meta["realisation"] == 0])
    again, _ = catalogue_inputs(table, TRUTH.parent, preprocess, cfg)
    np.testing.assert_array_equal(again, flux)  # each variant fixed by seed, file and index
    jitter = meta.loc[meta["realisation"] > 0, "redshift"].to_numpy() - \
        np.repeat(table["redshift"].to_numpy(), 2)
    assert 0 < np.abs(jitter).max() < 6 * cfg.redshift_error


def test_fine_tuning_starts_from_the_pretrained_weights_and_new_classes_get_new_rows(tmp_path):
    pretrained, _ = load_checkpoint(tiny_checkpoint(tmp_path / "c.pt"))
    classes = ["CV", "SN Ia", "TDE"]
    config = SpectraNetConfig(**{**pretrained.config.to_dict(), "n_outputs": len(classes)})
    torch.manual_seed(1)
    model = fine_tune_builder(pretrained, PRETRAINED_CLASSES, classes)(config)
    old, new = pretrained.state_dict(), model.state_dict()
    differently_shaped = [k for k in old if old[k].shape != new[k].shape]
    assert differently_shaped  # the output layer's weight and bias
    for key in old:
        if key not in differently_shaped:
            assert torch.equal(old[key], new[key]), key
    for key in differently_shaped:
        for k, name in enumerate(classes):
            if name in PRETRAINED_CLASSES:
                assert torch.equal(new[key][k], old[key][PRETRAINED_CLASSES.index(name)])
        assert not any(torch.equal(new[key][0], row) for row in old[key])  # CV: a new row


def test_every_object_is_tested_once_per_start_and_the_models_classify(tmp_path, capsys):
    table = read_spectra_catalogue(TRUTH)
    chosen = table[table["label"].isin(["SN Ia", "TDE", "SN IIP"])]
    chosen = chosen.groupby("label").head(6)  # 3 training objects a class: 1 for validation
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in chosen["file"]:
        shutil.copy(TRUTH.parent / name, folder / name)
    chosen.drop(columns=["label", "path"]).to_csv(folder / "catalogue.csv", index=False)
    params = small_params(n_folds=2, min_objects=3)
    result = cross_validate_catalogue(folder / "catalogue.csv", tiny_checkpoint(tmp_path / "c.pt"),
                                      params, models_dir=tmp_path / "models", progress=False)
    predictions = result.predictions
    assert list(predictions["start"].unique()) == [AS_TRAINED, *STARTS]
    for start, group in predictions.groupby("start"):
        assert sorted(group["file"]) == sorted(chosen["file"]), start  # each file tested once
        assert group.groupby("object")["fold"].nunique().max() == 1
    assert result.metrics["classes"] == ["SN IIP", "SN Ia", "TDE"]
    for scores in result.metrics["starts"].values():
        assert 0 <= scores["accuracy"] <= 1 and set(scores["per_class_f1"]) == \
            set(result.metrics["classes"])
    saved = sorted(p.name for p in (tmp_path / "models").glob("*.pt"))
    assert saved == ["fine-tuned_fold0.pt", "fine-tuned_fold1.pt", "from-scratch_fold0.pt",
                     "from-scratch_fold1.pt"]
    model, described = load_checkpoint(tmp_path / "models" / "fine-tuned_fold0.pt")
    assert described["classes"] == result.metrics["classes"]
    assert PreprocessConfig.from_dict(described["preprocess"]) == preprocess_config(n_bins=256)
    # a fold model is a classifier `ciderlab classify` uses, at the catalogue's redshifts
    redshift = tmp_path / "z.pt"
    save_checkpoint(redshift, SpectraNet(SpectraNetConfig(
        n_bins=256, n_outputs=1, head="redshift", channels=(4, 4, 4, 4, 4),
        kernels=((3, 5, 7),) * 5, hidden=8)), classes=PRETRAINED_CLASSES,
        preprocess=preprocess_config(n_bins=256).to_dict())
    assert main(["classify", "--catalogue", str(folder / "catalogue.csv"), "--csv",
                 "--classifier", str(tmp_path / "models" / "fine-tuned_fold0.pt"),
                 "--redshift-model", str(redshift)]) == 0
    answers = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(answers) == len(chosen) and set(answers["true_label"]) == set(chosen["label"])


def test_too_few_objects_for_validation_is_a_clear_error(tmp_path):
    table = read_spectra_catalogue(TRUTH)
    chosen = table[table["label"].isin(["SN Ia", "TDE"])].groupby("label").head(4)
    folder = tmp_path / "small"
    folder.mkdir()
    for name in chosen["file"]:
        shutil.copy(TRUTH.parent / name, folder / name)
    chosen.drop(columns=["label", "path"]).to_csv(folder / "catalogue.csv", index=False)
    with pytest.raises(InputError, match="a fold has no validation objects"):
        cross_validate_catalogue(folder / "catalogue.csv", tiny_checkpoint(tmp_path / "c.pt"),
                                 small_params(n_folds=2), progress=False)


def test_a_catalogue_without_a_usable_class_is_a_clear_error(tmp_path):
    folder = tmp_path / "few"
    folder.mkdir()
    row = read_spectra_catalogue(TRUTH).iloc[0]
    shutil.copy(TRUTH.parent / row["file"], folder / row["file"])
    pd.DataFrame([row.drop(["label", "path"])]).to_csv(folder / "catalogue.csv", index=False)
    with pytest.raises(InputError, match="nothing to cross-validate"):
        cross_validate_catalogue(folder / "catalogue.csv", tiny_checkpoint(tmp_path / "c.pt"),
                                 small_params(), progress=False)
