"""File formats and atomic writes: every file the pipeline writes goes through here."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from ciderlab.errors import InputError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    An interrupted or failing write therefore never leaves a file that looks complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _json_safe(value: Any) -> Any:
    """NaN and inf are not JSON; write them as null so every reader agrees."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def save_json(data: dict, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_json_safe(data), indent=2, sort_keys=False) + "\n")


def load_json(path: str | os.PathLike) -> dict:
    return json.loads(Path(path).read_text())


def load_records(path: str | os.PathLike) -> list[dict]:
    """One JSON object per line (JSON Lines), e.g. ``benchmarks/budget_sweep.py``'s records."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def save_table(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a small table as CSV (human-diffable, the format DVC shows in diffs)."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


def load_table(path: str | os.PathLike, allow_empty: bool = False) -> pd.DataFrame:
    """Read a table written by ``save_table``; an empty one is an error unless ``allow_empty``."""
    table = pd.read_csv(path, keep_default_na=True)
    if table.empty and not allow_empty:
        raise ValueError(f"{path}: the table is empty; re-run the stage that writes it")
    return table


# --- realised spectra --------------------------------------------------------------------------

from dataclasses import dataclass  # noqa: E402


@dataclass
class SpectraSet:
    """Realised SEDM-like spectra: model inputs in both frames plus one metadata row each."""

    wave_obs_aa: np.ndarray  # (L_obs,) observed-frame grid, Angstrom
    wave_rest_aa: np.ndarray  # (L_rest,) rest-frame grid, Angstrom
    flux_obs: np.ndarray  # (N, L_obs) float32, normalised flattened flux, zero off coverage
    flux_rest: np.ndarray  # (N, L_rest) float32, the same spectrum de-redshifted
    covered_obs: np.ndarray  # (N, L_obs) bool
    covered_rest: np.ndarray  # (N, L_rest) bool
    meta: pd.DataFrame  # N rows: object_id, template, epoch, label, split, redshift, snr, ...
    # (N, L_obs) float32: the observation with its continuum and noise, before preprocessing
    flux_raw_obs: np.ndarray | None = None

    def select(self, rows: np.ndarray) -> "SpectraSet":
        rows = np.asarray(rows)
        raw = None if self.flux_raw_obs is None else self.flux_raw_obs[rows]
        return SpectraSet(self.wave_obs_aa, self.wave_rest_aa, self.flux_obs[rows],
                          self.flux_rest[rows], self.covered_obs[rows], self.covered_rest[rows],
                          self.meta.iloc[rows].reset_index(drop=True), raw)


def save_spectra(spectra: SpectraSet, path: str | os.PathLike) -> None:
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle["wave_obs_aa"] = spectra.wave_obs_aa
        handle["wave_rest_aa"] = spectra.wave_rest_aa
        for name in ("flux_obs", "flux_rest", "covered_obs", "covered_rest", "flux_raw_obs"):
            if getattr(spectra, name) is None:
                continue
            # Contiguous, uncompressed: a set larger than memory can then be memory-mapped
            # (``load_spectra(lazy=True)``) and read one batch of rows at a time.
            handle.create_dataset(name, data=getattr(spectra, name))
        meta = handle.create_group("meta")
        for column in spectra.meta.columns:
            values = spectra.meta[column].to_numpy()
            if values.dtype == object or pd.api.types.is_string_dtype(values):
                meta.create_dataset(column, data=values.astype(str).astype("S"))
                meta[column].attrs["kind"] = "str"
            else:
                meta[column] = values


SPECTRA_ARRAYS = ("flux_obs", "flux_rest", "covered_obs", "covered_rest", "flux_raw_obs")


def load_spectra(path: str | os.PathLike, lazy: bool = False) -> SpectraSet:
    """Read a ``SpectraSet`` written by ``save_spectra``.

    Parameters
    ----------
    path : the HDF5 file
    lazy : if true, the (N, L) arrays are read-only ``np.memmap`` views of the file: nothing
        is read until rows are indexed, so a set larger than memory can be used one batch at a
        time. Needs contiguous, uncompressed datasets (what ``save_spectra`` writes).

    Raises
    ------
    InputError
        The file holds no spectra, or ``lazy`` and an array is stored chunked or compressed.
    """
    import h5py

    with h5py.File(path, "r") as handle:
        columns = {}
        for column, data in handle["meta"].items():
            values = data[:]
            columns[column] = values.astype(str) if data.attrs.get("kind") == "str" else values
        meta = pd.DataFrame(columns)
        if meta.empty:
            raise InputError(f"{path}: holds no spectra; re-run `ciderlab realise`")
        read = (lambda name: _memmap_dataset(path, handle[name])) if lazy else (
            lambda name: handle[name][:])
        arrays = {name: read(name) if name in handle else None for name in SPECTRA_ARRAYS}
        return SpectraSet(handle["wave_obs_aa"][:], handle["wave_rest_aa"][:],
                          arrays["flux_obs"], arrays["flux_rest"], arrays["covered_obs"],
                          arrays["covered_rest"], meta, arrays["flux_raw_obs"])


def _memmap_dataset(path: str | os.PathLike, dataset) -> np.memmap:
    """A read-only memory map of a contiguous, uncompressed HDF5 dataset."""
    offset = dataset.id.get_offset()
    if dataset.chunks is not None or dataset.compression is not None or offset is None:
        raise InputError(
            f"{path}: '{dataset.name.lstrip('/')}' is stored chunked or compressed (written by "
            "an older `ciderlab realise`), so it cannot be read lazily; re-run `ciderlab "
            "realise` to rewrite it contiguous, or load it with lazy=False")
    return np.memmap(path, dtype=dataset.dtype, mode="r", offset=offset, shape=dataset.shape)


def save_arrays(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """A small bundle of named arrays (e.g. the preprocessing figure's example spectra)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as bundle:
        return {key: bundle[key] for key in bundle.files}


def sha256_of(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """The SHA-256 of a file, read in chunks (a raw archive, a checkpoint, a spectra file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()
