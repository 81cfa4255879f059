"""Real ZTF alerts from the fink-science source distribution, read straight from its tarball."""

from __future__ import annotations

import io
import os
import tarfile
import zlib
from typing import Iterator

from ciderlab.errors import InputError

ALERT_DIR = "fink_science/data/alerts/"  # inside fink-science-<version>/ (SPEC §3.2)
_REQUIRED_COLUMNS = ("objectId", "candid", "candidate", "prv_candidates")


def read_archive_alerts(archive: str | os.PathLike, files) -> dict:
    """The Parquet alert files of the archive, as pyarrow tables.

    Parameters
    ----------
    archive : path
        ``fink-science-<version>.tar.gz`` as pulled (never extracted).
    files : sequence of str
        File names under ``fink_science/data/alerts/``.

    Returns
    -------
    dict
        File name -> ``pyarrow.Table`` (one row per alert packet).
    """
    import pyarrow.parquet as pq

    simulated = [f for f in files if "elasticc" in f.lower()]
    if simulated:
        raise InputError(f"alerts.files: {simulated} hold simulated LSST (ELAsTiCC) alerts, not "
                         f"ZTF data; remove them from params.yaml")
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as error:
        raise InputError(f"{archive}: cannot open as a .tar.gz ({error}); run `ciderlab pull` "
                         f"to download and verify it") from error
    wanted, tables = {ALERT_DIR + name: name for name in files}, {}
    with tar:
        for member in _members(tar, archive):  # a gzip stream: stop once every file is found
            name = wanted.get(member.name.split("/", 1)[-1])
            if name is None or not member.isfile():
                continue
            table = pq.read_table(io.BytesIO(_read_member(tar, member, archive)))
            absent = [c for c in _REQUIRED_COLUMNS if c not in table.column_names]
            if absent:
                raise InputError(f"{archive}: {name} has no {absent} columns; it is not a file of "
                                 f"ZTF alert packets")
            tables[name] = table
            if len(tables) == len(wanted):
                break
    absent = [name for name in files if name not in tables]
    if absent:
        raise InputError(f"{archive}: no {', '.join(ALERT_DIR + n for n in absent)}; check "
                         f"alerts.files in params.yaml against the archive's contents")
    return {name: tables[name] for name in files}  # in the order asked for


_DAMAGED = (EOFError, OSError, tarfile.TarError, zlib.error)


def _damaged(archive, error) -> InputError:
    return InputError(f"{archive}: truncated or corrupt archive ({type(error).__name__}: {error}); "
                      f"run `make data` (ciderlab pull) to fetch it again")


def _members(tar: tarfile.TarFile, archive) -> Iterator[tarfile.TarInfo]:
    """The archive's members, a damaged gzip stream or tar header turned into one clear error."""
    try:
        yield from tar
    except _DAMAGED as error:
        raise _damaged(archive, error) from error


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, archive) -> bytes:
    try:
        return tar.extractfile(member).read()
    except _DAMAGED as error:
        raise _damaged(archive, error) from error


def iter_packets(tables: dict) -> Iterator[dict]:
    """Each row of each table as an alert packet dict (the ZTF Avro nested layout)."""
    for table in tables.values():
        for batch in table.to_batches(max_chunksize=64):
            yield from batch.to_pylist()
