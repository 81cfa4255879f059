"""Write a spectrum as SEDM-style ASCII, log-lambda WCS FITS or SkyPortal JSON (examples, tests)."""

from __future__ import annotations

import json
import os

import numpy as np
from astropy.io import fits

from ciderlab.io import atomic_path


def save_sedm_ascii(path: str | os.PathLike, wave_aa: np.ndarray, flux: np.ndarray,
                    flux_err: np.ndarray | None = None, header: dict | None = None) -> None:
    """'# KEY: value' header lines, then wavelength [AA], flux[, error] columns, like SEDM's."""
    lines = [f"# {key}: {value}" for key, value in (header or {}).items()]
    lines += ["# WAVE_UNIT: Angstrom"]
    columns = [wave_aa, flux] + ([] if flux_err is None else [flux_err])
    with atomic_path(path) as tmp:
        with open(tmp, "w") as handle:
            handle.write("\n".join(lines) + "\n")
            np.savetxt(handle, np.column_stack(columns), fmt="%.17g")  # float64 exactly


def save_log_wcs_fits(path: str | os.PathLike, wave_aa: np.ndarray, flux: np.ndarray,
                      header: dict | None = None) -> None:
    """A 1-D image with a FITS-standard log-lambda WCS (CTYPE1 = 'WAVE-LOG').

    ``wave_aa`` must be uniform in ln(lambda) (like the model grids); it is checked.
    """
    dln = np.diff(np.log(wave_aa))
    if not np.allclose(dln, dln[0], rtol=1e-6):
        raise ValueError("save_log_wcs_fits needs a grid uniform in ln(lambda)")
    hdu = fits.PrimaryHDU(np.asarray(flux, dtype=np.float64))
    # FITS 'WAVE-LOG': lambda = CRVAL1 exp(CDELT1 (p - CRPIX1) / CRVAL1).
    hdu.header.update({"CTYPE1": "WAVE-LOG", "CUNIT1": "Angstrom", "CRPIX1": 1.0,
                       "CRVAL1": float(wave_aa[0]), "CDELT1": float(wave_aa[0] * dln[0])})
    for key, value in (header or {}).items():
        hdu.header[key] = value
    with atomic_path(path) as tmp:
        hdu.writeto(tmp, overwrite=True)


def save_skyportal_json(path: str | os.PathLike, wave_aa: np.ndarray, flux: np.ndarray,
                        flux_err: np.ndarray | None = None, **fields) -> None:
    """A SkyPortal GET /api/spectra/<id> response: {"status": "success", "data": {...}}."""
    data = {"wavelengths": np.asarray(wave_aa, float).tolist(),
            "fluxes": np.asarray(flux, float).tolist(),
            "errors": None if flux_err is None else np.asarray(flux_err, float).tolist(),
            "units": "erg/s/cm/cm/AA", **fields}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"status": "success", "message": "", "data": data}))
