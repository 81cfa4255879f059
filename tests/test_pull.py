"""ciderlab.pull against a real (loopback) PEP 503 "simple" index and the real `pip download`.

Nothing in ciderlab is mocked: every test runs the pip subprocess that pull.py runs, pointed at
a tiny index served from a thread on 127.0.0.1. The server can inject faults (different bytes,
a truncated body, a 503) and counts the requests for the archive file.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import os
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from loopback import QuietHandler, serving

from ciderlab.data.pull import ChecksumError, DownloadError, RawArchive, pull_archive, verify_archive

PROJECT = "ciderlab-testpkg"
VERSION = "1.0"
FILENAME = "ciderlab_testpkg-1.0-py3-none-any.whl"
FILE_PATH = f"/files/{FILENAME}"


def make_wheel(body: str = "VALUE = 1\n") -> bytes:
    """A minimal, valid pure-Python wheel for ciderlab-testpkg 1.0 (deterministic bytes)."""
    dist_info = f"ciderlab_testpkg-{VERSION}.dist-info"
    members = {
        "ciderlab_testpkg/__init__.py": body.encode(),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {PROJECT}\nVersion: {VERSION}\n"
        ).encode(),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: ciderlab-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ).encode(),
    }
    record_lines = []
    for name, data in members.items():
        digest = hashlib.sha256(data).digest()
        b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record_lines.append(f"{name},sha256={b64},{len(data)}")
    record_lines.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = ("\n".join(record_lines) + "\n").encode()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()


WHEEL = make_wheel()
# A different but equally valid wheel: what a misbehaving index might serve under the same name.
TAMPERED_WHEEL = make_wheel("VALUE = 2  # not the published file\n")
WHEEL_SHA256 = hashlib.sha256(WHEEL).hexdigest()
TAMPERED_SHA256 = hashlib.sha256(TAMPERED_WHEEL).hexdigest()


def archive_for(data: bytes = WHEEL) -> RawArchive:
    return RawArchive(
        requirement=f"{PROJECT}=={VERSION}",
        filename=FILENAME,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        pip_args=("--only-binary", ":all:"),
    )


@dataclass
class IndexState:
    """What the loopback index serves, the faults it injects, and what it has been asked."""

    payload: bytes = WHEEL
    # Answer the first N file requests with 503 before serving normally.
    fail_first_with_503: int = 0
    # Truncate the first N file responses (full Content-Length, half the body, then close);
    # -1 truncates every response.
    truncate_first: int = 0
    file_requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def file_request_count(self) -> int:
        with self.lock:
            return len(self.file_requests)


def _make_handler(state: IndexState):
    class SimpleIndexHandler(QuietHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: a close ends the body

        def do_GET(self):  # noqa: N802 (http.server API)
            path = self.path.split("?", 1)[0]
            if path in ("/simple", "/simple/"):
                link = f'<a href="/simple/{PROJECT}/">{PROJECT}</a>'
                page = f"<!DOCTYPE html><html><body>{link}</body></html>"
                return self.send_body(200, page.encode(), "text/html")
            if path in (f"/simple/{PROJECT}", f"/simple/{PROJECT}/"):
                # PEP 503: one anchor per file, the URL fragment carrying the file's sha256
                # (like PyPI, the hash of whatever this index actually serves).
                served_sha = hashlib.sha256(state.payload).hexdigest()
                href = html.escape(f"{FILE_PATH}#sha256={served_sha}")
                page = (
                    "<!DOCTYPE html><html><head><title>Links for ciderlab-testpkg</title></head>"
                    f'<body><h1>Links for {PROJECT}</h1><a href="{href}">{FILENAME}</a><br/>'
                    "</body></html>"
                )
                return self.send_body(200, page.encode(), "text/html")
            if path == FILE_PATH:
                return self._serve_file()
            return self.send_body(404, b"not found", "text/plain")

        def _serve_file(self):
            with state.lock:
                number = len(state.file_requests)
                state.file_requests.append({"range": self.headers.get("Range")})
                fail = number < state.fail_first_with_503
                truncate = state.truncate_first < 0 or number < state.truncate_first
            if fail:
                return self.send_body(503, b"try again", "text/plain")
            data = state.payload
            content_type = "application/octet-stream"
            if truncate:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))  # promises the full size
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return None
            return self.send_body(200, data, content_type)

    return SimpleIndexHandler


@pytest.fixture
def index_server():
    """A PEP 503 index on 127.0.0.1:<ephemeral port>; yields (state, index_url)."""
    state = IndexState()
    with serving(_make_handler(state)) as url:
        yield state, f"{url}/simple"


@pytest.fixture(autouse=True)
def hermetic_pip(monkeypatch, tmp_path):
    """pull.py runs pip with the current environment: keep that pip fast and on our index only.

    This machine configures pip globally (extra file:// indexes and find-links in
    /etc/pip.conf, PIP_FIND_LINKS and a 180 s PIP_DEFAULT_TIMEOUT in the environment).
    Empty PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS do *not* override config-file values (pip
    ignores empty environment values), but PIP_CONFIG_FILE=os.devnull makes pip (26.x) skip
    every config file, global ones included; every other PIP_* variable is dropped. pip's own
    cache is a private throw-away directory and a short socket timeout keeps a hang short.
    """
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "5")
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))
    monkeypatch.delenv("CIDERLAB_CACHE_DIR", raising=False)


def leftovers(directory: Path) -> list[str]:
    """Every entry below ``directory`` (relative paths), hidden ones included."""
    if not directory.exists():
        return []
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def test_pull_downloads_verifies_and_then_uses_the_cache(index_server, tmp_path):
    state, index_url = index_server
    archive = archive_for(WHEEL)
    cache_dir = tmp_path / "cache"

    first = pull_archive(archive, tmp_path / "out1", cache_dir=cache_dir, index_url=index_url)

    assert first == tmp_path / "out1" / FILENAME
    assert first.read_bytes() == WHEEL
    assert (cache_dir / FILENAME).read_bytes() == WHEEL
    assert state.file_request_count == 1
    assert leftovers(tmp_path / "out1") == [FILENAME]  # no .part files
    assert leftovers(cache_dir) == [FILENAME]  # no .download-* directories

    second = pull_archive(archive, tmp_path / "out2", cache_dir=cache_dir, index_url=index_url)

    assert second.read_bytes() == WHEEL
    assert state.file_request_count == 1  # served from the cache, not the index


def test_checksum_mismatch_raises_and_leaves_nothing_behind(index_server, tmp_path):
    state, index_url = index_server
    state.payload = TAMPERED_WHEEL  # valid wheel, but not the pinned bytes
    archive = archive_for(WHEEL)
    out_dir, cache_dir = tmp_path / "out", tmp_path / "cache"

    with pytest.raises(ChecksumError) as excinfo:
        pull_archive(archive, out_dir, cache_dir=cache_dir, index_url=index_url)

    message = str(excinfo.value)
    assert FILENAME in message
    assert WHEEL_SHA256 in message
    assert TAMPERED_SHA256 in message
    assert state.file_request_count == 1
    assert not (out_dir / FILENAME).exists()
    assert not (cache_dir / FILENAME).exists()
    assert leftovers(out_dir) == []
    assert leftovers(cache_dir) == []  # neither the file, nor .part files, nor temp dirs


def test_truncated_body_raises_download_error_and_leaves_nothing(index_server, tmp_path):
    # What pip 26.x does (checked empirically): urllib3 notices the short body against
    # Content-Length, pip logs "Connection interrupted while downloading" and then re-requests
    # the file up to --resume-retries times (default 5, with a `Range: bytes=N-` header). This
    # server ignores Range and truncates every answer, so pip gives up after 1 + 5 requests
    # with "Download failed ... not enough bytes were received" and exits non-zero, which
    # pull.py turns into DownloadError. The pinned-hash check (ChecksumError) is the backstop
    # should a pip ever accept a short file, so either ciderlab error is acceptable here.
    state, index_url = index_server
    state.truncate_first = -1
    archive = archive_for(WHEEL)
    out_dir, cache_dir = tmp_path / "out", tmp_path / "cache"

    with pytest.raises((DownloadError, ChecksumError)):
        pull_archive(archive, out_dir, cache_dir=cache_dir, index_url=index_url)

    assert state.file_request_count >= 1
    assert leftovers(out_dir) == []
    assert leftovers(cache_dir) == []


def test_body_truncated_once_is_recovered_by_pip_and_verified(index_server, tmp_path):
    # pip re-requests an interrupted download (with a Range header; this server answers 200
    # with the whole file, which pip accepts as a restart). The result must still be the
    # pinned, byte-identical file.
    state, index_url = index_server
    state.truncate_first = 1
    archive = archive_for(WHEEL)

    path = pull_archive(archive, tmp_path / "out", cache_dir=tmp_path / "cache",
                        index_url=index_url)

    assert path.read_bytes() == WHEEL
    assert state.file_request_count == 2
    assert state.file_requests[1]["range"] is not None  # pip asked to resume


def test_transient_503_is_retried_by_pip(index_server, tmp_path):
    # pip's session retries 500/502/503/520/527 via urllib3 (total = --retries, here 3), for
    # file downloads as well as index pages; the first retry has no back-off.
    state, index_url = index_server
    state.fail_first_with_503 = 1
    archive = archive_for(WHEEL)

    path = pull_archive(archive, tmp_path / "out", cache_dir=tmp_path / "cache",
                        index_url=index_url)

    assert path.read_bytes() == WHEEL
    assert state.file_request_count == 2  # one 503, then the file


def test_persistent_503_gives_a_clear_download_error(index_server, tmp_path):
    state, index_url = index_server
    state.fail_first_with_503 = 10**6
    archive = archive_for(WHEEL)
    out_dir, cache_dir = tmp_path / "out", tmp_path / "cache"

    with pytest.raises(DownloadError, match=r"ciderlab-testpkg==1\.0") as excinfo:
        pull_archive(archive, out_dir, cache_dir=cache_dir, index_url=index_url)

    # pip 26.x does not handle the exhausted retries gracefully: it dies with a traceback
    # ending in "RetryError ... too many 503 error responses"; pull.py keeps that tail.
    assert "503" in str(excinfo.value)

    assert state.file_request_count == 4  # the first try and the 3 retries of --retries 3
    assert leftovers(out_dir) == []
    assert leftovers(cache_dir) == []


def test_corrupted_file_in_out_dir_is_replaced(index_server, tmp_path):
    state, index_url = index_server
    archive = archive_for(WHEEL)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / FILENAME).write_bytes(b"not the archive")

    path = pull_archive(archive, out_dir, cache_dir=tmp_path / "cache", index_url=index_url)

    assert path.read_bytes() == WHEEL
    assert state.file_request_count == 1
    assert leftovers(out_dir) == [FILENAME]


def test_corrupted_cache_entry_is_downloaded_again(index_server, tmp_path):
    state, index_url = index_server
    archive = archive_for(WHEEL)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / FILENAME).write_bytes(WHEEL[:-10])

    path = pull_archive(archive, tmp_path / "out", cache_dir=cache_dir, index_url=index_url)

    assert path.read_bytes() == WHEEL
    assert (cache_dir / FILENAME).read_bytes() == WHEEL
    assert state.file_request_count == 1


def test_valid_file_in_out_dir_is_kept_without_any_request(index_server, tmp_path):
    state, index_url = index_server
    archive = archive_for(WHEEL)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / FILENAME).write_bytes(WHEEL)

    pull_archive(archive, out_dir, cache_dir=tmp_path / "cache", index_url=index_url)

    assert state.file_request_count == 0
    assert not (tmp_path / "cache").exists()


def test_verify_archive_reports_both_hashes(tmp_path):
    archive = archive_for(WHEEL)
    local = tmp_path / FILENAME
    local.write_bytes(TAMPERED_WHEEL)

    with pytest.raises(ChecksumError) as excinfo:
        verify_archive(local, archive)

    message = str(excinfo.value)
    assert str(local) in message
    assert WHEEL_SHA256 in message
    assert TAMPERED_SHA256 in message

    local.write_bytes(WHEEL)
    verify_archive(local, archive)  # the published bytes pass


def test_foreign_file_in_out_dir_is_refused_before_any_request_and_kept(index_server, tmp_path):
    from ciderlab.data.pull import pull_raw_data

    state, index_url = index_server
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("mine")

    with pytest.raises(ValueError, match="not part of the raw snapshot: notes.txt"):
        pull_raw_data(out_dir, archives=[archive_for(WHEEL)], cache_dir=tmp_path / "cache",
                      index_url=index_url)

    assert state.file_request_count == 0
    assert (out_dir / "notes.txt").read_text() == "mine"
