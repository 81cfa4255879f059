"""SkyPortal / Fritz spectrum JSON: the ``/api/spectra`` payload (wavelengths, fluxes, errors, units)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ciderlab.errors import InputError
from ciderlab.spectra.readers import ObservedSpectrum, finish_spectrum
from ciderlab.spectra.readers.units import flux_to_flambda, parse_unit

# Scalar fields worth keeping with the spectrum (the rest of the payload is large or internal).
KEPT_FIELDS = ("id", "obj_id", "observed_at", "instrument_name", "telescope_name", "origin",
               "type", "label", "units")


def find_spectrum(payload, path: Path) -> dict:
    """The one spectrum dictionary inside a SkyPortal response.

    Accepts the spectrum itself, ``{"data": spectrum}`` (GET /api/spectra/<id>) and
    ``{"data": {"spectra": [spectrum]}}`` (GET /api/sources/<id>/spectra) with one spectrum.
    """
    if isinstance(payload, dict) and "wavelengths" not in payload and "data" in payload:
        if payload.get("status") == "error":
            raise InputError(f"{path}: a SkyPortal error response ({payload.get('message')}), "
                             "not a spectrum; download the spectrum again")
        payload = payload["data"]
    if isinstance(payload, dict) and "spectra" in payload:
        payload = payload["spectra"]
    if isinstance(payload, list):
        if len(payload) != 1:
            ids = [s.get("id") for s in payload if isinstance(s, dict)]
            raise InputError(f"{path}: holds {len(payload)} spectra (ids {ids}); save each "
                             "spectrum to its own file (GET /api/spectra/<id>)")
        payload = payload[0]
    if not isinstance(payload, dict) or "wavelengths" not in payload or "fluxes" not in payload:
        raise InputError(f"{path}: JSON without 'wavelengths' and 'fluxes'; pass a SkyPortal "
                         "spectrum (the response of GET /api/spectra/<id>)")
    return payload


def read_skyportal_json(path: Path, text: str | None = None) -> ObservedSpectrum:
    """A SkyPortal spectrum: wavelengths in Angstrom (SkyPortal stores them so), fluxes in
    ``units`` (``erg/s/cm/cm/AA``, ``Jy``, ``AB``; missing: arbitrary F_lambda)."""
    try:
        payload = json.loads(path.read_text() if text is None else text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: not valid JSON ({error}); the download is incomplete or not "
                         "a SkyPortal spectrum") from error
    spectrum = find_spectrum(payload, path)
    try:
        wave_aa = np.asarray(spectrum["wavelengths"], dtype=np.float64)
        flux = np.asarray([np.nan if v is None else v for v in spectrum["fluxes"]], np.float64)
        errors = spectrum.get("errors")
        flux_err = None if not errors else np.asarray(
            [np.nan if v is None else v for v in errors], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{path}: 'wavelengths', 'fluxes' and 'errors' must be lists of "
                         f"numbers ({error})") from error
    if flux_err is not None and flux_err.shape != flux.shape:
        raise InputError(f"{path}: {flux_err.size} errors for {flux.size} fluxes; the file is "
                         "damaged")
    unit = parse_unit(spectrum.get("units"), str(path), "flux")
    flux, flux_err, kind = flux_to_flambda(flux, flux_err, unit, wave_aa, str(path))
    meta = {"format": "skyportal json", "flux_kind": kind, "wave_unit": "Angstrom",
            "header": {k: spectrum[k] for k in KEPT_FIELDS if spectrum.get(k) is not None},
            "altdata": spectrum.get("altdata")}
    # SkyPortal's own schema states Angstrom, so the unit counts as declared.
    return finish_spectrum(wave_aa, flux, flux_err, str(path), meta, unit_declared=True)
