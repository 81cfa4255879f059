"""Bad spectrum files given to `ciderlab classify`: one clear message, exit 1, no output written."""

import os

import numpy as np
import pytest
import torch
from astropy.io import fits

from ciderlab.cli import main
from ciderlab.models.checkpoint import save_checkpoint
from ciderlab.models.spectranet import SpectraNet, SpectraNetConfig
from ciderlab.spectra.preprocess import PreprocessConfig

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


def unreadable(path):
    path.write_text(rows(WAVE, FLUX))
    path.chmod(0)


# (file name, how to write it, what the message must say besides the file name)
CASES = {
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
    "100 MB file": ("huge.txt", huge_sparse, "100 MB is more than the 50 MB"),
    "truncated FITS": ("truncated.fits", truncated_fits, "download it again"),
    "FITS without wavelength solution": ("nowcs.fits",
                                         lambda path: fits.PrimaryHDU(FLUX).writeto(path),
                                         "no wavelength solution"),
    "directory": ("a_directory", lambda path: path.mkdir(), "is a directory"),
    "missing": ("missing.txt", lambda path: None, "no such file"),
    "no permission": ("locked.txt", unreadable, "permission denied"),
}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    torch.manual_seed(0)
    small = dict(n_bins=256, channels=(4, 4, 4, 4, 4), kernels=((3, 5, 7),) * 5, hidden=8)
    paths = []
    for head, n_out in (("classifier", 3), ("redshift", 1)):
        config = SpectraNetConfig(n_outputs=n_out, head=head, **small)
        paths.append(folder / f"{head}.pt")
        save_checkpoint(paths[-1], SpectraNet(config).state_dict(), config,
                        classes=["SN Ia", "SN II", "TDE"],
                        preprocess=PreprocessConfig(n_bins=256).to_dict())
    return paths


@pytest.mark.parametrize("case", list(CASES))
def test_bad_spectrum_file(case, tmp_path, checkpoints, capsys):
    name, write, expected = CASES[case]
    path = tmp_path / name
    write(path)
    if case == "no permission" and os.access(path, os.R_OK):
        pytest.skip("running as root: a mode-000 file is still readable, nothing to refuse")
    out, plots = tmp_path / "answers.csv", tmp_path / "plots"
    code = main(["classify", str(path), "--classifier", str(checkpoints[0]),
                 "--redshift-model", str(checkpoints[1]), "--csv", "--out", str(out),
                 "--plot", str(plots)])
    message = capsys.readouterr().err
    assert code == 1
    assert message.startswith(f"ciderlab classify: error: {path}")
    assert expected in message, message
    assert "Traceback" not in message
    assert not out.exists() and not plots.exists()
    assert [p.name for p in tmp_path.iterdir()] == ([name] if path.exists() else [])
