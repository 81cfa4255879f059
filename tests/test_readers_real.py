"""The readers on real files as their instruments' pipelines wrote them (``real_spectra/``).

A reader tested only on what our own writer wrote proves little: every pysedm file failed
while the writer's round trip passed. Each test here opens one real format and checks the
arrays against the file's own columns, read independently with ``numpy.loadtxt``.
"""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from ciderlab.cli import main
from ciderlab.spectra.readers import read_spectrum

REAL = Path(__file__).resolve().parents[1] / "real_spectra"
PYSEDM_FLAMBDA = REAL / "ZTF20aalxlis_20200207_P60_v1.ascii"  # BUNIT: erg/s/A/cm^2
PYSEDM_ELECTRON = REAL / "ZTF18abokyfk_20180925_P60_v1.ascii"  # BUNIT: electron
PYSEDM_NO_HEADER = REAL / "ZTF20aanvmdt_20200225_P60_v1.ascii"
SEDM_2016 = REAL / "tns_2016al_2016-01-12.0_P60_SED-Machine_iPTF.ascii"
SDSS_IVAR = REAL / "sdss_spec-0332-52367-0639.txt"
NOVA_CSV = REAL / "GQMUSE_Williams_Optical_Spectra.csv"
SPRAT = REAL / "tns_2022wtn_2022-11-20_20-10-41.684_LT_SPRAT_QUB.txt"
PYPEIT_GMOS = REAL / "ZTF24aapvieu_20240608_GMOS-N_tellcorr.ascii"


def columns(path, delimiter=None):
    return np.loadtxt(path, comments="#", delimiter=delimiter, unpack=True)


def test_pysedm_bunit_erg_s_a_cm2_is_angstrom_and_the_third_column_a_variance():
    spectrum = read_spectrum(PYSEDM_FLAMBDA)
    wave, flux, variance = columns(PYSEDM_FLAMBDA)
    assert spectrum.meta["format"] == "pysedm ascii"
    assert spectrum.meta["header"]["BUNIT"] == "erg/s/A/cm^2"
    assert spectrum.meta["flux_kind"] == "F_lambda"  # A is Angstrom, not ampere
    np.testing.assert_allclose(spectrum.wave_aa, wave)
    np.testing.assert_allclose(spectrum.flux, flux)
    np.testing.assert_allclose(spectrum.flux_err, np.sqrt(variance))
    snr = np.median(spectrum.flux / spectrum.flux_err)
    assert 3 < snr < 300, snr  # as sigma the variance would claim S/N ~ 1e16


def test_pysedm_in_electrons_is_counts():
    spectrum = read_spectrum(PYSEDM_ELECTRON)
    assert spectrum.meta["header"]["BUNIT"] == "electron"
    assert spectrum.meta["flux_kind"] == "counts"
    np.testing.assert_allclose(spectrum.flux_err, np.sqrt(columns(PYSEDM_ELECTRON)[2]))


def test_pysedm_file_without_its_header_still_has_a_variance_column():
    spectrum = read_spectrum(PYSEDM_NO_HEADER)
    wave, flux, variance = columns(PYSEDM_NO_HEADER)
    np.testing.assert_allclose(spectrum.flux_err, np.sqrt(variance))
    assert any("read as a variance" in w for w in spectrum.meta["warnings"])


def test_2016_sed_machine_two_columns():
    spectrum = read_spectrum(SEDM_2016)
    wave, flux = columns(SEDM_2016)
    assert spectrum.meta["header"]["INSTRUMENT"] == "SED-Machine"
    np.testing.assert_allclose(spectrum.wave_aa, wave)
    np.testing.assert_allclose(spectrum.flux, flux)
    assert spectrum.flux_err is None


def test_sdss_inverse_variance_named_in_a_comment_line():
    spectrum = read_spectrum(SDSS_IVAR)
    wave, flux, ivar = columns(SDSS_IVAR)
    good = ivar > 0
    assert (~good).sum() > 0  # this file has masked pixels: they are dropped, not kept
    np.testing.assert_allclose(spectrum.wave_aa, wave[good])
    np.testing.assert_allclose(spectrum.flux_err, 1 / np.sqrt(ivar[good]))
    assert any(f"dropped {(~good).sum()} of" in w for w in spectrum.meta["warnings"])


def test_nova_csv_sprat_and_pypeit_files():
    wave, flux = columns(NOVA_CSV, delimiter=",")
    np.testing.assert_allclose(read_spectrum(NOVA_CSV).flux, flux)
    sprat = read_spectrum(SPRAT)
    np.testing.assert_allclose(sprat.wave_aa, columns(SPRAT)[0])
    gmos = read_spectrum(PYPEIT_GMOS)
    assert gmos.meta["header"]["INSTRUME"] == "GMOS-N"
    np.testing.assert_allclose(gmos.flux_err, columns(PYPEIT_GMOS)[2])


@pytest.mark.parametrize("real", [PYSEDM_FLAMBDA, SEDM_2016, SDSS_IVAR, NOVA_CSV],
                         ids=lambda p: p.suffix)
def test_gzip_of_every_text_format_reads_the_same(real, tmp_path):
    packed = tmp_path / (real.name + ".gz")
    packed.write_bytes(gzip.compress(real.read_bytes()))
    plain, unpacked = read_spectrum(real), read_spectrum(packed)
    np.testing.assert_array_equal(unpacked.wave_aa, plain.wave_aa)
    np.testing.assert_array_equal(unpacked.flux, plain.flux)


def test_latin1_header_is_read(tmp_path):
    text = PYSEDM_FLAMBDA.read_text()
    edited = tmp_path / PYSEDM_FLAMBDA.name
    edited.write_bytes(text.replace("# OBJECT:", "# OBSERVER: J. M\u00fcller, 10\u00b0 seeing\n"
                                    "# OBJECT:", 1).encode("latin-1"))
    with pytest.raises(UnicodeDecodeError):
        edited.read_text(encoding="utf-8")
    spectrum = read_spectrum(edited)
    assert spectrum.meta["header"]["OBSERVER"] == "J. M\u00fcller, 10\u00b0 seeing"
    np.testing.assert_array_equal(spectrum.flux, read_spectrum(PYSEDM_FLAMBDA).flux)


def test_every_file_of_the_real_set_is_read():
    import pandas as pd

    truth = pd.read_csv(REAL / "truth.csv")
    for name in truth["file"]:
        spectrum = read_spectrum(REAL / name)
        assert spectrum.wave_aa.size >= 100, name


def test_classify_reads_a_gzipped_pysedm_file(tmp_path, capsys):
    from test_classify import smoke_checkpoints

    packed = tmp_path / "sedm.ascii.gz"
    with open(PYSEDM_FLAMBDA, "rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    paths = smoke_checkpoints(tmp_path)
    code = main(["classify", str(packed), "--classifier", str(paths["classifier"]),
                 "--redshift-model", str(paths["redshift"]), "--redshift", "0.025"])
    out = capsys.readouterr().out
    assert code == 0
    assert "sedm.ascii.gz" in out


def test_a_named_third_column_that_is_not_an_error_is_not_taken_for_one():
    lt = REAL / "ZTF18abfcmjw_20190410_LT_v1.ascii"  # '## wavelen flux sky_flux'
    spectrum = read_spectrum(lt)
    wave, flux, sky = columns(lt)
    np.testing.assert_allclose(spectrum.flux, flux)
    assert spectrum.flux_err is None  # the sky flux is not the flux's error
