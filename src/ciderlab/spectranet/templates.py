"""Read the SNID-SAGE 0.9.0 template bank straight from its wheel (SPEC §3.1)."""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ciderlab.data.pull import RAW_ARCHIVES
from ciderlab.io import sha256_of
from ciderlab.errors import InputError

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


_FETCH_AGAIN = "run `make data` (ciderlab pull) to fetch it again"


def check_raw_archive(path: Path) -> None:
    """Verify the sha256 of a file that has a pinned raw archive's name and size.

    A file of another size is read as it is: a truncated archive then fails on opening (its
    zip directory sits at the end) and a damaged member on reading (zip's CRC-32). The hash
    catches what those cannot, e.g. bytes changed in place, for 0.1 s on the 77 MB wheel.

    Raises
    ------
    InputError
        If the file has the published size but not the published hash.
    """
    for archive in RAW_ARCHIVES:
        if path.name == archive.filename and path.stat().st_size == archive.size_bytes:
            actual = sha256_of(path)
            if actual != archive.sha256:
                raise InputError(f"{path} is corrupt (sha256 {actual}, but {archive.requirement} "
                                 f"is published as {archive.sha256}); {_FETCH_AGAIN}")


def load_template_bank(wheel_path: str | Path, types: set[str] | None = None) -> TemplateBank:
    """Read every template (or those of the SNID ``types`` given, e.g. {"Galaxy"}) from the wheel.

    Raises
    ------
    FileNotFoundError
        If the wheel is missing.
    InputError
        If the archive is truncated or corrupt, or is the pinned wheel's size with another hash.
    ValueError
        If it holds no template bank.
    """
    wheel_path = Path(wheel_path)
    if not wheel_path.exists():
        raise FileNotFoundError(f"{wheel_path}: not found; run `ciderlab pull` first")
    check_raw_archive(wheel_path)
    try:
        return _read_wheel(wheel_path, types)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise InputError(f"{wheel_path} is truncated or corrupt (zip error: {error}); "
                         f"{_FETCH_AGAIN}") from None


def _read_wheel(wheel_path: Path, types: set[str] | None) -> TemplateBank:
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
            try:
                handle = h5py.File(io.BytesIO(wheel.read(member)), "r")
            except OSError as error:  # h5py's word for "not HDF5"
                raise InputError(f"{wheel_path}: {member} is not a readable HDF5 file "
                                 f"({error}); {_FETCH_AGAIN}") from None
            with handle:
                member_wave, member_spectra = _read_bank_file(handle)
            if wave is not None and not np.allclose(wave, member_wave):
                raise ValueError(f"{wheel_path}:{member}: wavelength grid differs from the others")
            wave = member_wave
            spectra.extend(member_spectra)
    if wave is None:
        raise ValueError(f"{wheel_path}: no templates of types {sorted(types or [])}")
    return TemplateBank(wave_rest_aa=wave, spectra=spectra)
