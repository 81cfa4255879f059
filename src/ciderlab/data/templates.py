"""Read the SNID-SAGE 0.9.0 template bank straight from its wheel (SPEC §3.1)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

_BANK_DIR = "snid_sage/templates/"
# Ages of -99.9 / -100 mean "undefined" in the bank.
_UNDEFINED_AGE = -99.0


@dataclass(frozen=True)
class TemplateSpectrum:
    """One rest-frame, SNID-flattened template spectrum on the bank's log-wavelength grid."""

    name: str
    epoch: int
    sn_type: str
    subtype: str
    age_days: float  # days from maximum light; NaN where the bank has none
    flux: np.ndarray  # (n_wave,) flattened flux (continuum-divided minus one), zero off coverage


@dataclass(frozen=True)
class TemplateBank:
    wave_rest_aa: np.ndarray  # (n_wave,) rest-frame wavelength, Angstrom
    spectra: list[TemplateSpectrum]


def _age(value) -> float:
    age = float(value)
    return float("nan") if age <= _UNDEFINED_AGE else age


def _read_bank_file(handle: h5py.File) -> tuple[np.ndarray, list[TemplateSpectrum]]:
    wave = handle["metadata/standard_wavelength"][:].astype(np.float64)
    spectra = []
    for name, group in handle["templates"].items():
        attrs = group.attrs
        sn_type, subtype = str(attrs["type"]), str(attrs["subtype"])
        if "epochs" in group:
            epochs = group["epochs"]
            for key in sorted(epochs, key=lambda k: int(k.split("_")[-1])):
                spectra.append(TemplateSpectrum(
                    name=name, epoch=int(key.split("_")[-1]), sn_type=sn_type, subtype=subtype,
                    age_days=_age(epochs[key].attrs["age"]),
                    flux=epochs[key]["flux"][:].astype(np.float64)))
        else:
            spectra.append(TemplateSpectrum(
                name=name, epoch=0, sn_type=sn_type, subtype=subtype,
                age_days=_age(attrs["age"]), flux=group["flux"][:].astype(np.float64)))
    return wave, spectra


def load_template_bank(wheel_path: str | Path, types: set[str] | None = None) -> TemplateBank:
    """Read every template (or those of the SNID ``types`` given, e.g. {"Galaxy"}) from the wheel.

    Raises
    ------
    FileNotFoundError, ValueError
        If the wheel is missing or holds no template bank.
    """
    wheel_path = Path(wheel_path)
    if not wheel_path.exists():
        raise FileNotFoundError(f"{wheel_path}: not found; run `ciderlab pull` first")
    with zipfile.ZipFile(wheel_path) as wheel:
        members = sorted(n for n in wheel.namelist()
                         if n.startswith(_BANK_DIR + "templates_") and n.endswith(".hdf5"))
        if not members:
            raise ValueError(f"{wheel_path}: no SNID-SAGE template bank inside this archive")
        wave, spectra = None, []
        for member in members:
            bank_type = member[len(_BANK_DIR + "templates_"):-len(".hdf5")]
            if types is not None and bank_type not in types:
                continue
            with h5py.File(io.BytesIO(wheel.read(member)), "r") as handle:
                member_wave, member_spectra = _read_bank_file(handle)
            if wave is not None and not np.allclose(wave, member_wave):
                raise ValueError(f"{wheel_path}:{member}: wavelength grid differs from the others")
            wave = member_wave
            spectra.extend(member_spectra)
    if wave is None:
        raise ValueError(f"{wheel_path}: no templates of types {sorted(types or [])}")
    return TemplateBank(wave_rest_aa=wave, spectra=spectra)
