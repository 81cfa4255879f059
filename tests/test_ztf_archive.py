"""ciderlab pull ztf-alerts against a loopback copy of the public ZTF alert archive.

The server is a ThreadingHTTPServer on 127.0.0.1 with what the real archive serves: a
directory listing, an MD5SUMS file and nightly tarballs of Avro alert packets (written here
with fastavro in a minimal ZTF schema, cutouts as gzip-compressed FITS made with astropy).
It honours HTTP Range (or not, on request) and injects 429/5xx, hangs and bodies cut short.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import threading
import time
from dataclasses import dataclass, field

import fastavro
import numpy as np
import pytest
from astropy.io import fits
from loopback import QuietHandler, serving

from recipes import params_file
from ciderlab.applecider.alerts.tables import load_alert_tables
from ciderlab.cli import main
from ciderlab.data.online import OnlineError, RetryPolicy, partial_path
from ciderlab.data.ztf_archive import (ChecksumError, fetch_night, iter_alert_packets,
                                       pull_ztf_alerts)
from ciderlab.errors import InputError

NIGHT = "20181129"
NAME = f"ztf_public_{NIGHT}.tar.gz"
FAST = RetryPolicy(max_attempts=4, backoff_s=0.01, backoff_max_s=0.05, retry_after_max_s=5,
                   timeout_s=0.5)

_CANDIDATE = {"name": "candidate", "type": "record", "namespace": "ztf.alert", "fields": [
    {"name": "jd", "type": "double"}, {"name": "fid", "type": "int"},
    {"name": "pid", "type": "long"}, {"name": "candid", "type": ["null", "long"]},
    {"name": "isdiffpos", "type": "string"}, {"name": "ra", "type": "double"},
    {"name": "dec", "type": "double"}, {"name": "magpsf", "type": "float"},
    {"name": "sigmapsf", "type": "float"}, {"name": "diffmaglim", "type": ["null", "float"]},
    {"name": "rb", "type": ["null", "float"]}, {"name": "drb", "type": ["null", "float"]},
    {"name": "sgscore1", "type": ["null", "float"]},
    {"name": "distpsnr1", "type": ["null", "float"]},
    {"name": "ndethist", "type": "int"}, {"name": "ncovhist", "type": "int"},
    {"name": "jdstarthist", "type": ["null", "double"]},
    {"name": "xpos", "type": ["null", "float"]}, {"name": "ypos", "type": ["null", "float"]}]}
_PRV = {"name": "prv_candidate", "type": "record", "namespace": "ztf.alert", "fields": [
    {"name": "jd", "type": "double"}, {"name": "fid", "type": "int"},
    {"name": "candid", "type": ["null", "long"]},
    {"name": "isdiffpos", "type": ["null", "string"]},
    {"name": "magpsf", "type": ["null", "float"]}, {"name": "sigmapsf", "type": ["null", "float"]},
    {"name": "diffmaglim", "type": ["null", "float"]}]}
_CUTOUT = {"name": "cutout", "type": "record", "namespace": "ztf.alert", "fields": [
    {"name": "fileName", "type": "string"}, {"name": "stampData", "type": "bytes"}]}
# A minimal ZTF alert schema (v3.3 layout: objectId, candid, candidate, prv_candidates, cutouts).
SCHEMA = fastavro.parse_schema({
    "name": "alert", "type": "record", "namespace": "ztf", "fields": [
        {"name": "schemavsn", "type": "string"}, {"name": "publisher", "type": "string"},
        {"name": "objectId", "type": "string"}, {"name": "candid", "type": "long"},
        {"name": "candidate", "type": _CANDIDATE},
        {"name": "prv_candidates", "type": ["null", {"type": "array", "items": _PRV}]},
        {"name": "cutoutScience", "type": ["null", _CUTOUT]},
        {"name": "cutoutTemplate", "type": ["null", "ztf.alert.cutout"]},
        {"name": "cutoutDifference", "type": ["null", "ztf.alert.cutout"]}]})


def stamp(rng: np.random.Generator) -> bytes:
    """A 63x63 float32 FITS image, gzip-compressed, as in a ZTF cutout's stampData."""
    buffer = io.BytesIO()
    fits.PrimaryHDU(rng.normal(100, 10, (63, 63)).astype(np.float32)).writeto(buffer)
    return gzip.compress(buffer.getvalue())


def make_packet(object_id: str, candid: int, jd: float, rng: np.random.Generator) -> dict:
    candidate = {"jd": jd, "fid": 1 + candid % 2, "pid": candid // 10, "candid": candid,
                 "isdiffpos": "t", "ra": 150.0, "dec": 2.0, "magpsf": 18.5, "sigmapsf": 0.1,
                 "diffmaglim": 20.5, "rb": 0.9, "drb": 0.99, "sgscore1": 0.1,
                 "distpsnr1": 1.5, "ndethist": 3, "ncovhist": 10, "jdstarthist": jd - 5,
                 "xpos": 1000.0, "ypos": 1000.0}
    history = [{"jd": jd - 3, "fid": 1, "candid": None, "isdiffpos": None, "magpsf": None,
                "sigmapsf": None, "diffmaglim": 20.1},  # an upper limit
               {"jd": jd - 2, "fid": 2, "candid": candid - 1, "isdiffpos": "t",
                "magpsf": 18.9, "sigmapsf": 0.12, "diffmaglim": 20.3}]
    cutouts = {f"cutout{kind}": {"fileName": f"candid{candid}_{kind.lower()}.fits.gz",
                                 "stampData": stamp(rng)}
               for kind in ("Science", "Template", "Difference")}
    return {"schemavsn": "3.3", "publisher": "ZTF (www.ztf.caltech.edu)",
            "objectId": object_id, "candid": candid, "candidate": candidate,
            "prv_candidates": history, **cutouts}


PACKETS = [make_packet(obj, 700000000000000000 + i, 2458451.7 + 0.01 * i,
                       np.random.default_rng(i))
           for i, obj in enumerate(["ZTF18aaaaaaa", "ZTF18aaaaaab", "ZTF18aaaaaab",
                                    "ZTF18aaaaaac", "ZTF18aaaaaad", "ZTF18aaaaaae"])]


def make_tarball(packets: list[dict]) -> bytes:
    """A nightly tarball as the archive publishes it: one Avro file per alert, gzip'd tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for packet in packets:
            avro = io.BytesIO()
            fastavro.writer(avro, SCHEMA, [packet])
            info = tarfile.TarInfo(f"{packet['candid']}.avro")
            info.size = len(avro.getvalue())
            archive.addfile(info, io.BytesIO(avro.getvalue()))
    return buffer.getvalue()


TARBALL = make_tarball(PACKETS)


@dataclass
class ArchiveState:
    """What the loopback archive serves, its faults, and the requests it saw."""

    files: dict = field(default_factory=lambda: {NAME: TARBALL})
    md5sums: str | None = None  # None: the published sums of `files`; "" : no MD5SUMS (404)
    range_support: bool = True
    # Faults for the next tarball requests, in order: "503", "429", "truncate", "hang",
    # "short-range" (answer a Range request with only part of the range, correctly labelled).
    faults: list = field(default_factory=list)
    always_truncate: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    requests: list = field(default_factory=list)  # (path, Range header, monotonic time)
    bytes_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tarball_requests(self) -> list:
        with self.lock:
            return [r for r in self.requests if r[0].endswith(".tar.gz")]


def _handler(state: ArchiveState):
    class ArchiveHandler(QuietHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):  # noqa: N802 (http.server API)
            path = self.path.split("?", 1)[0].rsplit("/", 1)
            folder, name = path[0], path[1]
            with state.lock:
                state.requests.append((self.path, self.headers.get("Range"), time.monotonic()))
            if folder != "/alerts/public":
                return self.send_body(404, b"not found")
            if name == "":  # Apache-style index
                rows = "".join(f'<tr><td><a href="{n}">{n}</a></td><td>{len(d)}</td></tr>'
                               for n, d in sorted(state.files.items()))
                page = f"<html><body><table id='indexlist'>{rows}</table></body></html>"
                return self.send_body(200, page.encode())
            if name == "MD5SUMS":
                if state.md5sums == "":
                    return self.send_body(404, b"not found")
                sums = state.md5sums if state.md5sums is not None else "".join(
                    f"{hashlib.md5(d).hexdigest()}  {n}\n" for n, d in state.files.items())
                return self.send_body(200, sums.encode(), content_type="text/plain")
            if name not in state.files:
                return self.send_body(404, b"not found")
            self._serve_file(state.files[name])

        def _serve_file(self, data: bytes):
            with state.lock:
                fault = state.faults.pop(0) if state.faults else None
            if fault == "503":
                return self.send_body(503, b"busy")
            if fault == "429":
                return self.send_body(429, b"slow down", headers=[("Retry-After", "1")])
            start, status, headers = 0, 200, []
            wanted = self.headers.get("Range")
            if wanted and state.range_support:
                start = int(wanted.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    return self.send_body(416, b"", headers=[("Content-Range",
                                                          f"bytes */{len(data)}")])
                status = 206
                headers = [("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")]
            body = data[start:]
            if fault == "short-range" and status == 206:
                # RFC 9110 lets a server send less than the range asked for; it says so in
                # Content-Range, and the body it announces arrives whole.
                body = body[: len(body) // 2]
                headers = [("Content-Range",
                            f"bytes {start}-{start + len(body) - 1}/{len(data)}")]
            self.send_response(status)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(body)))  # promises the whole rest
            for key, value in headers:
                self.send_header(key, value)
            self.end_headers()
            if fault in ("truncate", "hang") or state.always_truncate:
                body = body[: len(body) // 3]
            with state.lock:  # counted before the write: the client may finish reading first
                state.bytes_sent += len(body)
            self.wfile.write(body)
            self.wfile.flush()
            if fault == "hang":
                state.release.wait(10)  # silent far longer than the client's read timeout

    return ArchiveHandler


@pytest.fixture
def archive():
    """A running loopback archive; yields (url, state)."""
    state = ArchiveState()
    with serving(_handler(state)) as url:
        yield f"{url}/alerts/public", state
        state.release.set()  # let a hanging answer end before the server stops


def test_pulls_a_night_into_the_alert_tables(archive, tmp_path):
    url, state = archive
    tarball, n, _ = pull_ztf_alerts(NIGHT, tmp_path / "out", tmp_path / "cache", base_url=url,
                                    policy=FAST)
    assert n == len(PACKETS)
    assert tarball.read_bytes() == TARBALL
    tables = load_alert_tables(tmp_path / "out")
    assert list(tables.metadata["candid"]) == [p["candid"] for p in PACKETS]
    assert tables.cutouts.shape == (len(PACKETS), 63, 63, 3)
    lc = tables.lightcurve
    # Each alert's history arrives with it: its upper limit and its earlier detection.
    assert lc["is_limit"].sum() == len(PACKETS)
    assert set(lc["objectId"]) == {p["objectId"] for p in PACKETS}


def test_packets_are_read_from_the_tarball_with_their_cutouts_and_filters_apply(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(TARBALL)
    packets = list(iter_alert_packets(path))
    assert [p["candid"] for p in packets] == [p["candid"] for p in PACKETS]
    science = gzip.decompress(packets[0]["cutoutScience"]["stampData"])
    assert fits.getdata(io.BytesIO(science)).shape == (63, 63)
    assert packets[0]["prv_candidates"][0]["magpsf"] is None
    chosen = list(iter_alert_packets(path, object_ids=["ZTF18aaaaaab", "ZTF18nothere"]))
    assert [p["objectId"] for p in chosen] == ["ZTF18aaaaaab", "ZTF18aaaaaab"]
    assert len(list(iter_alert_packets(path, max_packets=2))) == 2
    assert [p["objectId"] for p in iter_alert_packets(path, ["ZTF18aaaaaab"], 1)] == [
        "ZTF18aaaaaab"]


def test_a_body_cut_short_is_resumed_with_a_range_request(archive, tmp_path, caplog):
    url, state = archive
    state.faults = ["truncate"]
    path = fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    assert path.read_bytes() == TARBALL
    (_, first_range, _), (_, second_range, _) = state.tarball_requests()
    resumed_at = int(second_range.removeprefix("bytes=").rstrip("-"))
    # The client keeps what it wrote before the drop (whole reads: up to 64 KiB short of the
    # third the server sent) and asks only for the rest.
    assert first_range is None and 0 < resumed_at <= len(TARBALL) // 3
    assert state.bytes_sent == len(TARBALL) + len(TARBALL) // 3 - resumed_at
    assert "cut short" in caplog.text


def test_a_range_answered_in_part_is_completed_by_another_request(archive, tmp_path):
    url, state = archive
    state.faults = ["truncate", "short-range"]
    path = fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    assert path.read_bytes() == TARBALL
    ranges = [r for _, r, _ in state.tarball_requests()]
    assert len(ranges) == 3 and ranges[2] != ranges[1]  # asked for the rest of the rest


def test_a_server_without_range_support_sends_it_all_again(archive, tmp_path):
    url, state = archive
    state.range_support = False
    state.faults = ["truncate"]
    path = fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    assert path.read_bytes() == TARBALL
    assert [r for _, r, _ in state.tarball_requests()][1] is not None  # it asked; got 200


def test_a_hanging_transfer_times_out_and_resumes(archive, tmp_path, caplog):
    url, state = archive
    state.faults = ["hang"]
    started = time.monotonic()
    path = fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    assert time.monotonic() - started < 5  # gave up after the 0.5 s read timeout, not 10 s
    assert path.read_bytes() == TARBALL
    assert state.tarball_requests()[1][1].startswith("bytes=")  # resumed, not restarted
    assert "timed out" in caplog.text


def test_busy_and_rate_limited_answers_are_retried_after_retry_after(archive, tmp_path):
    url, state = archive
    state.faults = ["503", "429"]
    path = fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    assert path.read_bytes() == TARBALL
    times = [t for _, _, t in state.tarball_requests()]
    assert len(times) == 3
    assert times[2] - times[1] >= 0.95  # the 429's Retry-After: 1, not the 0.02 s back-off


def test_an_interrupted_pull_keeps_its_bytes_and_the_next_run_finishes(archive, tmp_path):
    url, state = archive
    state.always_truncate = True
    with pytest.raises(OnlineError, match="still incomplete.*Run the same command again: it "
                                          "resumes"):
        fetch_night(NIGHT, tmp_path, base_url=url, policy=RetryPolicy(max_attempts=1))
    dest = tmp_path / NAME
    kept = partial_path(dest).stat().st_size
    assert not dest.exists() and 0 < kept <= len(TARBALL) // 3
    state.always_truncate = False
    path = fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    assert path.read_bytes() == TARBALL and not partial_path(dest).exists()
    assert state.tarball_requests()[-1][1] == f"bytes={kept}-"


def test_a_stale_partial_file_longer_than_the_night_is_discarded(archive, tmp_path):
    url, state = archive
    partial_path(tmp_path / NAME).write_bytes(TARBALL + b"left over from another file")
    path = fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    assert path.read_bytes() == TARBALL
    assert [r for _, r, _ in state.tarball_requests()][1] is None  # 416, then from scratch


def test_a_file_that_differs_from_the_published_md5_is_removed(archive, tmp_path):
    url, state = archive
    state.md5sums = f"{'0' * 32}  {NAME}\n"
    with pytest.raises(ChecksumError, match=f"{NAME}: md5 .* does not match"):
        fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    assert list(tmp_path.iterdir()) == []


def test_without_md5sums_the_size_is_still_checked(archive, tmp_path, caplog):
    url, state = archive
    state.md5sums = ""
    state.faults = ["truncate"]
    assert fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST).read_bytes() == TARBALL
    assert "no published md5" in caplog.text


def test_a_verified_night_is_not_downloaded_again(archive, tmp_path):
    url, state = archive
    fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    fetch_night(NIGHT, tmp_path, base_url=url, policy=FAST)
    assert len(state.tarball_requests()) == 1


def test_an_unlisted_or_malformed_night_is_named(archive, tmp_path):
    url, state = archive
    with pytest.raises(InputError, match="--night 20200101: .* lists no ztf_public_20200101"
                                         r".*20181129 to 20181129, 1 nights"):
        fetch_night("20200101", tmp_path, base_url=url, policy=FAST)
    with pytest.raises(InputError, match="--night '2018-11-29': expected .* YYYYMMDD"):
        fetch_night("2018-11-29", tmp_path, base_url=url, policy=FAST)
    assert state.tarball_requests() == []


def test_a_damaged_or_empty_tarball_is_a_clear_error(archive, tmp_path):
    url, state = archive
    state.files = {NAME: TARBALL[: len(TARBALL) // 2]}  # published broken, md5 and all
    with pytest.raises(InputError, match=f"{NAME}: damaged tarball.*delete it"):
        pull_ztf_alerts(NIGHT, tmp_path / "out", tmp_path / "cache", base_url=url, policy=FAST)
    (tmp_path / "cache" / NAME).unlink()
    state.files = {NAME: make_tarball([])}  # the archive's nights without public alerts
    with pytest.raises(InputError, match="no alert packets"):
        pull_ztf_alerts(NIGHT, tmp_path / "out", tmp_path / "cache", base_url=url, policy=FAST)
    assert not (tmp_path / "out").exists()


def test_cli_pull_ztf_alerts_prints_one_line_and_rejects_foreign_options(archive, tmp_path,
                                                                       capsys):
    url, _ = archive
    params = params_file(tmp_path, pull={"backoff_s": 0.01, "timeout_s": 0.5})
    out = tmp_path / "out"
    assert main(["pull", "ztf-alerts", "--night", NIGHT, "--out", str(out), "--url", url,
                 "--cache-dir", str(tmp_path / "cache"), "--params", str(params),
                 "--object-ids", "ZTF18aaaaaab,ZTF18aaaaaae", "--max-packets", "2"]) == 0
    stdout = capsys.readouterr().out
    assert stdout == f"pull ztf-alerts: 2 alert packets of {NAME} -> {out}\n"
    assert sorted(load_alert_tables(out).metadata["objectId"]) == ["ZTF18aaaaaab"] * 2
    assert main(["pull", "--night", NIGHT]) == 1
    assert "--night does not apply to `ciderlab pull raw`" in capsys.readouterr().err
