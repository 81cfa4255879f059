"""Each spectrum file format read back to the same arrays in Angstrom (files written with astropy)."""

import json

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import QTable

from ciderlab.spectra.readers import read_spectrum
from ciderlab.spectra.readers.writers import (save_log_wcs_fits, save_sedm_ascii,
                                              save_skyportal_json)

N = 400
WAVE_LIN = np.linspace(3700.0, 9300.0, N)  # Angstrom, linear
FLUX = 1e-16 * (1.0 + 0.3 * np.sin(WAVE_LIN / 300.0))
ERR = 0.05 * FLUX


def assert_same(spectrum, wave_aa, flux, err=None):
    np.testing.assert_allclose(spectrum.wave_aa, wave_aa, rtol=1e-9)
    np.testing.assert_allclose(spectrum.flux, flux, rtol=1e-6)
    if err is None:
        assert spectrum.flux_err is None
    else:
        np.testing.assert_allclose(spectrum.flux_err, err, rtol=1e-6)


def test_sedm_ascii_with_key_value_and_fits_card_header(tmp_path):
    path = tmp_path / "ZTF21abcdefg_SEDM.txt"
    lines = ["# SOURCE: ZTF21abcdefg", "# INSTRUMENT: SEDM", "# OBSDATE: 2021-03-04",
             "# EXPTIME =              2250.0 / exposure time (s)",
             "# OBJECT  = 'ZTF21abcdefg'       / target"]
    path.write_text("\n".join(lines) + "\n" + "\n".join(
        f"{w:.4f} {f:.6e} {e:.6e}" for w, f, e in zip(WAVE_LIN, FLUX, ERR)) + "\n")
    spectrum = read_spectrum(path)
    assert_same(spectrum, np.round(WAVE_LIN, 4), FLUX, ERR)
    assert spectrum.meta["header"]["SOURCE"] == "ZTF21abcdefg"
    assert spectrum.meta["header"]["EXPTIME"] == "2250.0"
    assert spectrum.meta["header"]["OBJECT"] == "ZTF21abcdefg"
    assert spectrum.meta["warnings"] == []


def test_plain_two_column_ascii_and_csv_with_names(tmp_path):
    plain = tmp_path / "spec.dat"
    np.savetxt(plain, np.column_stack([WAVE_LIN, FLUX]))
    assert_same(read_spectrum(plain), WAVE_LIN, FLUX)
    csv = tmp_path / "spec.csv"
    np.savetxt(csv, np.column_stack([WAVE_LIN, ERR, FLUX]), delimiter=",",
               header="wavelength,flux_err,flux", comments="")
    # Named columns: the error column is found by its name, wherever it is.
    spectrum = read_spectrum(csv)
    np.testing.assert_allclose(spectrum.wave_aa, WAVE_LIN)
    np.testing.assert_allclose(spectrum.flux, FLUX, rtol=1e-6)
    np.testing.assert_allclose(spectrum.flux_err, ERR, rtol=1e-6)


def test_ascii_header_units_nanometres_and_f_nu(tmp_path):
    path = tmp_path / "nm.txt"
    f_nu_jy = np.full(N, 2e-3)
    path.write_text("# WAVE_UNIT: nm\n# FLUX_UNIT: Jy\n" + "\n".join(
        f"{w / 10:.6f} {f:.6e}" for w, f in zip(WAVE_LIN, f_nu_jy)) + "\n")
    spectrum = read_spectrum(path)
    np.testing.assert_allclose(spectrum.wave_aa, WAVE_LIN, rtol=1e-7)
    expected = (f_nu_jy * u.Jy).to_value(u.erg / u.s / u.cm**2 / u.AA,
                                          equivalencies=u.spectral_density(WAVE_LIN * u.AA))
    np.testing.assert_allclose(spectrum.flux, expected, rtol=1e-6)
    assert spectrum.meta["flux_kind"] == "F_nu -> F_lambda"


def test_fits_linear_wcs_with_units(tmp_path):
    path = tmp_path / "linear.fits"
    hdu = fits.PrimaryHDU(FLUX)
    hdu.header.update(CTYPE1="WAVE", CUNIT1="nm", CRPIX1=1.0, CRVAL1=WAVE_LIN[0] / 10,
                      CDELT1=(WAVE_LIN[1] - WAVE_LIN[0]) / 10, BUNIT="erg / (s cm2 Angstrom)")
    hdu.writeto(path)
    spectrum = read_spectrum(path)
    assert_same(spectrum, WAVE_LIN, FLUX)
    assert spectrum.meta["flux_kind"] == "F_lambda"


def test_fits_log_lambda_wcs_standard_and_iraf_dc_flag(tmp_path):
    wave_log = np.exp(np.linspace(np.log(3700), np.log(9300), N))
    save_log_wcs_fits(tmp_path / "log.fits", wave_log, FLUX)
    assert_same(read_spectrum(tmp_path / "log.fits"), wave_log, FLUX)
    hdu = fits.PrimaryHDU(FLUX)
    step = np.log10(wave_log[1] / wave_log[0])
    hdu.header.update(CTYPE1="LINEAR", CRPIX1=1.0, CRVAL1=np.log10(wave_log[0]), CDELT1=step,
                      CD1_1=step, **{"DC-FLAG": 1})
    hdu.writeto(tmp_path / "iraf_log10.fits")
    assert_same(read_spectrum(tmp_path / "iraf_log10.fits"), wave_log, FLUX)


@pytest.mark.parametrize("wat2_cards", [1, 2])
def test_iraf_multispec(tmp_path, wat2_cards):
    path = tmp_path / "multispec.fits"
    step = WAVE_LIN[1] - WAVE_LIN[0]
    hdu = fits.PrimaryHDU(FLUX[None, :])
    hdu.header.update(WCSDIM=2, CTYPE1="MULTISPE", CTYPE2="MULTISPE", CD1_1=1.0, CD2_2=1.0,
                      LTM1_1=1.0, LTM2_2=1.0, WAT0_001="system=multispec",
                      WAT1_001="wtype=multispec label=Wavelength units=angstroms",
                      WAT2_001=f'wtype=multispec spec1 = "1 1 0 {WAVE_LIN[0]} {step} {N} 0. 0. 0."')
    if wat2_cards == 2:  # how IRAF continues a long WAT string
        hdu.header["WAT2_002"] = ""
    hdu.writeto(path)
    assert_same(read_spectrum(path), WAVE_LIN, FLUX)


def test_iraf_apall_3d_image_reads_the_first_band(tmp_path):
    path = tmp_path / "apall.fits"
    bands = np.stack([FLUX, 2 * FLUX, ERR])[:, None, :]  # (bands, apertures, pixels)
    hdu = fits.PrimaryHDU(bands)
    hdu.header.update(CTYPE1="LINEAR", CRPIX1=1.0, CRVAL1=WAVE_LIN[0],
                      CDELT1=WAVE_LIN[1] - WAVE_LIN[0], CUNIT1="Angstrom")
    hdu.writeto(path)
    spectrum = read_spectrum(path)
    assert_same(spectrum, WAVE_LIN, FLUX)
    assert any("first row/band" in w for w in spectrum.meta["warnings"])


def test_fits_binary_table_and_ecsv_through_specutils(tmp_path):
    table = QTable({"wavelength": WAVE_LIN * u.AA,
                    "flux": FLUX * u.erg / u.s / u.cm**2 / u.AA})
    table.write(tmp_path / "table.fits")
    assert_same(read_spectrum(tmp_path / "table.fits"), WAVE_LIN, FLUX)
    table.write(tmp_path / "table.ecsv")
    assert_same(read_spectrum(tmp_path / "table.ecsv"), WAVE_LIN, FLUX)


def test_skyportal_json_payloads(tmp_path):
    spectrum = {"id": 7, "obj_id": "ZTF21abcdefg", "wavelengths": WAVE_LIN.tolist(),
                "fluxes": FLUX.tolist(), "errors": ERR.tolist(), "units": "erg/s/cm/cm/AA",
                "instrument_name": "SEDM"}
    for name, payload in (("one.json", {"status": "success", "data": spectrum}),
                          ("source.json", {"status": "success",
                                           "data": {"obj_id": "x", "spectra": [spectrum]}}),
                          ("bare.json", spectrum)):
        (tmp_path / name).write_text(json.dumps(payload))
        read = read_spectrum(tmp_path / name)
        assert_same(read, WAVE_LIN, FLUX, ERR)
        assert read.meta["header"]["obj_id"] == "ZTF21abcdefg"
    ab = dict(spectrum, fluxes=[20.0] * N, errors=None, units="AB")
    (tmp_path / "ab.json").write_text(json.dumps({"data": ab}))
    f_lambda = read_spectrum(tmp_path / "ab.json").flux
    expected = (20.0 * u.ABmag).to(u.erg / u.s / u.cm**2 / u.Hz).value * 2.99792458e18 / WAVE_LIN**2
    np.testing.assert_allclose(f_lambda, expected, rtol=1e-6)


def test_writers_round_trip(tmp_path):
    wave_log = np.exp(np.linspace(np.log(3800), np.log(9200), 256))
    flux = np.linspace(1, 2, 256)
    save_sedm_ascii(tmp_path / "a.txt", wave_log, flux, 0.1 * flux, {"SOURCE": "x"})
    save_log_wcs_fits(tmp_path / "a.fits", wave_log, flux)
    save_skyportal_json(tmp_path / "a.json", wave_log, flux, 0.1 * flux)
    for name in ("a.txt", "a.fits", "a.json"):
        read = read_spectrum(tmp_path / name)
        np.testing.assert_allclose(read.wave_aa, wave_log, rtol=1e-6)
        np.testing.assert_allclose(read.flux, flux, rtol=1e-6)


def test_reversed_order_and_a_few_nans_are_repaired_with_warnings(tmp_path):
    flux = FLUX.copy()
    flux[[10, 20]] = np.nan
    path = tmp_path / "reversed.txt"
    np.savetxt(path, np.column_stack([WAVE_LIN, flux])[::-1])
    spectrum = read_spectrum(path)
    keep = np.isfinite(flux)
    assert_same(spectrum, WAVE_LIN[keep], FLUX[keep])
    assert any("dropped 2 of 400" in w for w in spectrum.meta["warnings"])
    assert any("reversed" in w for w in spectrum.meta["warnings"])
