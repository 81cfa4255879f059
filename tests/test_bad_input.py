"""Bad input of every kind, one parametrised test: settings, archives, checkpoints, paths and
astronomers' spectrum files each get one clear line naming the file and what to do, a non-zero
exit, no traceback and no output."""

import gzip
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from astropy.io import fits

from recipes import preprocess_config
from ciderlab.cli import main
from ciderlab.data.pull import SNID_SAGE_WHEEL
from ciderlab.checkpoint import save_checkpoint
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig

REPO_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def edited_params(tmp_path, edit):
    """A copy of the repository's params.yaml with ``edit`` applied to the parsed mapping."""
    raw = yaml.safe_load(REPO_PARAMS.read_text())
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def rename(section, old, new):
    def edit(raw):
        target = raw if section is None else raw[section]
        target[new] = target.pop(old)
    return edit


def set_value(section, key, value):
    def edit(raw):
        raw[section][key] = value
    return edit


def not_yaml(tmp_path, wheel):
    path = tmp_path / "params.yaml"
    path.write_text(REPO_PARAMS.read_text().replace("  n_folds: 5", "  n_folds: [5", 1))
    return path


def truncated(tmp_path, wheel):
    path = tmp_path / "data" / wheel.name
    path.parent.mkdir()
    path.write_bytes(wheel.read_bytes()[: wheel.stat().st_size // 2])
    return path


def damaged_member(tmp_path, wheel):
    """One byte of a template file flipped: the zip directory is intact, the CRC-32 is not."""
    path = tmp_path / "data" / wheel.name
    path.parent.mkdir()
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("snid_sage/templates/templates_Ia.hdf5")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def wrong_hash(tmp_path, wheel):
    """A valid wheel holding a valid bank, padded to the published size: only the hash differs."""
    path = tmp_path / "data" / wheel.name
    path.parent.mkdir()

    def write(padding):
        shutil.copyfile(wheel, path)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("snid_sage/padding", bytes(padding))

    write(0)
    write(SNID_SAGE_WHEEL.size_bytes - path.stat().st_size)
    assert path.stat().st_size == SNID_SAGE_WHEEL.size_bytes
    return path


def a_directory(tmp_path, wheel):
    path = tmp_path / "data" / wheel.name
    path.mkdir(parents=True)
    return path


def params_directory(tmp_path, wheel):
    path = tmp_path / "params.yaml"
    path.mkdir()
    return path


def truncated_alert_archive(tmp_path, wheel):
    """An alert tarball cut short inside its first Parquet member (random bytes: incompressible)."""
    member = tmp_path / "alerts.parquet"
    member.write_bytes(np.random.default_rng(0).bytes(200_000))
    path = tmp_path / "data" / "fink-science-7.4.0.tar.gz"
    path.parent.mkdir()
    with tarfile.open(path, "w:gz") as tar:
        tar.add(member, arcname="fink-science-7.4.0/fink_science/data/alerts/alerts.parquet")
    path.write_bytes(path.read_bytes()[:100_000])
    return path


def damaged_checkpoint(tmp_path, wheel):
    path = tmp_path / "classifier.pt"
    config = SpectraNetConfig(n_bins=64, n_outputs=2, channels=(4, 4), kernels=((3,), (3,)),
                              hidden=4)
    save_checkpoint(path, SpectraNet(config), classes=["a", "b"])
    path.write_bytes(path.read_bytes()[:-200])  # a copy cut short
    return path


WAVE = np.linspace(3700.0, 9300.0, 300)
FLUX = 1.0 + 0.2 * np.sin(WAVE / 200.0)


def rows(wave, flux):
    return "".join(f"{w} {f}\n" for w, f in zip(wave, flux))


def write_text(text):
    return lambda path: path.write_text(text)


def nan_flux(path):
    flux = FLUX.copy()
    flux[:200] = np.nan
    path.write_text(rows(WAVE, flux))


def truncated_fits(path):
    hdu = fits.PrimaryHDU(FLUX)
    hdu.header.update(CTYPE1="WAVE", CRVAL1=3700.0, CDELT1=18.7, CRPIX1=1.0, CUNIT1="Angstrom")
    hdu.writeto(path)
    path.write_bytes(path.read_bytes()[:3500])


def huge_sparse(path):
    with open(path, "wb") as handle:  # 100 MB on paper, no blocks on disk
        handle.truncate(100_000_000)


def truncated_gzip(path):
    whole = gzip.compress(rows(WAVE, FLUX).encode())
    path.write_bytes(whole[: len(whole) // 2])


def unreadable(path):
    path.write_text(rows(WAVE, FLUX))
    path.chmod(0)


# --- settings, archives, checkpoints: (command, make the bad input, which argument, phrases) ---
SETTINGS = {
    "params: not YAML": ("split", not_yaml, "--params", ["not valid YAML", "line", "fix"]),
    "params: misspelt section": ("split", lambda t, w: edited_params(
        t, rename(None, "train_classifier", "trian_classifier")), "--params",
        ["unknown key 'trian_classifier'", "did you mean 'train_classifier'?"]),
    "params: unknown key in a section": ("split", lambda t, w: edited_params(
        t, rename("model", "hidden", "hiden")), "--params",
        ["unknown key 'model.hiden'", "did you mean 'hidden'?"]),
    "params: a string for a number": ("split", lambda t, w: edited_params(
        t, set_value("train_redshift", "lr", "1e-3")), "--params",
        ["train_redshift.lr is '1e-3', expected a number", "1.0e-3"]),
    "params: a directory": ("split", params_directory, "--params",
                            ["cannot be read", "pass a readable params.yaml"]),
    "wheel: truncated": ("split", truncated, "--wheel",
                         ["is truncated or corrupt (zip error", "run `make data`"]),
    "wheel: damaged member": ("realise", damaged_member, "--wheel",
                              ["is truncated or corrupt (zip error: Bad CRC-32",
                               "run `make data`"]),
    "wheel: published size, other hash": ("split", wrong_hash, "--wheel",
                                          ["is corrupt (sha256", SNID_SAGE_WHEEL.sha256,
                                           "run `make data`"]),
    "wheel: a directory": ("split", a_directory, "--wheel",
                           ["is a directory", "pass a readable file"]),
    "alert archive: truncated": ("alerts", truncated_alert_archive, "--source",
                                 ["truncated or corrupt archive", "run `make data`"]),
    "checkpoint: cut short": ("export", damaged_checkpoint, "--classifier",
                              ["damaged or truncated checkpoint", "rerun the training stage"]),
}


# --- spectrum files given to `ciderlab classify`: (file name, how to write it, phrase) ----------
SPECTRUM_FILES = {
    "empty": ("empty.txt", write_text(""), "the file is empty"),
    "header only": ("header.txt", write_text("# SOURCE: ZTF21abc\n# OBSDATE: 2021-01-01\n"),
                    "no data rows"),
    "non-numeric cell": ("words.txt", write_text(rows(WAVE[:50], FLUX[:50]) + "5000.0 abc\n"),
                         "line 51: 'abc' is not a number"),
    "mostly NaN flux": ("nan.txt", nan_flux, "200 of 300 points have a NaN/inf"),
    "negative wavelengths": ("negative.txt", write_text(rows(WAVE - 5000.0, FLUX)),
                             "zero or negative"),
    "duplicated wavelengths": ("duplicate.txt",
                               write_text(rows(np.repeat(WAVE[:150], 2), FLUX)),
                               "appears more than once"),
    "unsorted wavelengths": ("unsorted.txt",
                             write_text(rows(np.concatenate([WAVE[150:], WAVE[:150]]), FLUX)),
                             "not in order"),
    "nm given as Angstrom": ("nanometres.txt", write_text(rows(WAVE / 10.0, FLUX)),
                             "most likely nanometres"),
    "misses the model window": ("infrared.txt", write_text(rows(WAVE + 10000.0, FLUX)),
                                "covers 0% of the model's window"),
    "mostly misses the window": ("blue.txt", write_text(rows(np.linspace(3000, 4300, 300), FLUX)),
                                 "it needs at least 20%"),
    "single point": ("one.txt", write_text("5000.0 1.0\n"), "only 1 valid data point"),
    "flux negative everywhere": ("minus.txt", write_text(rows(WAVE, -FLUX)),
                                 "every flux value is zero or negative"),
    "truncated gzip": ("spectrum.txt.gz", truncated_gzip, "gzip file is truncated or damaged"),
    "binary, not text": ("binary.txt", lambda path: path.write_bytes(bytes(range(256)) * 4),
                         "not a text file"),
    "100 MB file": ("huge.txt", huge_sparse, "100 MB is more than the 50 MB"),
    "truncated FITS": ("truncated.fits", truncated_fits, "download it again"),
    "FITS without wavelength solution": ("nowcs.fits",
                                         lambda path: fits.PrimaryHDU(FLUX).writeto(path),
                                         "no wavelength solution"),
    "directory": ("a_directory", lambda path: path.mkdir(), "is a directory"),
    "missing": ("missing.txt", lambda path: None, "no such file"),
    "no permission": ("locked.txt", unreadable, "permission denied"),
}




def spectrum_file(name, write):
    def make(tmp_path, wheel):
        path = tmp_path / name
        write(path)
        return path
    return make


CASES = {**SETTINGS, **{f"spectrum: {case}": ("classify", spectrum_file(name, write), "FILE",
                                              [phrase])
                        for case, (name, write, phrase) in SPECTRUM_FILES.items()}}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    torch.manual_seed(0)
    small = dict(n_bins=256, channels=(4, 4, 4, 4, 4), kernels=((3, 5, 7),) * 5, hidden=8)
    paths = []
    for head, n_out in (("classifier", 3), ("redshift", 1)):
        config = SpectraNetConfig(n_outputs=n_out, head=head, **small)
        paths.append(folder / f"{head}.pt")
        save_checkpoint(paths[-1], SpectraNet(config),
                        classes=["SN Ia", "SN II", "TDE"],
                        preprocess=preprocess_config(n_bins=256).to_dict())
    return paths


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_clear_line_and_writes_nothing(case, tmp_path, tiny_wheel, checkpoints,
                                                        capsys):
    command, make_bad, flag, expected = CASES[case]
    out = tmp_path / "out"
    argv = {"split": ["split", "--params", str(REPO_PARAMS), "--wheel", str(tiny_wheel)],
            "realise": ["realise", "--params", str(REPO_PARAMS), "--wheel", str(tiny_wheel),
                        "--split-dir", str(tmp_path / "split")],
            "alerts": ["alerts", "--params", str(REPO_PARAMS)],
            "export": ["export", "--onnx", "--redshift", str(tmp_path / "redshift.pt")],
            "classify": ["classify", "FILE", "--classifier", str(checkpoints[0]),
                         "--redshift-model", str(checkpoints[1]), "--csv",
                         "--plot", str(tmp_path / "out" / "plots")],
            }[command] + ["--out", str(out / "answers.csv" if command == "classify" else out)]
    bad = make_bad(tmp_path, tiny_wheel)
    if command == "classify" and os.access(bad, os.R_OK) and case.endswith("no permission"):
        pytest.skip("running as root: a mode-000 file is still readable, nothing to refuse")
    if flag in argv:
        argv[argv.index(flag) + (flag != "FILE")] = str(bad)
    else:
        argv += [flag, str(bad)]
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith(f"ciderlab {command}: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert str(bad) in err, err
    for phrase in expected:
        assert phrase in err, err
    assert not out.exists()
