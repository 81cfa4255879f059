"""The main pipeline on a catalogue of labelled spectra (params.yaml spectra.source a folder):
``ciderlab split`` and ``ciderlab realise`` write the bank's layout from the real files of
real_spectra/ (SEDM, SNIFS, SDSS, ... as their pipelines wrote them), so every later stage
reads them unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ciderlab.cli import main
from ciderlab.data.spectra_catalogue import read_spectra_catalogue
from ciderlab.data.spectra_source import scored_realisations
from ciderlab.data.split import check_disjoint
from ciderlab.errors import InputError
from ciderlab.evaluation import figures, tables
from ciderlab.io import load_spectra, load_table
from ciderlab.params import load_params
from ciderlab.spectranet.augment import AugmentConfig
from ciderlab.spectranet.catalogue_source import build_catalogue_dataset, realise_catalogue
from ciderlab.spectranet.real_spectra import model_inputs
from recipes import preprocess_config

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "real_spectra" / "truth.csv"


def catalogue_params(n_variants: int = 3) -> dict:
    params = load_params(ROOT / "params.yaml")
    params["spectra"] = {"source": str(TRUTH.parent), "csv": TRUTH.name}
    params["augment"] = {**params["augment"], "n_variants": n_variants}
    return params


def small_catalogue(folder: Path, per_class: int = 3) -> Path:
    """A catalogue folder of the first real files of three classes, ``per_class`` objects each."""
    table = read_spectra_catalogue(TRUTH)
    chosen = (table[table["label"].isin(["SN Ia", "SN IIP", "TDE"])]
              .drop_duplicates("object").groupby("label").head(per_class))
    folder.mkdir()
    for name in chosen["file"]:
        shutil.copy(TRUTH.parent / name, folder / name)
    chosen.drop(columns=["label", "path"]).to_csv(folder / "catalogue.csv", index=False)
    return folder


def test_the_split_groups_spectra_by_object_and_says_why_each_row_is_left_out():
    params = catalogue_params()
    dataset = build_catalogue_dataset(TRUTH, params)
    table = read_spectra_catalogue(TRUTH)
    assert len(dataset.catalogue) == len(table)
    used = dataset.catalogue[dataset.catalogue["reason"] == ""]
    # one object, one class, one fold: the split is by object
    assert set(dataset.split["object_id"]) == set(used["object_id"])
    check_disjoint(dataset.split)
    assert set(dataset.split["split"]) == {"train", "val", "test"}
    assert set(dataset.split["fold"]) == set(range(params["split"]["n_folds"]))
    # the set's two AGN and two SN IIb objects are too few; its SLSN, LBV, ... are no class
    assert set(dataset.dropped_classes) == {"AGN", "SN IIb"}
    assert "fewer than the 3 needed" in dataset.dropped_classes["AGN"]
    left_out = dataset.catalogue.loc[dataset.catalogue["reason"] != "", "reason"]
    assert left_out.str.contains("class dropped|is not one of the configured classes").all()
    assert dataset.classes == sorted(set(used["label"]), key=list(
        params["labels"]["classes"]).index)
    again = build_catalogue_dataset(TRUTH, params)
    pd.testing.assert_frame_equal(again.split, dataset.split)  # by the object names alone


def test_an_object_filed_under_two_classes_is_refused(tmp_path):
    folder = small_catalogue(tmp_path / "mine")
    table = pd.read_csv(folder / "catalogue.csv", dtype=str, keep_default_na=False)
    table.loc[1, "object"] = table.loc[table["class"] != table.loc[1, "class"], "object"].iloc[0]
    table.to_csv(folder / "catalogue.csv", index=False)
    with pytest.raises(InputError, match="objects with spectra of two classes"):
        build_catalogue_dataset(folder / "catalogue.csv", catalogue_params())


def test_realisation_zero_is_what_classify_feeds_and_the_variants_train(tmp_path):
    folder = small_catalogue(tmp_path / "mine")
    params = catalogue_params(n_variants=3)
    dataset = build_catalogue_dataset(folder / "catalogue.csv", params)
    preprocess = preprocess_config()
    spectra, examples = realise_catalogue(folder, dataset.catalogue, dataset.split, preprocess,
                                          AugmentConfig.from_params(params), progress=False)
    meta = spectra.meta
    n_files = (dataset.catalogue["reason"] == "").sum()
    assert len(meta) == 3 * n_files and list(meta["realisation"][:3]) == [0, 1, 2]
    observed = meta["realisation"] == 0
    truth = read_spectra_catalogue(folder / "catalogue.csv").set_index("file")
    expected = model_inputs(truth.loc[meta.loc[observed, "template"]].reset_index(), folder,
                            preprocess)
    np.testing.assert_allclose(spectra.flux_rest[observed], expected["flux_rest"], atol=1e-5)
    np.testing.assert_allclose(spectra.flux_obs[observed], expected["flux_obs"], atol=1e-5)
    # the redshift model's target is the catalogue's; a variant's input was prepared nearby
    np.testing.assert_array_equal(meta["redshift"], truth.loc[meta["template"], "redshift"])
    jitter = (meta["redshift_used"] - meta["redshift"])[~observed]
    assert (jitter != 0).all() and jitter.abs().max() < 6 * params["augment"]["redshift_error"]
    # SNID-SAGE reads the raw flux: scaled to order one, never cgs-sized
    raw = spectra.flux_raw_obs[observed]
    levels = [np.median(np.abs(r[c])) for r, c in zip(raw, spectra.covered_obs[observed])]
    np.testing.assert_allclose(levels, 1.0, rtol=1e-5)
    assert np.isfinite(meta["snr"]).all() and (meta["snr"] > 0).all()
    assert {k.split("/")[0] for k in examples if "/" in k} == {"SN_Ia", "SN_IIP", "TDE"}
    again, _ = realise_catalogue(folder, dataset.catalogue, dataset.split, preprocess,
                                 AugmentConfig.from_params(params), progress=False)
    np.testing.assert_array_equal(again.flux_rest, spectra.flux_rest)

    # The book's data and preprocessing pages draw them: observed, nothing realised before
    # the grid, no phase known; and they say the spectra are a catalogue's.
    assert len(figures.fig_preprocessing(examples, "TDE").axes) == 3
    assert "no phase known" in [t.get_text() for t in
                                figures.fig_distributions(meta).axes[3].texts]
    assert "come from a catalogue" in tables.source_note(meta)
    assert "2 varied copies" in tables.source_note(meta)


def test_one_realisation_per_catalogue_spectrum_is_scored(tmp_path):
    params = catalogue_params()
    assert scored_realisations(params) == 1
    params["spectra"]["source"] = "data/raw/snid_sage-0.9.0-py3-none-any.whl"
    assert scored_realisations(params) == params["realise"]["n_realisations"]


def test_the_commands_write_the_banks_layout_from_a_catalogue_folder(tmp_path, capsys):
    folder = small_catalogue(tmp_path / "mine")
    params_file = tmp_path / "params.yaml"
    params_file.write_text((ROOT / "params.yaml").read_text().replace(
        "n_variants: 16", "n_variants: 2"))
    split_dir, out = tmp_path / "split", tmp_path / "realise"
    assert main(["split", "--params", str(params_file), "--source", str(folder),
                 "--out", str(split_dir)]) == 0
    assert main(["realise", "--params", str(params_file), "--source", str(folder),
                 "--split-dir", str(split_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "9 objects of the catalogue" in printed and "18 spectra (2 variants" in printed
    for name in ("split.csv", "catalogue.csv", "duplicates.csv", "classes.json"):
        assert (split_dir / name).is_file()
    spectra = load_spectra(out / "spectra.h5")
    assert len(spectra.meta) == 18 and (out / "examples.npz").is_file()
    assert list(load_table(out / "meta.csv")["object_id"]) == list(spectra.meta["object_id"])


def test_a_folder_without_its_catalogue_csv_is_refused_clearly(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(["split", "--params", str(ROOT / "params.yaml"), "--source",
                 str(tmp_path / "empty"), "--out", str(tmp_path / "split")])
    assert code != 0
    err = capsys.readouterr().err
    assert "is a directory with no catalogue.csv in it" in err and "spectra.csv" in err
    assert not (tmp_path / "split").exists()
