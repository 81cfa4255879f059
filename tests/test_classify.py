"""Classifying one's own spectra: same answer from every file format, known redshift, warnings, CLI."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from recipes import preprocess_config
from ciderlab.spectranet.classify import classify_file, classify_spectrum, estimate_snr
from ciderlab.spectranet.shipped import TrainingDomain, load_models
from ciderlab.cli import main
from ciderlab.errors import InputError
from ciderlab.checkpoint import save_checkpoint
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.spectra.grid import make_log_grid
from ciderlab.spectra.preprocess import prepare_observed, to_model_grid
from ciderlab.spectra.readers.writers import (save_log_wcs_fits, save_sedm_ascii,
                                              save_skyportal_json)

CLASSES = ["SN Ia", "SN II", "SN Ibc", "TDE"]
PREPROCESS = preprocess_config(n_bins=256)
DOMAIN = TrainingDomain(0.005, 0.2, 10.0)


def smoke_checkpoints(tmp_path):
    """A random-weight classifier and redshift model, saved the way training saves them."""
    torch.manual_seed(0)
    small = dict(n_bins=256, channels=(4, 4, 4, 4, 4), kernels=((3, 5, 7),) * 5, hidden=8)
    paths = {}
    for head, n_out in (("classifier", len(CLASSES)), ("redshift", 1)):
        config = SpectraNetConfig(n_outputs=n_out, head=head, **small)
        paths[head] = tmp_path / f"{head}.pt"
        save_checkpoint(paths[head], SpectraNet(config), classes=CLASSES,
                        preprocess=PREPROCESS.to_dict())
    return paths


@pytest.fixture
def checkpoints(tmp_path):
    return smoke_checkpoints(tmp_path)


@pytest.fixture
def models(checkpoints):
    return load_models(checkpoints["classifier"], checkpoints["redshift"],
                       {"realise": {"redshift_min": 0.005, "redshift_max": 0.2, "snr_min": 10}})


def sn_like(wave_aa, snr=50.0, seed=1):
    """A blackbody-ish continuum with broad absorptions and Gaussian noise at ``snr`` per pixel."""
    rng = np.random.default_rng(seed)
    continuum = (wave_aa / 5000.0) ** -2.0
    lines = 1 - 0.3 * np.exp(-0.5 * ((wave_aa - 6150) / 80) ** 2) \
        - 0.2 * np.exp(-0.5 * ((wave_aa - 4500) / 150) ** 2)
    flux = continuum * lines
    return flux * (1 + rng.normal(0, 1 / snr, wave_aa.size)), flux / snr


WAVE = make_log_grid(3700, 9300, 700)  # R ~ 750 pixels: finer than the model's


def test_same_answer_from_sedm_ascii_fits_and_skyportal_json(tmp_path, models):
    flux, err = sn_like(WAVE)
    save_sedm_ascii(tmp_path / "s.txt", WAVE, flux, err, {"SOURCE": "ZTF21test"})
    save_log_wcs_fits(tmp_path / "s.fits", WAVE, flux)
    save_skyportal_json(tmp_path / "s.json", WAVE, flux, err)
    answers = [classify_file(tmp_path / name, models)[1] for name in ("s.txt", "s.fits", "s.json")]
    # The formats carry the flux at different precisions (text digits, FITS float32), and a
    # random-weight network passes the difference on: 1e-4 in z is a tenth of the redshift's
    # last reported digit, far below any difference a reader bug would make.
    for other in answers[1:]:
        assert other.redshift == pytest.approx(answers[0].redshift, abs=1e-4)
        assert [c for c, _ in other.top] == [c for c, _ in answers[0].top]
        for label in CLASSES:
            assert other.probabilities[label] == pytest.approx(answers[0].probabilities[label],
                                                               abs=1e-4)
    assert answers[0].redshift_source == "predicted"
    assert len(answers[0].top) == 3
    assert sum(answers[0].probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_uses_the_one_preprocessing_path(models):
    flux, _ = sn_like(WAVE)
    result = classify_spectrum(WAVE, flux, models.classifier, models.redshift_model)
    grid_flux, covered = to_model_grid(WAVE, flux, PREPROCESS)
    _, expected = prepare_observed(grid_flux, covered, PREPROCESS)
    np.testing.assert_allclose(result.inputs.flux_obs, expected)
    np.testing.assert_array_equal(result.inputs.covered_obs, covered)


def test_a_known_redshift_is_used(models):
    flux, err = sn_like(WAVE)
    low = classify_spectrum(WAVE, flux, models.classifier, models.redshift_model, redshift=0.02,
                            flux_err=err, domain=DOMAIN)
    high = classify_spectrum(WAVE, flux, models.classifier, models.redshift_model, redshift=0.15,
                             flux_err=err, domain=DOMAIN)
    assert (low.redshift, low.redshift_source) == (0.02, "given")
    assert high.redshift == 0.15
    # The rest-frame input moves with the redshift: de-redshifting shifts it by ln(1.15/1.02).
    assert not np.allclose(low.inputs.flux_rest, high.inputs.flux_rest)
    assert low.warnings == [] and high.warnings == []


def test_warnings_fire_when_the_input_lies_outside_training(models):
    kwargs = dict(classifier=models.classifier, redshift_model=models.redshift_model,
                  redshift=0.05, domain=DOMAIN)
    flux, err = sn_like(WAVE)
    assert classify_spectrum(WAVE, flux, flux_err=err, **kwargs).warnings == []
    assert any("outside the training range" in w for w in classify_spectrum(
        WAVE, flux, flux_err=err, **{**kwargs, "redshift": 0.5}).warnings)
    narrow = (WAVE > 3700) & (WAVE < 5300)  # ~40% of the model's window
    assert any("covers only" in w for w in classify_spectrum(
        WAVE[narrow], flux[narrow], flux_err=err[narrow], **kwargs).warnings)
    coarse = make_log_grid(3700, 9300, 40)  # pixels of 0.022 in ln(lambda), R ~ 20
    flux_coarse, err_coarse = sn_like(coarse)
    assert any("resolution coarser" in w for w in classify_spectrum(
        coarse, flux_coarse, flux_err=err_coarse, **kwargs).warnings)
    noisy, noisy_err = sn_like(WAVE, snr=0.5)
    assert any("S/N" in w for w in classify_spectrum(
        WAVE, noisy, flux_err=noisy_err, **kwargs).warnings)
    assert any("S/N" in w for w in classify_spectrum(WAVE, noisy, **kwargs).warnings)


def test_too_little_of_the_window_is_an_error(models):
    flux, _ = sn_like(WAVE)
    blue = WAVE < 4300
    with pytest.raises(InputError, match="covers .* of the model's window"):
        classify_spectrum(WAVE[blue], flux[blue], models.classifier, models.redshift_model)


def test_der_snr_estimate_matches_the_noise():
    wave = np.linspace(4000, 9000, 3000)
    rng = np.random.default_rng(3)
    flux = 10.0 * (1 + 0.1 * np.sin(wave / 500)) + rng.normal(0, 0.5, wave.size)  # S/N ~ 20
    assert estimate_snr(flux) == pytest.approx(20.0, rel=0.1)


def test_swapped_checkpoints_are_refused(checkpoints):
    with pytest.raises(InputError, match="not a classifier checkpoint.*--classifier"):
        load_models(checkpoints["redshift"], checkpoints["classifier"])


def test_cli_many_files_one_bad_still_classifies_the_rest(tmp_path, checkpoints, capsys):
    flux, err = sn_like(WAVE)
    save_sedm_ascii(tmp_path / "good.txt", WAVE, flux, err)
    save_skyportal_json(tmp_path / "good.json", WAVE, flux, err)
    (tmp_path / "bad.txt").write_text("# nothing here\n")
    out, plots = tmp_path / "answers.csv", tmp_path / "plots"
    code = main(["classify", str(tmp_path / "good.txt"), str(tmp_path / "bad.txt"),
                 str(tmp_path / "good.json"), "--classifier", str(checkpoints["classifier"]),
                 "--redshift-model", str(checkpoints["redshift"]), "--csv", "--out", str(out),
                 "--plot", str(plots), "--redshift", "0.05"])
    err_text = capsys.readouterr().err
    assert code == 1
    assert "bad.txt: no data rows" in err_text and "1 of 3 files could not be classified" in err_text
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table["file"]) == [str(tmp_path / "good.txt"), str(tmp_path / "good.json")]
    assert (table["redshift"] == 0.05).all() and set(table["class_1"]) <= set(CLASSES)
    assert sorted(p.name for p in plots.iterdir()) == ["good.json.png", "good.txt.png"]


def test_cli_json_output(tmp_path, checkpoints, capsys):
    flux, err = sn_like(WAVE)
    save_sedm_ascii(tmp_path / "good.txt", WAVE, flux, err)
    code = main(["classify", str(tmp_path / "good.txt"), "--json",
                 "--classifier", str(checkpoints["classifier"]),
                 "--redshift-model", str(checkpoints["redshift"])])
    assert code == 0
    answers = json.loads(capsys.readouterr().out)
    assert answers[0]["file"] == str(tmp_path / "good.txt")
    assert len(answers[0]["top"]) == 3 and answers[0]["redshift_source"] == "predicted"


REAL = Path(__file__).resolve().parents[1] / "real_spectra"
REAL_FILES = ["ZTF18abokyfk_20180925_P60_v1.ascii", "ZTF18aavskep_20180602_P60_v1.ascii",
              "tns_2016al_2016-01-12.0_P60_SED-Machine_iPTF.ascii"]


@pytest.fixture
def catalogue(tmp_path):
    """Three real spectra and a catalogue of them: two known redshifts, one left to predict."""
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in REAL_FILES:
        shutil.copy(REAL / name, folder / name)
    path = folder / "catalogue.csv"
    path.write_text("file,object,class,redshift,instrument\n"
                    f"{REAL_FILES[0]},SN2018fif,SN II,0.017189,SEDM\n"
                    f"{REAL_FILES[1]},SN2018bwr,SN IIn,,SEDM\n"
                    f"{REAL_FILES[2]},SN2016al,SN Ib/c,0.093,SEDM\n")
    return path


def classify_args(checkpoints, *more):
    return ["classify", "--classifier", str(checkpoints["classifier"]),
            "--redshift-model", str(checkpoints["redshift"]), *more]


def test_cli_catalogue_classifies_each_file_at_its_own_redshift(catalogue, checkpoints, capsys):
    out = catalogue.parent / "answers.csv"
    assert main(classify_args(checkpoints, "--catalogue", str(catalogue), "--csv",
                              "--out", str(out))) == 0
    err = capsys.readouterr().err
    assert "3 spectra of 3 objects, 2 of them in the trained classes; not one of the classes: " \
           "SN Ib/c (1)" in err
    import pandas as pd

    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns[:4]) == ["file", "object", "true_class", "true_label"]
    assert list(table["file"]) == REAL_FILES
    assert list(table["object"]) == ["SN2018fif", "SN2018bwr", "SN2016al"]
    assert list(table["true_class"]) == ["SN II", "SN IIn", "SN Ib/c"]
    assert list(table["true_label"]) == ["SN IIP", "SN IIn", ""]
    assert list(table["redshift_source"]) == ["given", "predicted", "given"]
    assert table["redshift"][0] == pytest.approx(0.017189)
    assert table["redshift"][2] == pytest.approx(0.093)
    # the same as classifying the file alone at that redshift
    assert main(classify_args(checkpoints, str(catalogue.parent / REAL_FILES[0]), "--json",
                              "--redshift", "0.017189")) == 0
    alone = json.loads(capsys.readouterr().out)[0]
    assert table["class_1"][0] == alone["top"][0]["class"]
    assert table["p_1"][0] == pytest.approx(alone["top"][0]["probability"], abs=1e-6)


def test_cli_catalogue_json_and_text_carry_object_and_true_class(catalogue, checkpoints, capsys):
    assert main(classify_args(checkpoints, "--catalogue", str(catalogue), "--json")) == 0
    answers = json.loads(capsys.readouterr().out)
    assert [(a["file"], a["object"], a["true_class"], a["true_label"]) for a in answers] == [
        (REAL_FILES[0], "SN2018fif", "SN II", "SN IIP"),
        (REAL_FILES[1], "SN2018bwr", "SN IIn", "SN IIn"),
        (REAL_FILES[2], "SN2016al", "SN Ib/c", None)]
    assert main(classify_args(checkpoints, "--catalogue", str(catalogue))) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert lines[0].startswith(f"{REAL_FILES[0]} [object: SN2018fif, true_class: SN II, "
                               "true_label: SN IIP]: z = 0.017 (given")
    assert lines[2].startswith(f"{REAL_FILES[2]} [object: SN2016al, true_class: SN Ib/c, "
                               "true_label: none]: z = 0.093 (given")


def test_cli_catalogue_refuses_files_redshift_or_a_bad_catalogue(catalogue, checkpoints, capsys):
    spectrum = str(catalogue.parent / REAL_FILES[0])
    assert main(classify_args(checkpoints, spectrum, "--catalogue", str(catalogue))) == 1
    assert "either on the command line or in --catalogue" in capsys.readouterr().err
    assert main(classify_args(checkpoints, "--catalogue", str(catalogue), "--redshift",
                              "0.1")) == 1
    assert "--redshift does not go with --catalogue" in capsys.readouterr().err
    assert main(classify_args(checkpoints)) == 1
    assert "name the spectrum files to classify, or a catalogue" in capsys.readouterr().err
    (catalogue.parent / REAL_FILES[1]).unlink()
    assert main(classify_args(checkpoints, "--catalogue", str(catalogue))) == 1
    assert f"line 3: {REAL_FILES[1]}" in capsys.readouterr().err


def test_import_ciderlab_and_its_cli_stay_light():
    # Every `ciderlab <command>` starts by importing these: torch and specutils wait until a
    # command needs them.
    code = ("import sys, ciderlab, ciderlab.cli; assert 'torch' not in sys.modules; "
            "assert 'specutils' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
