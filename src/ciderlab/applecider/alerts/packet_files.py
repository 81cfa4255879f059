"""ZTF alert packets from the files users hold: Avro files (one or many packets each), a nightly
archive tarball, Parquet files like the snapshot's, or a folder of any of these; each packet
checked before it is used.

A file that cannot be read and a packet that cannot be classified are reported with the reason
and skipped; the others are still read (``ciderlab classify-alerts`` loses nothing to one bad
packet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ciderlab.applecider.alerts.cutouts import CUTOUT_KINDS, packet_cutouts
from ciderlab.errors import InputError

# The ZTF Avro alert schema's major versions whose layout (objectId, candid, candidate,
# prv_candidates, cutout*) ciderlab reads: 3.x (2018-2023) and 4.x (since 2023).
SCHEMA_MAJORS = ("3", "4")
SUFFIXES = (".avro", ".parquet", ".tar.gz", ".tgz")


@dataclass
class PacketFiles:
    """What ``read_packet_files`` found: the usable packets and every refusal, with reasons."""

    packets: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "<where>: <why>", one per packet or file
    files: int = 0


def _files_of(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
        if not found:
            raise InputError(f"{path}: no {', '.join(SUFFIXES)} files in this folder")
        return found
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if not path.name.endswith(SUFFIXES):
        raise InputError(f"{path}: not an alert file ciderlab reads (expected Avro packets "
                         f"{', '.join(SUFFIXES)}, or a folder of them)")
    return [path]


def _packets_in(path: Path) -> Iterator[dict]:
    if path.name.endswith(".avro"):
        import fastavro

        try:
            with open(path, "rb") as handle:
                yield from list(fastavro.reader(handle))  # read whole: a cut file fails here
        except (ValueError, EOFError, StopIteration, TypeError, IndexError) as error:
            raise InputError(f"{path}: not a readable Avro alert file ({type(error).__name__}: "
                             f"{error}); the file is truncated or not Avro") from error
    elif path.name.endswith(".parquet"):
        import pyarrow
        import pyarrow.parquet as pq

        from ciderlab.applecider.alerts.archive import iter_packets

        try:
            table = pq.read_table(path)
        except (OSError, pyarrow.ArrowException) as error:
            raise InputError(f"{path}: not a readable Parquet file ({error})") from error
        yield from iter_packets({path.name: table})
    else:
        from ciderlab.data.ztf_archive import iter_alert_packets

        yield from iter_alert_packets(path)


def packet_problem(packet: dict) -> str | None:
    """Why one packet cannot be classified, or None when it can.

    Refused: a packet outside the ZTF layout (no objectId, candid or candidate), a schema
    version ciderlab does not know, no history (``prv_candidates`` missing or empty while
    ``ndethist`` counts earlier detections: a stripped packet, and the photometry model needs
    the light curve up to the alert; a first detection has none and is answered), and missing
    or undecodable cutouts (the image models need all three stamps).
    """
    missing = [k for k in ("objectId", "candid", "candidate") if packet.get(k) is None]
    if missing:
        return (f"no {', '.join(missing)}: not a ZTF alert packet (expected objectId, candid, "
                "candidate, prv_candidates, cutoutScience/Template/Difference)")
    version = packet.get("schemavsn")
    if version is not None and str(version).split(".")[0] not in SCHEMA_MAJORS:
        return (f"schema version {version!r} is not one ciderlab reads (ZTF alert schema "
                f"{' or '.join(v + '.x' for v in SCHEMA_MAJORS)})")
    earlier = (packet["candidate"].get("ndethist") or 0) - 1  # detections before this one
    if not packet.get("prv_candidates") and earlier > 0:
        state = "empty" if packet.get("prv_candidates") == [] else "missing"
        return (f"no history (prv_candidates is {state}) although the alert counts {earlier} earlier detections (ndethist): the "
                "photometry model needs the light curve up to the alert; pass the packet as "
                "ZTF distributes it, with its 30 days of history")
    absent = [k for k in CUTOUT_KINDS if not (packet.get(f"cutout{k}") or {}).get("stampData")]
    if absent:
        return (f"no cutout{'/'.join(absent)}: the image models need the science, template and "
                "difference stamps")
    try:
        packet_cutouts(packet)
    except InputError as error:
        return str(error)
    return None


def read_packet_files(paths: list[str | Path]) -> PacketFiles:
    """Every usable packet of ``paths`` (files or folders), the refusals listed with reasons."""
    found = PacketFiles()
    for path in paths:
        try:
            files = _files_of(Path(path))
        except InputError as error:
            found.refused.append(str(error))
            continue
        for file in files:
            found.files += 1
            try:
                for packet in _packets_in(file):
                    problem = packet_problem(packet)
                    if problem is None:
                        found.packets.append(packet)
                    else:
                        found.refused.append(f"{file.name}: alert {packet.get('objectId', '?')} "
                                             f"candid {packet.get('candid', '?')}: {problem}")
            except InputError as error:
                found.refused.append(str(error))
    return found
