"""Astronomers' own spectrum files -> ObservedSpectrum (wavelength in Angstrom, F_lambda or counts).

``read_spectrum(path)`` picks the reader by content and extension:

* FITS (``.fits``, ``.fit``, ``.fts``, optionally ``.gz``): a 1-D image with a linear or log-lambda
  WCS (specutils' ``wcs1d-fits``; IRAF's ``DC-FLAG = 1`` log10 solution too), IRAF multispec
  (specutils' ``iraf``), or a binary table with unit-bearing columns (specutils'
  ``tabular-fits``); see ``fits_files``;
* SkyPortal / Fritz JSON (``.json``): the ``/api/spectra`` payload; see ``skyportal``;
* ECSV (``.ecsv``): specutils' ``ECSV`` reader;
* anything else is ASCII: SEDM/Fritz downloads with ``#`` header lines (``KEY: value`` or
  FITS-card ``KEY = value / comment``), pysedm's files (third column a variance), plain 2- or
  3-column wavelength, flux[, error]; see ``ascii_files``;
* any of these gzip-compressed (``.gz``, as TNS and WISeREP serve many), recognised by content.

What every reader's output then goes through (``finish_spectrum``), each a documented choice:

* files above ``MAX_FILE_BYTES`` (50 MB) are refused before reading: an optical 1-D spectrum is
  kilobytes (SEDM: ~300 points); a bigger file is a cube, a 2-D frame or the wrong file;
* NaN/inf wavelength or flux: those points are dropped with a warning; if more than half are
  non-finite the file is refused (there is not enough spectrum left to classify);
* errors that are NaN, inf, zero or negative: the error column is ignored, with a warning;
* wavelengths <= 0: refused (a broken wavelength solution);
* wavelengths in decreasing order are reversed; any other disorder, or a repeated wavelength,
  is refused (usually two arms or orders concatenated: merging them is the observer's call);
* wavelengths with no unit stated are taken as Angstrom; if they then all lie below
  ``MIN_PLAUSIBLE_WAVE_AA`` (2000 AA) the file is refused as most likely nanometres or microns
  (380-920 "AA" is SEDM's range in nm): declare the unit (``# WAVE_UNIT: nm``) or convert;
* fewer than ``MIN_POINTS`` (16) points: refused;
* a flux that is zero or negative everywhere: refused (a sign error or a sky-subtracted
  residual, not a source); more than half negative: a warning.

Every refusal is an ``InputError`` naming the file and saying what to do. Warnings are kept in
``ObservedSpectrum.meta["warnings"]``.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ciderlab.errors import InputError

MAX_FILE_BYTES = 50_000_000
MIN_POINTS = 16
MIN_PLAUSIBLE_WAVE_AA = 2000.0
MAX_NONFINITE_FRACTION = 0.5
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ObservedSpectrum:
    """One observed 1-D spectrum as read from a file.

    Attributes
    ----------
    wave_aa : (N,) float64, observed-frame wavelength in Angstrom, strictly increasing
    flux : (N,) float64, F_lambda (any scale) or counts; see ``meta["flux_kind"]``
    flux_err : (N,) float64 one-sigma errors in the units of ``flux``, or None
    source : the path it was read from
    meta : header values (``header``), ``format``, ``flux_kind``, ``wave_unit`` and
        ``warnings`` (list of str: what was changed or assumed on the way in)
    """

    wave_aa: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray | None
    source: str
    meta: dict = field(default_factory=dict)


def check_readable(path: Path) -> None:
    """Refuse, before reading, a path that is missing, a directory, unreadable, empty or huge."""
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a spectrum file; pass the files inside "
                         f"it (e.g. {path}/*.txt)")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied; make the file readable (chmod u+r)")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: the file is empty; download or export the spectrum again")
    if size > MAX_FILE_BYTES:
        _too_big(path, size)


def _too_big(path: Path, size: int) -> None:
        raise InputError(f"{path}: {size / 1e6:.0f} MB is more than the {MAX_FILE_BYTES / 1e6:.0f} "
                         "MB a 1-D spectrum file may be (an optical spectrum is kilobytes); is it "
                         "a data cube or 2-D frame? Extract the 1-D spectrum first")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed if it is gzip (by content, whatever its name)."""
    import gzip
    import zlib

    data = path.read_bytes()
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (EOFError, OSError, zlib.error) as error:
        raise InputError(f"{path}: the gzip file is truncated or damaged ({error}); download it "
                         "again") from error
    if len(data) > MAX_FILE_BYTES:
        _too_big(path, len(data))
    return data


def decode_text(data: bytes, path: Path) -> str:
    """Text of a spectrum file: UTF-8, else Latin-1 (old headers carry e.g. a degree sign).

    Bytes that no text file holds (NUL and other control characters) mean a binary file.
    """
    control = sum(data.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13))
    if control:
        first = next(i for i, b in enumerate(data) if b < 32 and b not in (9, 10, 12, 13))
        raise InputError(f"{path}: not a text file (byte {first} is not text) and not a FITS or "
                         "JSON file either; pass an ASCII, FITS or SkyPortal JSON spectrum, "
                         "optionally gzip-compressed")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def finish_spectrum(wave_aa, flux, flux_err, source: str, meta: dict,
                    unit_declared: bool) -> ObservedSpectrum:
    """The checks and clean-ups every reader's arrays go through (see the module docstring)."""
    warnings = meta.setdefault("warnings", [])
    wave_aa = np.asarray(wave_aa, dtype=np.float64).ravel()
    flux = np.asarray(flux, dtype=np.float64).ravel()
    if wave_aa.shape != flux.shape:
        raise InputError(f"{source}: {wave_aa.size} wavelengths but {flux.size} fluxes; the "
                         "file is damaged")
    if wave_aa.size == 0:
        raise InputError(f"{source}: holds no data points; export the spectrum again")
    if flux_err is not None:
        flux_err = np.asarray(flux_err, dtype=np.float64).ravel()
    good = np.isfinite(wave_aa) & np.isfinite(flux)
    n_bad = int((~good).sum())
    if n_bad > MAX_NONFINITE_FRACTION * wave_aa.size:
        raise InputError(f"{source}: {n_bad} of {wave_aa.size} points have a NaN/inf wavelength "
                         "or flux; too little spectrum is left to classify. Check the reduction")
    if n_bad:
        warnings.append(f"dropped {n_bad} of {wave_aa.size} points with NaN/inf wavelength or flux")
        wave_aa, flux = wave_aa[good], flux[good]
        flux_err = None if flux_err is None else flux_err[good]
    if flux_err is not None and not (np.all(np.isfinite(flux_err)) and np.all(flux_err > 0)):
        warnings.append("the error column has NaN/inf/zero/negative values: errors ignored")
        flux_err = None
    if np.any(wave_aa <= 0):
        raise InputError(f"{source}: {int((wave_aa <= 0).sum())} wavelengths are zero or negative "
                         f"(smallest {wave_aa.min():g}); the wavelength solution is broken: "
                         "fix the first column")
    step = np.diff(wave_aa)
    if wave_aa.size > 1 and np.all(step < 0):
        wave_aa, flux = wave_aa[::-1], flux[::-1]
        flux_err = None if flux_err is None else flux_err[::-1]
        warnings.append("wavelengths were in decreasing order: reversed")
        step = np.diff(wave_aa)
    if np.any(step == 0):
        i = int(np.flatnonzero(step == 0)[0])
        raise InputError(f"{source}: wavelength {wave_aa[i]:g} appears more than once (data "
                         f"points {i + 1} and {i + 2}); merge or remove the repeated points "
                         "(two arms or orders joined?)")
    if np.any(step < 0):
        i = int(np.flatnonzero(step < 0)[0])
        raise InputError(f"{source}: wavelengths are not in order ({wave_aa[i]:g} is followed by "
                         f"{wave_aa[i + 1]:g} at data point {i + 2}); sort the file by "
                         "wavelength, or split overlapping arms/orders into separate files")
    if wave_aa.size < MIN_POINTS:
        raise InputError(f"{source}: only {wave_aa.size} valid data point(s); a spectrum needs at "
                         f"least {MIN_POINTS}. Is this the right file?")
    if np.all(flux <= 0):
        raise InputError(f"{source}: every flux value is zero or negative; that is not the "
                         "spectrum of a source (a flipped sign, or a sky or background residual). "
                         "Check the flux column")
    if np.mean(flux < 0) > 0.5:
        warnings.append(f"{100 * np.mean(flux < 0):.0f}% of the flux values are negative: "
                        "check the background subtraction")
    if not unit_declared and wave_aa.max() < MIN_PLAUSIBLE_WAVE_AA:
        raise InputError(
            f"{source}: wavelengths run from {wave_aa.min():g} to {wave_aa.max():g} with no unit "
            "stated; as Angstrom that is far-UV, so they are most likely nanometres (or microns). "
            "Convert them to Angstrom, or declare the unit in a header line such as "
            "'# WAVE_UNIT: nm'")
    return ObservedSpectrum(wave_aa, flux, flux_err, source, meta)


def read_spectrum(path: str | os.PathLike) -> ObservedSpectrum:
    """Read one spectrum file (ASCII, FITS, SkyPortal JSON or ECSV); see the module docstring.

    Raises ``InputError`` naming the file and what to do for anything that cannot be used.
    """
    from ciderlab.spectra.readers import ascii_files, fits_files, skyportal

    path = Path(path)
    check_readable(path)
    name = path.name.lower()
    if name.endswith(FITS_SUFFIXES):  # astropy reads .fits.gz itself
        return fits_files.read_fits(path)
    data = read_bytes(path)
    name = name.removesuffix(".gz")
    if data.startswith(b"SIMPLE  ="):
        return fits_files.read_fits(path)
    if name.endswith(".json") or data.lstrip()[:1] in (b"{", b"["):
        return skyportal.read_skyportal_json(path, decode_text(data, path))
    if name.endswith(".ecsv"):
        return ascii_files.read_ecsv(path)
    return ascii_files.read_ascii(path, decode_text(data, path))


__all__ = ["ObservedSpectrum", "read_spectrum", "MAX_FILE_BYTES"]
