"""FITS spectra through specutils: 1-D WCS images (linear, log-lambda), IRAF multispec, tables."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits

from ciderlab.errors import InputError
from ciderlab.spectra.readers import ObservedSpectrum, finish_spectrum
from ciderlab.spectra.readers.units import flux_to_flambda, wave_to_aa

# Axis-1 keywords a 1-D copy of a multi-dimensional image keeps (IRAF apall writes the
# optimally extracted spectrum as the first row/band of a 2-D or 3-D image).
AXIS1_KEYS = ("CTYPE1", "CRVAL1", "CRPIX1", "CDELT1", "CD1_1", "CUNIT1", "DC-FLAG", "BUNIT",
              "WAT1_001", "SPECSYS")


def open_fits(path: Path) -> fits.HDUList:
    """The file's HDUs with their data loaded; a truncated or corrupt file is an InputError."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hdulist = fits.open(path, memmap=False, lazy_load_hdus=False)
            for hdu in hdulist:
                _ = hdu.data  # reading the data is what finds a truncated file
    except Exception as error:  # astropy raises OSError, ValueError, TypeError, ... for junk
        raise InputError(f"{path}: not a readable FITS file ({error}); the file is damaged or "
                         "truncated: download it again") from error
    for warning in caught:
        message = str(warning.message)
        if "truncated" in message or "corrupt" in message:
            hdulist.close()
            raise InputError(f"{path}: the FITS file is truncated or corrupt ({message.splitlines()[0]}); "
                             "download it again")
    return hdulist


def read_fits(path: Path) -> ObservedSpectrum:
    """A 1-D spectrum from a FITS file: picks IRAF multispec, a WCS image or a binary table."""
    from specutils import Spectrum

    hdulist = open_fits(path)
    try:
        primary = hdulist[0].header
        if "WAT2_001" in primary and str(primary.get("CTYPE1", "")).upper().startswith("MULTISPE"):
            return _read_multispec(hdulist, path)
        image = next((i for i, hdu in enumerate(hdulist)
                      if isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU)) and hdu.data is not None
                      and hdu.data.size > 1), None)
        if image is not None:
            return _read_wcs_image(hdulist, image, path)
        table = next((i for i, hdu in enumerate(hdulist) if isinstance(hdu, fits.BinTableHDU)), None)
        if table is None:
            raise InputError(f"{path}: no image or table data in any HDU; nothing to read")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spectrum = Spectrum.read(hdulist, format="tabular-fits", hdu=table)
        except Exception as error:
            raise InputError(f"{path}: HDU {table} is a table but not a spectrum specutils can "
                             f"read ({error}); it needs a wavelength column with a length unit "
                             "and a flux column") from error
        return from_specutils(spectrum, path, "fits table", dict(hdulist[table].header))
    finally:
        hdulist.close()


def _read_wcs_image(hdulist: fits.HDUList, index: int, path: Path) -> ObservedSpectrum:
    """specutils' ``wcs1d-fits`` on the image (its first row/band if it has more axes)."""
    from specutils import Spectrum

    hdu = hdulist[index]
    header = hdu.header
    has_step = "CDELT1" in header or "CD1_1" in header
    if "CRVAL1" not in header or not has_step:
        raise InputError(f"{path}: HDU {index} has no wavelength solution (needs CRVAL1 and "
                         "CDELT1 or CD1_1); write the wavelength calibration into the header or "
                         "export the spectrum as ASCII with a wavelength column")
    data = hdu.data
    if data.ndim > 1:
        rows = data.reshape(-1, data.shape[-1])
        header = fits.Header([(k, header[k]) for k in AXIS1_KEYS if k in header])
        hdu = fits.PrimaryHDU(rows[0], header)
        note = f"HDU {index} is {data.ndim}-D {data.shape}: read its first row/band"
    else:
        hdu = fits.PrimaryHDU(data, header)
        note = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spectrum = Spectrum.read(fits.HDUList([hdu]), format="wcs1d-fits", hdu=0)
    except Exception as error:
        raise InputError(f"{path}: the wavelength solution of HDU {index} cannot be read "
                         f"({error}); check CTYPE1/CRVAL1/CDELT1/CUNIT1") from error
    wave = spectrum.spectral_axis
    if int(header.get("DC-FLAG", 0)) == 1:
        # IRAF's log-linear solution: CRVAL1/CDELT1 are log10(wavelength); specutils' wcs1d
        # reader returns the log10 values.
        import astropy.units as u

        wave = (10 ** wave.value) * u.AA
    meta = dict(header)
    out = from_specutils(spectrum, path, "fits wcs1d", meta, wave=wave)
    if note:
        out.meta["warnings"].append(note)
    return out


def _read_multispec(hdulist: fits.HDUList, path: Path) -> ObservedSpectrum:
    """IRAF multispec through specutils' ``iraf`` reader (first aperture, first band)."""
    from specutils import Spectrum

    header = hdulist[0].header.copy()
    wat2 = [k for k in header if k.startswith("WAT2_")]
    if len(wat2) == 1:
        # specutils 2.4 parses WAT2 only when it spans several cards (as long ones do in
        # IRAF files); a short one fits a single card, so hand it an empty second one.
        header["WAT2_002"] = ""
    hdu = fits.PrimaryHDU(hdulist[0].data, header)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spectrum = Spectrum.read(fits.HDUList([hdu]), format="iraf")
    except Exception as error:
        raise InputError(f"{path}: an IRAF multispec header specutils cannot read ({error}); "
                         "check the WAT1_*/WAT2_* keywords") from error
    wave = np.atleast_2d(spectrum.spectral_axis.value)
    flux = spectrum.flux.value.reshape(-1, wave.shape[-1])
    if wave.shape[0] > 1 and not np.allclose(wave, wave[0]):
        raise InputError(f"{path}: {wave.shape[0]} apertures/orders with different wavelengths; "
                         "extract or merge them into one 1-D spectrum first")
    unit = spectrum.spectral_axis.unit
    flux_unit = None if header.get("BUNIT") is None else spectrum.flux.unit
    declared = "units=" in str(header.get("WAT1_001", ""))
    note = None if flux.shape[0] == 1 else f"{flux.shape[0]} bands/apertures: read the first"
    return _finish(path, "fits iraf multispec", dict(header), wave[0] * unit, flux[0], None,
                   flux_unit, unit_declared=declared, note=note)


def from_specutils(spectrum, path: Path, kind: str, header: dict, wave=None) -> ObservedSpectrum:
    """ObservedSpectrum from a specutils Spectrum (its uncertainty as one-sigma errors)."""
    wave = spectrum.spectral_axis if wave is None else wave
    flux = np.asarray(spectrum.flux.value, dtype=np.float64).ravel()
    err = None
    if spectrum.uncertainty is not None:
        from astropy.nddata import StdDevUncertainty

        err = np.asarray(spectrum.uncertainty.represent_as(StdDevUncertainty).array,
                         dtype=np.float64).ravel()
    unit = spectrum.flux.unit
    flux_unit = None if unit is None or (unit.to_string() == "" and "BUNIT" not in header) else unit
    declared = kind not in ("fits wcs1d",) or bool(header.get("CUNIT1"))
    return _finish(path, kind, header, wave, flux, err, flux_unit, unit_declared=declared)


def _finish(path, kind, header, wave, flux, err, flux_unit, unit_declared: bool,
            note: str | None = None) -> ObservedSpectrum:
    """Units to Angstrom and F_lambda, then the common checks (``finish_spectrum``)."""
    wave_aa = wave_to_aa(np.asarray(wave.value).ravel(), wave.unit, str(path))
    flux, err, flux_kind = flux_to_flambda(flux, err, flux_unit, wave_aa, str(path))
    meta = {"format": kind, "header": {k: v for k, v in header.items() if isinstance(
        v, (str, int, float, bool))}, "flux_kind": flux_kind, "wave_unit": str(wave.unit),
            "warnings": [] if note is None else [note]}
    return finish_spectrum(wave_aa, flux, err, str(path), meta, unit_declared)
