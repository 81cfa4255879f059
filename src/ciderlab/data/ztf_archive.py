"""Pull a night of the public ZTF alert archive (SPEC §3.3): a verified tarball of Avro packets."""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

import requests

from ciderlab.data.online import RetryPolicy, download_resumable, get_with_retries
from ciderlab.errors import CiderlabError, InputError

log = logging.getLogger(__name__)

DEFAULT_URL = "https://ztf.uw.edu/alerts/public"
# The archive publishes `md5sum` lines ("<md5>  <file>") for its tarballs in this file.
CHECKSUM_FILE = "MD5SUMS"


class ChecksumError(CiderlabError):
    """A downloaded tarball is not the file the archive published."""


def tarball_name(night: str, programid: str = "public") -> str:
    """``ztf_<programid>_<night>.tar.gz`` after checking ``night`` is a real YYYYMMDD date."""
    try:
        datetime.strptime(night, "%Y%m%d")
    except (TypeError, ValueError):
        raise InputError(f"--night {night!r}: expected a UTC night as YYYYMMDD, e.g. 20181129")
    if not re.fullmatch(r"[a-z]+", programid or ""):
        raise InputError(f"--programid {programid!r}: expected a word such as 'public' (the "
                         "archive's tarballs are named ztf_<programid>_<night>.tar.gz)")
    return f"ztf_{programid}_{night}.tar.gz"


def list_tarballs(session: requests.Session, base_url: str, policy: RetryPolicy) -> list[str]:
    """Tarball names linked from the archive's directory listing ([] if there is no listing)."""
    response, _ = get_with_retries(session, f"{base_url}/", policy, "ZTF archive listing")
    if not response.ok:
        log.warning("ZTF archive listing: HTTP %d; not checking the night is published",
                    response.status_code)
        return []
    return sorted(set(re.findall(r'href="(?:[^"]*/)?(ztf_[a-z]+_\d{8}\.tar\.gz)"',
                                 response.text)))


def published_md5(session: requests.Session, base_url: str, policy: RetryPolicy) -> dict:
    """``{tarball name: md5}`` from the archive's MD5SUMS ({} if it publishes none)."""
    response, _ = get_with_retries(session, f"{base_url}/{CHECKSUM_FILE}", policy,
                                   f"ZTF archive {CHECKSUM_FILE}")
    if not response.ok:
        log.warning("ZTF archive %s: HTTP %d; verifying the size only", CHECKSUM_FILE,
                    response.status_code)
        return {}
    sums = {}
    for line in response.text.splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"[0-9a-f]{32}", parts[0].lower()):
            sums[parts[1].lstrip("*./")] = parts[0].lower()
    return sums


def md5_of(path: Path) -> str:
    """Hex md5 of a file (the digest the archive publishes), read in chunks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def fetch_night(night: str, cache_dir: str | Path, base_url: str = DEFAULT_URL,
                programid: str = "public", policy: RetryPolicy = RetryPolicy(),
                progress: bool | None = None) -> Path:
    """A verified copy of one night's tarball in ``cache_dir``, downloaded only if needed.

    The night must be in the archive's listing (when it has one). The download streams to a
    partial file and resumes with HTTP Range after a drop, a hang or a short body; the
    finished file is checked against the body length the server announced and against the
    archive's MD5SUMS, and a copy that fails the check is removed.

    Parameters
    ----------
    night : str
        UTC night, ``YYYYMMDD``.
    cache_dir : path
        Where tarballs are kept between runs.
    base_url : str
        The archive folder.
    programid : str
        The tarball family (``public`` is the only one open to everyone).
    policy : RetryPolicy
        Retries, back-off and timeout.
    progress : bool or None
        Byte progress bar on stderr (None: only on a terminal).

    Returns
    -------
    Path
        The tarball.
    """
    name = tarball_name(night, programid)
    base_url = base_url.rstrip("/")
    session = requests.Session()
    try:
        listed = list_tarballs(session, base_url, policy)
        if listed and name not in listed:
            nights = sorted(re.search(r"\d{8}", n).group() for n in listed
                            if n.startswith(f"ztf_{programid}_"))
            near = f"{nights[0]} to {nights[-1]}, {len(nights)} nights" if nights else "none"
            raise InputError(f"--night {night}: {base_url}/ lists no {name} (its {programid} "
                             f"nights: {near}); pick a listed night")
        expected = published_md5(session, base_url, policy).get(name)
        if expected is None:
            log.warning("%s: no published md5; checking only that the body is complete", name)
        dest = Path(cache_dir) / name
        if dest.exists() and expected and md5_of(dest) != expected:
            log.warning("%s: cached copy does not match the published md5; downloading again",
                        dest)
            dest.unlink()
        if not dest.exists():
            download_resumable(session, f"{base_url}/{name}", dest, policy, f"ZTF {name}",
                               progress=progress)
    finally:
        session.close()
    if expected and (actual := md5_of(dest)) != expected:
        dest.unlink()
        raise ChecksumError(f"{dest}: md5 {actual} does not match the archive's {expected} "
                            f"({CHECKSUM_FILE}); the file was removed. Run again; if it "
                            "persists the archive is serving a different file.")
    return dest


def iter_alert_packets(tarball: str | Path, object_ids: Iterable[str] | None = None,
                       max_packets: int | None = None) -> Iterator[dict]:
    """Alert packets (dicts in the ZTF Avro schema) streamed from a nightly tarball.

    The tarball is read front to back without extracting anything; each ``.avro`` member is
    an Avro container file of one or more packets.

    Parameters
    ----------
    tarball : path
        A ``ztf_<programid>_<night>.tar.gz``.
    object_ids : iterable of str, optional
        Keep only packets of these ``objectId``s.
    max_packets : int, optional
        Stop after this many kept packets.

    Yields
    ------
    dict
        One packet: ``objectId``, ``candid``, ``candidate``, ``prv_candidates``, cutouts...

    Raises
    ------
    InputError
        The tarball or an Avro member is damaged (the message names it).
    """
    import fastavro

    wanted = set(object_ids) if object_ids else None
    kept = 0
    if max_packets is not None and max_packets <= 0:
        return
    try:
        # "r|gz": a forward-only stream, so a night of GBs never needs seeking or extracting.
        with tarfile.open(tarball, mode="r|gz") as archive:
            for member in archive:
                if not (member.isfile() and member.name.endswith(".avro")):
                    continue
                try:
                    records = list(fastavro.reader(archive.extractfile(member)))
                except (ValueError, EOFError, StopIteration, TypeError) as error:
                    raise InputError(f"{tarball}: member {member.name} is not a readable Avro "
                                     f"alert packet ({error}); delete the tarball and pull "
                                     "the night again") from error
                for packet in records:
                    if wanted is not None and packet.get("objectId") not in wanted:
                        continue
                    yield packet
                    kept += 1
                    if max_packets is not None and kept >= max_packets:
                        return
    except (tarfile.TarError, EOFError, OSError) as error:
        raise InputError(f"{tarball}: damaged tarball ({error}); delete it and pull the night "
                         "again") from error


def pull_ztf_alerts(night: str, out_dir: str | Path, cache_dir: str | Path,
                    base_url: str = DEFAULT_URL, programid: str = "public",
                    object_ids: Iterable[str] | None = None, max_packets: int | None = None,
                    policy: RetryPolicy = RetryPolicy(), progress: bool | None = None,
                    **table_options):
    """Fetch one night and write the ``alerts`` stage's tables of its (filtered) packets.

    Parameters
    ----------
    night, cache_dir, base_url, programid, policy, progress
        As for :func:`fetch_night`.
    out_dir : path
        Where :func:`ciderlab.applecider.alerts.tables.save_alert_tables` writes the tables.
    object_ids, max_packets
        As for :func:`iter_alert_packets`.
    **table_options
        Passed to :func:`ciderlab.applecider.alerts.tables.packets_to_tables` (``stamp_size``,
        ``normalisation``), as params.yaml's ``alerts`` section sets them for the stage.

    Returns
    -------
    (tarball, n_packets, tables)
        The cached tarball, how many packets were converted and the ``AlertTables``.
    """
    from ciderlab.applecider.alerts.tables import packets_to_tables, save_alert_tables

    tarball = fetch_night(night, cache_dir, base_url, programid, policy, progress)
    packets = iter_alert_packets(tarball, object_ids, max_packets)
    first = next(packets, None)
    if first is None:
        raise InputError(f"{tarball.name}: no alert packets"
                         + (" of the requested objects" if object_ids else "")
                         + "; nothing to write (the archive holds empty tarballs for nights "
                         "without public alerts)")
    count = 0

    def counted():  # the packets stream into the tables; count them on the way
        nonlocal count
        for packet in itertools.chain([first], packets):
            count += 1
            yield packet

    tables = packets_to_tables(counted(), **table_options)
    save_alert_tables(tables, Path(out_dir))
    return tarball, count, tables
