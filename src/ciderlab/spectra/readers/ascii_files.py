"""ASCII spectra: SEDM/Fritz downloads with '#' header lines, plain 2-3 column tables, and ECSV."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ciderlab.errors import InputError
from ciderlab.spectra.readers import ObservedSpectrum, finish_spectrum
from ciderlab.spectra.readers.units import (FLUX_UNIT_KEYS, WAVE_UNIT_KEYS, flux_to_flambda,
                                            parse_unit, wave_to_aa)

# "KEY = value / comment" (a FITS card, as SEDM and WISeREP headers carry) or "key: value".
FITS_CARD = re.compile(r"^([A-Za-z0-9_\-]{1,8})\s*=\s*(.*)$")
KEY_VALUE = re.compile(r"^([A-Za-z][\w .\-]*?)\s*:\s*(.*)$")
WAVE_NAMES = ("wave", "wavelength", "wavelengths", "wavelen", "wav", "lambda", "wl", "lam",
              "wave_aa")
FLUX_NAMES = ("flux", "fluxes", "f_lambda", "flam", "f_nu", "fnu", "counts")
ERROR_NAMES = ("err", "error", "flux_err", "fluxerr", "sigma", "unc", "uncertainty", "e_flux")
VARIANCE_NAMES = ("var", "variance", "flux_var", "fluxvar")
INVERSE_VARIANCE_NAMES = ("ivar", "inverse_variance", "invvar", "flux_ivar")
# pysedm (the ZTF-era SEDM pipeline) writes these keys; its third column is a variance.
PYSEDM_KEYS = ("PYSEDMV", "PYSEDMPI", "PYSEDMT")
# A third column is read as a variance without a header saying so when, taken as sigma, it
# would give a median S/N above VARIANCE_SNR_AS_SIGMA (no optical spectrum has that) while its
# square root gives one inside PLAUSIBLE_SNR: pysedm files whose header was stripped.
VARIANCE_SNR_AS_SIGMA = 1e4
PLAUSIBLE_SNR = (0.1, 1e4)


def parse_header_line(text: str) -> tuple[str, str] | None:
    """(KEY, value) from one comment line without its '#', or None for free text."""
    text = text.strip()
    card = FITS_CARD.match(text)
    if card:
        value = card.group(2)
        if value.startswith("'"):  # a quoted string may contain '/'
            value = value[1:].split("'", 1)[0]
        else:
            value = value.split(" /", 1)[0]
        return card.group(1).upper(), value.strip()
    pair = KEY_VALUE.match(text)
    if pair:
        return pair.group(1).strip().upper().replace(" ", "_"), pair.group(2).strip()
    return None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_ascii(path: Path, text: str | None = None) -> ObservedSpectrum:
    """Wavelength, flux[, error] columns after optional '#' header lines (SEDM, Fritz, plain).

    Columns are split on whitespace or commas. A first non-comment line of names
    (``wavelength flux flux_err``) is allowed, and so is a last comment line of names just
    before the data (``# wavelength flux ivar``). Units come from header keys such as
    ``WAVE_UNIT``/``FLUX_UNIT``/``BUNIT`` (``units.WAVE_UNIT_KEYS``, ``units.FLUX_UNIT_KEYS``);
    without a wavelength unit, Angstrom is assumed and checked for plausibility. The third
    column is a one-sigma error, except: named ``var``/``ivar`` (``VARIANCE_NAMES``,
    ``INVERSE_VARIANCE_NAMES``; points with zero inverse variance are dropped), in a pysedm file
    (``PYSEDM_KEYS``), or of a variance's size (see ``VARIANCE_SNR_AS_SIGMA``): a variance.
    ``text`` is the decoded file (``read_spectrum`` passes it; default: read ``path``).
    """
    if text is None:
        from ciderlab.spectra.readers import decode_text, read_bytes

        text = decode_text(read_bytes(path), path)
    header, rows, line_numbers, names, comment_names = {}, [], [], None, None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(("#", "!", "%")):
            body = stripped.lstrip("#!% ")
            pair = parse_header_line(body)
            if pair:
                header[pair[0]] = pair[1]
            elif not rows:
                comment_names = body
            continue
        tokens = stripped.replace(",", " ").split()
        if not rows and names is None and not any(_is_number(t) for t in tokens):
            names = [t.lower() for t in tokens]
            continue
        rows.append(tokens)
        line_numbers.append(number)
    if not rows:
        raise InputError(f"{path}: no data rows (only header or comment lines); the file needs "
                         "wavelength and flux columns after the header")
    n_columns = len(rows[0])
    for tokens, number in zip(rows, line_numbers):
        if len(tokens) != n_columns:
            raise InputError(f"{path}: line {number} has {len(tokens)} columns where the first "
                             f"data line has {n_columns}; the file is truncated or mixed")
        for token in tokens:
            if not _is_number(token):
                raise InputError(f"{path}: line {number}: {token!r} is not a number; data lines "
                                 "must hold only numbers (put header text behind '#')")
    if n_columns < 2:
        raise InputError(f"{path}: one column only; need wavelength and flux (and optionally "
                         "the flux error)")
    data = np.array(rows, dtype=np.float64)  # (N, n_columns)
    wave_column, flux_column, err_column = 0, 1, (2 if n_columns >= 3 else None)
    if names is None and comment_names:
        for tokens in (comment_names.split(), comment_names.replace(",", " ").split()):
            if len(tokens) == n_columns and not any(_is_number(t) for t in tokens):
                names = [t.lower() for t in tokens]
                break
    err_kind = "sigma"
    if names is not None and len(names) == n_columns:
        wave_column = _column(names, WAVE_NAMES, wave_column)
        flux_column = _column(names, FLUX_NAMES, flux_column)
        # Named columns name the error too: a third column of another name (LT's sky_flux) is
        # not one.
        err_column = None
        for kind, candidates in (("variance", VARIANCE_NAMES),
                                 ("inverse variance", INVERSE_VARIANCE_NAMES),
                                 ("sigma", ERROR_NAMES)):
            found = _column(names, candidates, None)
            if found is not None:
                err_column, err_kind = found, kind
                break
    wave_unit = parse_unit(_first(header, WAVE_UNIT_KEYS), str(path), "wavelength")
    flux_unit = parse_unit(_first(header, FLUX_UNIT_KEYS), str(path), "flux")
    wave_aa = wave_to_aa(data[:, wave_column], wave_unit, str(path))
    flux = data[:, flux_column].copy()
    warnings = []
    flux_err = None
    if err_column is not None:
        flux_err, how = _one_sigma(flux, data[:, err_column], err_kind,
                                   any(k in header for k in PYSEDM_KEYS))
        if how:
            warnings.append(how)
    flux, flux_err, kind = flux_to_flambda(flux, flux_err, flux_unit, wave_aa, str(path))
    meta = {"format": "pysedm ascii" if any(k in header for k in PYSEDM_KEYS) else "ascii",
            "header": header, "flux_kind": kind,
            "wave_unit": str(wave_unit or "Angstrom (assumed)"), "warnings": warnings}
    return finish_spectrum(wave_aa, flux, flux_err, str(path), meta, wave_unit is not None)


def _one_sigma(flux: np.ndarray, column: np.ndarray, kind: str,
               pysedm: bool) -> tuple[np.ndarray, str | None]:
    """(N,) one-sigma errors from an error column of ``kind``, and a note when it was not sigma.

    Points with zero inverse variance (bad pixels, as SDSS marks them) get a NaN flux, so that
    ``finish_spectrum`` drops them.
    """
    if kind == "inverse variance":
        bad = column <= 0
        flux[bad] = np.nan
        with np.errstate(divide="ignore"):
            return np.where(bad, np.nan, 1.0 / np.sqrt(np.abs(column))), None
    if kind == "variance" or pysedm:
        note = None if kind == "variance" else "pysedm file: third column read as a variance"
        return np.sqrt(np.abs(column)), note
    with np.errstate(divide="ignore", invalid="ignore"):
        snr_as_sigma = np.nanmedian(np.abs(flux) / np.abs(column))
        snr_as_variance = np.nanmedian(np.abs(flux) / np.sqrt(np.abs(column)))
    if (snr_as_sigma > VARIANCE_SNR_AS_SIGMA
            and PLAUSIBLE_SNR[0] < snr_as_variance < PLAUSIBLE_SNR[1]):
        return np.sqrt(np.abs(column)), (
            f"third column read as a variance: as sigma it gives a median S/N of "
            f"{snr_as_sigma:.1e}, as a variance {snr_as_variance:.0f}")
    return column, None


def _column(names: list[str], candidates: tuple[str, ...], default: int | None) -> int | None:
    """Index of the first column named one of ``candidates``, else ``default``."""
    return next((i for i, name in enumerate(names) if name in candidates), default)


def _first(header: dict, keys: tuple[str, ...]) -> str | None:
    return next((header[k] for k in keys if header.get(k)), None)


def read_ecsv(path: Path) -> ObservedSpectrum:
    """An ECSV table with unit-bearing columns, through specutils' ``ECSV`` reader."""
    import warnings

    from specutils import Spectrum

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spectrum = Spectrum.read(str(path), format="ECSV")
    except Exception as error:  # astropy/specutils raise many unrelated types
        raise InputError(f"{path}: not a readable ECSV spectrum ({error}); it needs a "
                         "wavelength column and a flux column with units") from error
    from ciderlab.spectra.readers.fits_files import from_specutils

    return from_specutils(spectrum, path, "ecsv", {})
