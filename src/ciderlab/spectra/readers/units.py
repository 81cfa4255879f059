"""Units at the boundary: any wavelength to Angstrom, any flux density to F_lambda (or counts)."""

from __future__ import annotations

import contextlib
import functools
import warnings

import astropy.units as u
import numpy as np

from ciderlab.errors import InputError

F_LAMBDA = u.erg / u.s / u.cm**2 / u.AA
COUNTS = (u.count, u.adu, u.electron, u.dimensionless_unscaled, u.count / u.s, u.adu / u.s,
          u.electron / u.s)
# Header keys (upper case) that name the wavelength or the flux unit in ASCII headers.
WAVE_UNIT_KEYS = ("WAVE_UNIT", "WAVE_UNITS", "WAVEUNIT", "WAVELENGTH_UNIT", "WAVELENGTH_UNITS",
                  "XUNITS", "CUNIT1", "SPECTRAL_AXIS_UNIT")
FLUX_UNIT_KEYS = ("FLUX_UNIT", "FLUX_UNITS", "FLUXUNIT", "BUNIT", "YUNITS", "UNITS")
# Spellings astropy's generic format does not know, seen in real headers (IRAF's "angstroms",
# SkyPortal's "AA" is known). Enabled as astropy aliases inside ``spectroscopic_units``.
ALIASES = {"Angstroms": u.AA, "angstroms": u.AA, "ANGSTROM": u.AA, "ANGSTROMS": u.AA,
           "Ang": u.AA, "ang": u.AA, "counts": u.count, "COUNTS": u.count, "microns": u.micron,
           "um": u.micron, "nanometers": u.nm, "nanometres": u.nm}
# SkyPortal's flux unit "AB" means AB magnitudes; to astropy "AB" is the AB zero-point flux.
MAGNITUDE_SYSTEMS = {"ab": "mag(AB)"}


@functools.lru_cache(maxsize=1)
def _spectroscopic_registry() -> tuple:
    """astropy's enabled units without electric current and the year ``a``: in a spectrum file's
    header ``A`` is the Angstrom (``erg/s/A/cm^2``, pysedm's BUNIT), never the ampere."""
    registry = u.get_current_unit_registry().registry
    return tuple({id(unit): unit for unit in registry.values()
                  if not unit.is_equivalent(u.A)
                  and "a" not in getattr(unit, "names", ())}.values())


@contextlib.contextmanager
def spectroscopic_units():
    """Parse units as optical spectroscopy writes them: ``A`` (and ``a``) is the Angstrom.

    astropy's own parser with a unit registry for spectra (``set_enabled_units`` without
    current units, ``add_enabled_aliases`` for ``A`` and the spellings in ``ALIASES``).
    """
    with u.set_enabled_units(_spectroscopic_registry()):
        with u.add_enabled_aliases({"A": u.AA, "a": u.AA, **ALIASES}):
            yield


def parse_unit(text: str | u.UnitBase | None, source: str, what: str) -> u.UnitBase | None:
    """An astropy unit from a header value (``spectroscopic_units``); None for a missing one."""
    if text is None or isinstance(text, u.UnitBase):
        return text
    text = str(text).strip().strip("'\"").strip()
    if not text:
        return None
    text = MAGNITUDE_SYSTEMS.get(text.lower(), text)
    with warnings.catch_warnings(), spectroscopic_units():
        warnings.simplefilter("ignore", u.UnitsWarning)  # "multiple slashes" is how files are
        for candidate in (text, text.lower()):
            try:
                return u.Unit(candidate, parse_strict="raise")
            except ValueError as error:
                failure = error
    raise InputError(f"{source}: the {what} unit {text!r} is not a unit astropy knows "
                     f"({failure}); write it as e.g. 'Angstrom', 'nm', 'erg / (s cm2 Angstrom)' "
                     "or 'Jy'") from failure


def wave_to_aa(values: np.ndarray, unit: u.UnitBase | None, source: str) -> np.ndarray:
    """(N,) wavelengths (or frequencies) in ``unit`` -> (N,) Angstrom; None means Angstrom."""
    values = np.asarray(values, dtype=np.float64)
    if unit is None:
        return values
    try:
        return (values * unit).to_value(u.AA, equivalencies=u.spectral())
    except u.UnitConversionError as error:
        raise InputError(f"{source}: the spectral axis is in {unit}, which is not a wavelength "
                         "or frequency; the first column must be the wavelength") from error


def flux_to_flambda(flux: np.ndarray, flux_err: np.ndarray | None, unit: u.UnitBase | None,
                    wave_aa: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Flux and its errors as F_lambda (erg/s/cm^2/AA) where the unit allows; counts as given.

    F_nu (Jy, erg/s/cm^2/Hz) and AB magnitudes are converted (F_lambda = F_nu c / lambda^2);
    counts, ADU and unitless fluxes are kept (the preprocessing divides by the continuum, so a
    missing flux calibration only changes the continuum it removes). Returns (flux, flux_err,
    kind) with kind one of "F_lambda", "F_nu -> F_lambda", "AB mag -> F_lambda", "counts",
    "unknown (taken as F_lambda)".
    """
    flux = np.asarray(flux, dtype=np.float64)
    if unit is None:
        return flux, flux_err, "unknown (taken as F_lambda)"
    if any(unit == c for c in COUNTS) or unit.physical_type in ("dimensionless",):
        return flux, flux_err, "counts"
    wave = wave_aa * u.AA
    if isinstance(unit, u.MagUnit) or getattr(unit, "physical_unit", None) is not None:
        f_nu = (flux * unit).to(u.erg / u.s / u.cm**2 / u.Hz)
        out = f_nu.to_value(F_LAMBDA, equivalencies=u.spectral_density(wave))
        # Magnitude errors: sigma_F = F ln(10) / 2.5 sigma_m.
        err = None if flux_err is None else np.abs(out) * np.log(10) / 2.5 * np.asarray(flux_err)
        return out, err, "AB mag -> F_lambda"
    try:
        out = (flux * unit).to_value(F_LAMBDA, equivalencies=u.spectral_density(wave))
    except u.UnitConversionError as error:
        raise InputError(f"{source}: the flux unit {unit} is neither a flux density (F_lambda, "
                         "F_nu), a magnitude nor counts; check the file's flux unit") from error
    err = None
    if flux_err is not None:
        err = (np.asarray(flux_err) * unit).to_value(F_LAMBDA,
                                                    equivalencies=u.spectral_density(wave))
        err = np.abs(err)
    kind = "F_lambda" if unit.is_equivalent(F_LAMBDA) else "F_nu -> F_lambda"
    return out, err, kind
