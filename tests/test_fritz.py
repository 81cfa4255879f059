"""ciderlab pull fritz against a loopback SkyPortal that speaks its JSON API and injects faults.

Nothing in ciderlab is mocked: the client talks HTTP to a ThreadingHTTPServer on 127.0.0.1
that checks the token header, answers SkyPortal's {"status", "data", "message"} envelope,
and on request answers 429 with Retry-After, 5xx, hangs, cuts a body short or stops serving
(so that a real run can be killed mid-way and resumed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from loopback import QuietHandler, serving

from recipes import params_file
from ciderlab.cli import build_parser, main
from ciderlab.data.fritz import ENDPOINTS, pull_fritz, read_object_ids
from ciderlab.data.online import AuthError, OnlineError, RetryPolicy
from ciderlab.errors import InputError

TOKEN = "c0ffee00-fritz-test-token-5ecret"
# Tiny waits so the whole file runs in seconds; the timeout still exceeds a loopback answer.
FAST = RetryPolicy(max_attempts=4, backoff_s=0.01, backoff_max_s=0.05, retry_after_max_s=5,
                   timeout_s=0.5)
SRC = Path(__file__).resolve().parents[1] / "src"


def source_payloads(obj_id: str, redshift: float) -> dict:
    """What SkyPortal's four endpoints return (the ``data`` member) for one object."""
    spectra = [{"id": i, "obj_id": obj_id, "instrument_name": "SEDM", "observed_at":
                f"2021-0{i + 1}-01T00:00:00", "wavelengths": [3800.0 + 10 * k for k in range(5)],
                "fluxes": [1.0 + i, 2.0, 3.0, 2.5, 1.5]} for i in range(3)]
    return {
        "source": {"id": obj_id, "ra": 10.0, "dec": 20.0, "redshift": redshift},
        "spectra": {"obj_id": obj_id, "spectra": spectra},
        "classifications": [{"classification": "Ia", "probability": 1.0, "ml": False,
                             "created_at": "2021-02-01T00:00:00"}],
        "photometry": [{"mjd": 59000.0 + k, "mag": 18.0 + 0.1 * k, "magerr": 0.05,
                        "filter": "ztfg"} for k in range(4)],
    }


def path_of(obj_id: str, endpoint: str) -> str:
    return ENDPOINTS[endpoint].format(obj_id=obj_id)


@dataclass
class FritzState:
    """The loopback server's catalogue, its injected faults and the requests it saw."""

    sources: dict
    # path -> list of faults for the next requests of that path, used up in order:
    # "429" (Retry-After: 1), "500", "503", "hang", "truncate"
    faults: dict = field(default_factory=dict)
    always_503: set = field(default_factory=set)
    reject_token: bool = False
    # Serve this many requests, then stall every further one until `release` is set.
    stall_after: int | None = None
    release: threading.Event = field(default_factory=threading.Event)
    requests: list = field(default_factory=list)  # (path, monotonic time, authorization ok)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _, _ in self.requests]


def _handler(state: FritzState):
    class SkyPortalHandler(QuietHandler):
        protocol_version = "HTTP/1.0"

        def _json(self, status: int, body: dict, headers=()) -> None:
            self.send_body(status, json.dumps(body).encode(), "application/json", headers)

        def do_GET(self):  # noqa: N802 (http.server API)
            path = self.path.split("?", 1)[0]
            authorised = self.headers.get("Authorization") == f"token {TOKEN}"
            with state.lock:
                number = len(state.requests)
                state.requests.append((path, time.monotonic(), authorised))
                queue = state.faults.get(path) or []
                fault = queue.pop(0) if queue else None
            if state.stall_after is not None and number >= state.stall_after:
                state.release.wait(30)
                return
            if not authorised or state.reject_token:
                return self._json(401, {"status": "error", "message": "Unauthorized"})
            if fault == "429":
                return self._json(429, {"status": "error", "message": "rate limited"},
                                  headers=[("Retry-After", "1")])
            if fault in ("500", "503") or path in state.always_503:
                code = int(fault or 503)
                return self._json(code, {"status": "error", "message": "server trouble"})
            if fault == "hang":
                state.release.wait(10)  # far longer than the client's read timeout
                return
            for obj_id, payloads in state.sources.items():
                for endpoint, data in payloads.items():
                    if path == path_of(obj_id, endpoint):
                        body = json.dumps({"status": "success", "data": data,
                                           "message": ""}).encode()
                        if fault == "truncate":
                            self.send_response(200)
                            self.send_header("Content-Type", "application/json")
                            self.send_header("Content-Length", str(len(body)))
                            self.end_headers()
                            self.wfile.write(body[: len(body) // 2])
                            return
                        return self._json(200, json.loads(body))
            obj_id = path.split("/")[3] if path.startswith("/api/sources/") else path
            return self._json(404, {"status": "error", "message": f"Source {obj_id} not found"})

    return SkyPortalHandler


@pytest.fixture
def fritz():
    """A running loopback SkyPortal with two known objects; yields (url, state)."""
    state = FritzState(sources={"ZTF21aaaaaaa": source_payloads("ZTF21aaaaaaa", 0.031),
                                "ZTF20abcdefg": source_payloads("ZTF20abcdefg", 0.102)})
    with serving(_handler(state)) as url:
        yield url, state
        state.release.set()  # let a hanging answer end before the server stops


OBJECTS = ["ZTF21aaaaaaa", "ZTF20abcdefg"]


def assert_token_nowhere(out_dir: Path, *texts: str) -> None:
    for text in texts:
        assert TOKEN not in text
    for path in out_dir.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def assert_manifest_matches_files(out_dir: Path, objects: list[str]) -> dict:
    manifest = json.loads((out_dir / "manifest.json").read_text())["objects"]
    for obj_id in objects:
        for endpoint in ENDPOINTS:
            entry = manifest[obj_id][endpoint]
            data = (out_dir / obj_id / f"{endpoint}.json").read_bytes()
            assert entry["status"] == "ok"
            assert entry["file"] == f"{obj_id}/{endpoint}.json"
            assert entry["bytes"] == len(data)
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    return manifest


def test_pulls_every_endpoint_of_every_object_with_the_token_header(fritz, tmp_path, caplog,
                                                                    capsys):
    url, state = fritz
    caplog.set_level(logging.DEBUG)
    result = pull_fritz(OBJECTS, tmp_path, TOKEN, base_url=url, policy=FAST)
    assert result.counts == {"ok": 8, "skipped": 0, "not_found": 0, "error": 0}
    assert all(ok for _, _, ok in state.requests)
    source = json.loads((tmp_path / "ZTF20abcdefg" / "source.json").read_text())
    assert source["redshift"] == 0.102
    spectra = json.loads((tmp_path / "ZTF21aaaaaaa" / "spectra.json").read_text())
    assert len(spectra["spectra"]) == 3  # every spectrum of the object is kept
    assert spectra == state.sources["ZTF21aaaaaaa"]["spectra"]
    assert_manifest_matches_files(tmp_path, OBJECTS)
    assert_token_nowhere(tmp_path, caplog.text, *capsys.readouterr())


def test_a_429_waits_for_retry_after_and_then_succeeds(fritz, tmp_path, caplog):
    url, state = fritz
    spectra = path_of("ZTF21aaaaaaa", "spectra")
    state.faults[spectra] = ["429"]
    pull_fritz(OBJECTS[:1], tmp_path, TOKEN, base_url=url, policy=FAST)
    times = [t for p, t, _ in state.requests if p == spectra]
    assert len(times) == 2
    # Back-off alone would wait 0.01 s: only the server's Retry-After: 1 explains the gap.
    assert times[1] - times[0] >= 0.95
    assert json.loads((tmp_path / "ZTF21aaaaaaa" / "spectra.json").read_text())["spectra"]
    assert "HTTP 429" in caplog.text and TOKEN not in caplog.text


def test_server_errors_are_retried_until_the_answer_comes(fritz, tmp_path, caplog):
    url, state = fritz
    photometry = path_of("ZTF20abcdefg", "photometry")
    state.faults[photometry] = ["500", "503"]
    result = pull_fritz(OBJECTS, tmp_path, TOKEN, base_url=url, policy=FAST)
    assert state.paths().count(photometry) == 3
    assert result.counts["ok"] == 8
    assert "HTTP 500" in caplog.text and "HTTP 503" in caplog.text
    assert_manifest_matches_files(tmp_path, OBJECTS)


def test_a_hanging_response_times_out_and_is_retried(fritz, tmp_path):
    url, state = fritz
    classifications = path_of("ZTF21aaaaaaa", "classifications")
    state.faults[classifications] = ["hang"]
    started = time.monotonic()
    pull_fritz(OBJECTS[:1], tmp_path, TOKEN, base_url=url, policy=FAST)
    assert time.monotonic() - started < 5  # gave up on the 10 s hang after the 0.5 s timeout
    assert state.paths().count(classifications) == 2
    assert_manifest_matches_files(tmp_path, OBJECTS[:1])


def test_a_body_cut_short_is_fetched_again_never_saved_half(fritz, tmp_path):
    url, state = fritz
    spectra = path_of("ZTF20abcdefg", "spectra")
    state.faults[spectra] = ["truncate"]
    pull_fritz(OBJECTS, tmp_path, TOKEN, base_url=url, policy=FAST)
    assert state.paths().count(spectra) == 2
    saved = json.loads((tmp_path / "ZTF20abcdefg" / "spectra.json").read_text())
    assert saved == state.sources["ZTF20abcdefg"]["spectra"]


def test_a_server_that_keeps_failing_stops_the_run_with_what_was_pulled_recorded(fritz,
                                                                                 tmp_path):
    url, state = fritz
    photometry = path_of("ZTF20abcdefg", "photometry")
    state.always_503.add(photometry)
    with pytest.raises(OnlineError, match="after 4 attempts.*HTTP 503.*again later"):
        pull_fritz(OBJECTS, tmp_path, TOKEN, base_url=url, policy=FAST)
    assert state.paths().count(photometry) == FAST.max_attempts
    assert not (tmp_path / "ZTF20abcdefg" / "photometry.json").exists()
    manifest = json.loads((tmp_path / "manifest.json").read_text())["objects"]
    assert set(manifest["ZTF21aaaaaaa"]) == set(ENDPOINTS)  # saved on the way out
    assert "photometry" not in manifest["ZTF20abcdefg"]
    assert not list(tmp_path.rglob("*.part"))


def test_an_unknown_object_is_recorded_and_the_others_continue(fritz, tmp_path):
    url, state = fritz
    objects = ["ZTF21aaaaaaa", "ZTF19nothere", "ZTF20abcdefg"]
    result = pull_fritz(objects, tmp_path, TOKEN, base_url=url, policy=FAST)
    assert result.counts == {"ok": 8, "skipped": 0, "not_found": 1, "error": 0}
    # One question about the unknown object, not four.
    assert [p for p in state.paths() if "ZTF19nothere" in p] == [path_of("ZTF19nothere",
                                                                          "source")]
    manifest = assert_manifest_matches_files(tmp_path, ["ZTF21aaaaaaa", "ZTF20abcdefg"])
    entry = manifest["ZTF19nothere"]["source"]
    assert entry["status"] == "not_found" and entry["http_status"] == 404
    assert "not found" in entry["message"]
    assert not (tmp_path / "ZTF19nothere").exists()


def test_a_rejected_token_is_a_clear_error_that_never_shows_the_token(fritz, tmp_path,
                                                                      monkeypatch, capsys,
                                                                      caplog):
    url, state = fritz
    state.reject_token = True
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("FRITZ_TOKEN", TOKEN)
    params = params_file(tmp_path, pull={"max_attempts": 2, "backoff_s": 0.01, "timeout_s": 0.5})
    out = tmp_path / "fritz"
    code = main(["pull", "fritz", "--objects", "ZTF21aaaaaaa", "--out", str(out), "--url", url,
                 "--params", str(params)])
    stdout, stderr = capsys.readouterr()
    assert code == 1
    assert "FRITZ_TOKEN" in stderr and "HTTP 401" in stderr and "Unauthorized" in stderr
    assert len(state.requests) == 1  # a bad token is not retried
    assert_token_nowhere(out, stdout, stderr, caplog.text)
    with pytest.raises(AuthError):
        pull_fritz(OBJECTS, tmp_path / "again", TOKEN, base_url=url, policy=FAST)


def test_a_missing_token_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("FRITZ_TOKEN", raising=False)
    code = main(["pull", "fritz", "--objects", "ZTF21aaaaaaa", "--out", str(tmp_path),
                 "--url", "http://127.0.0.1:9"])
    assert code == 1
    assert "set the environment variable FRITZ_TOKEN" in capsys.readouterr().err


def test_cli_pull_fritz_prints_one_line_and_keeps_pull_raw_the_default(fritz, tmp_path,
                                                                      monkeypatch, capsys):
    url, _ = fritz
    monkeypatch.setenv("FRITZ_TOKEN", TOKEN)
    ids = tmp_path / "objects.csv"
    ids.write_text("obj_id,comment\nZTF21aaaaaaa,a Ia\n# skipped\n\nZTF20abcdefg\n")
    params = params_file(tmp_path, pull={"backoff_s": 0.01, "timeout_s": 0.5})
    out = tmp_path / "fritz"
    assert main(["pull", "fritz", "--objects", str(ids), "--out", str(out), "--url", url,
                 "--params", str(params)]) == 0
    stdout = capsys.readouterr().out
    assert stdout.count("\n") == 1 and "2 objects: 8 files fetched" in stdout
    assert_manifest_matches_files(out, OBJECTS)
    assert build_parser().parse_args(["pull", "--out", "data/raw"]).source == "raw"


def test_object_ids_from_a_file_or_a_list_and_a_bad_id_is_named(tmp_path):
    listing = tmp_path / "ids.txt"
    listing.write_text("ZTF21aaaaaaa\nZTF20abcdefg  # a TDE\nZTF21aaaaaaa\n")
    assert read_object_ids(str(listing)) == ["ZTF21aaaaaaa", "ZTF20abcdefg"]
    assert read_object_ids("ZTF21aaaaaaa, ZTF20abcdefg") == ["ZTF21aaaaaaa", "ZTF20abcdefg"]
    with pytest.raises(InputError, match=r"'\.\./etc' is not a Fritz object id"):
        read_object_ids("ZTF21aaaaaaa,../etc")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(InputError, match="empty.txt: no object ids"):
        read_object_ids(str(empty))


def test_a_killed_run_resumes_without_fetching_completed_files_again(fritz, tmp_path):
    url, state = fritz
    objects = ["ZTF21aaaaaaa", "ZTF19nothere", "ZTF20abcdefg"]
    params = params_file(tmp_path, pull={"backoff_s": 0.01, "timeout_s": 30})
    out = tmp_path / "fritz"
    state.stall_after = 6  # 4 files of the first object, the unknown one, 1 of the third
    env = {**os.environ, "FRITZ_TOKEN": TOKEN,
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.Popen(
        [sys.executable, "-m", "ciderlab.cli", "pull", "fritz", "--objects", ",".join(objects),
         "--out", str(out), "--url", url, "--params", str(params)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(state.requests) < 7 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert len(state.requests) == 7, run.communicate()  # stalled on the 7th request
    run.send_signal(signal.SIGKILL)  # no clean-up code runs: the hardest interruption
    stdout, stderr = run.communicate()
    assert_token_nowhere(out, stdout.decode(), stderr.decode())
    first = state.paths()
    done = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert done == ["ZTF20abcdefg/source.json"] + [f"ZTF21aaaaaaa/{e}.json"
                                                   for e in sorted(ENDPOINTS)]
    assert not list(out.rglob("*.part"))  # nothing half-written

    state.stall_after = None
    state.release.set()
    result = pull_fritz(objects, out, TOKEN, base_url=url, policy=FAST)
    again = state.paths()[len(first):]
    assert result.counts == {"ok": 3, "skipped": 5, "not_found": 1, "error": 0}
    assert sorted(again) == sorted([path_of("ZTF19nothere", "source")] +
                                   [path_of("ZTF20abcdefg", e) for e in ENDPOINTS
                                    if e != "source"])
    manifest = assert_manifest_matches_files(out, ["ZTF21aaaaaaa", "ZTF20abcdefg"])
    assert manifest["ZTF19nothere"]["source"]["status"] == "not_found"


# --- ciderlab pull fritz --catalogue --------------------------------------------------------------
REAL = Path(__file__).resolve().parents[1] / "real_spectra"


def real_spectrum_records(obj_id: str, files: list[str], first_id: int) -> list[dict]:
    """SkyPortal spectrum records whose arrays are those of real files (read by our reader)."""
    from ciderlab.spectra.readers import read_spectrum

    records = []
    for number, name in enumerate(files):
        spectrum = read_spectrum(REAL / name)
        records.append({"id": first_id + number, "obj_id": obj_id, "instrument_name": "SEDM",
                        "observed_at": f"20{name.split('_')[1][2:4]}-01-01T00:00:00",
                        "wavelengths": spectrum.wave_aa.tolist(),
                        "fluxes": spectrum.flux.tolist(),
                        "errors": None if spectrum.flux_err is None
                        else spectrum.flux_err.tolist(), "origin": name})
    return records


def human(classification, probability, created_at, ml=False):
    return {"classification": classification, "probability": probability, "ml": ml,
            "taxonomy_id": 1, "author_name": "scanner", "created_at": created_at}


CATALOGUE_SOURCES = {
    # human IIP and II tie on probability: the more recent wins; ML and p = 0 never count
    "ZTF18abokyfk": (0.017189, ["ZTF18abokyfk_20180925_P60_v1.ascii"],
                     [human("Ia", 0.95, "2018-09-30T00:00:00", ml=True),
                      human("II", 1.0, "2018-09-26T00:00:00"),
                      human("IIP", 1.0, "2018-10-20T00:00:00"),
                      human("Ic", 0.0, "2018-11-01T00:00:00")]),
    # no probability counts as 1 and beats a newer 0.6; two spectra, no redshift on Fritz
    "ZTF20aalxlis": (None, ["ZTF20aalxlis_20200207_P60_v1.ascii",
                            "ZTF20aalxlis_20200215_P60_v1.ascii"],
                     [human("Ic-BL", None, "2020-02-08T00:00:00"),
                      human("Ib", 0.6, "2020-02-20T00:00:00")]),
    "ZTF18aavskep": (0.046, ["ZTF18aavskep_20180602_P60_v1.ascii"],
                     [human("IIn", 0.9, "2018-06-03T00:00:00", ml=True)]),  # ML only
    "ZTF18abltfho": (0.055, [], [human("IIn", 1.0, "2018-08-20T00:00:00")]),  # no spectra
}


@pytest.fixture
def fritz_with_real_spectra():
    sources = {}
    for number, (obj_id, (redshift, files, classifications)) in enumerate(
            CATALOGUE_SOURCES.items()):
        spectra = real_spectrum_records(obj_id, files, first_id=100 * (number + 1))
        sources[obj_id] = {"source": {"id": obj_id, "ra": 10.0, "dec": 20.0,
                                      "redshift": redshift},
                           "spectra": {"obj_id": obj_id, "spectra": spectra},
                           "classifications": classifications, "photometry": []}
    state = FritzState(sources=sources)
    with serving(_handler(state)) as url:
        yield url, state
        state.release.set()


def test_pull_fritz_catalogue_writes_readable_spectra_and_a_catalogue(fritz_with_real_spectra,
                                                                      tmp_path, monkeypatch,
                                                                      capsys):
    from ciderlab.data.spectra_catalogue import read_spectra_catalogue
    from ciderlab.spectra.readers import read_spectrum

    url, state = fritz_with_real_spectra
    monkeypatch.setenv("FRITZ_TOKEN", TOKEN)
    params = params_file(tmp_path, pull={"backoff_s": 0.01, "timeout_s": 2})
    out = tmp_path / "fritz"
    assert main(["pull", "fritz", "--catalogue", "--objects", ",".join(CATALOGUE_SOURCES),
                 "--out", str(out), "--url", url, "--params", str(params)]) == 0
    stdout = capsys.readouterr().out
    assert (f"catalogue of 3 spectra of 2 objects -> {out / 'catalogue.csv'}; 2 object(s) "
            "skipped") in stdout
    assert "skipped ZTF18aavskep: no human classification" in stdout
    assert "skipped ZTF18abltfho: no spectra" in stdout

    table = read_spectra_catalogue(out / "catalogue.csv")
    assert list(table["file"]) == ["ZTF18abokyfk/spectrum_100.json",
                                   "ZTF20aalxlis/spectrum_200.json",
                                   "ZTF20aalxlis/spectrum_201.json"]
    assert list(table["class"]) == ["IIP", "Ic-BL", "Ic-BL"]
    assert list(table["label"]) == ["SN IIP", "SN Ic", "SN Ic"]
    assert table["redshift"][0] == 0.017189 and table["redshift"][1:].isna().all()
    assert table["phase"].isna().all() and set(table["instrument"]) == {"SEDM"}
    # every written file reads back with the spectrum readers, the arrays exactly as served
    for record in table.to_dict("records"):
        served = next(s for s in state.sources[record["object"]]["spectra"]["spectra"]
                      if f"spectrum_{s['id']}.json" in record["file"])
        spectrum = read_spectrum(record["path"])
        assert spectrum.wave_aa.tolist() == served["wavelengths"]
        assert spectrum.flux.tolist() == served["fluxes"]
        original = read_spectrum(REAL / served["origin"])
        assert np.array_equal(spectrum.flux, original.flux)
        assert spectrum.meta["header"]["obj_id"] == record["object"]
    assert not list(out.rglob("*.part"))


def test_a_pull_with_nothing_to_catalogue_says_why_for_each_object(fritz, tmp_path):
    from ciderlab.data.fritz_catalogue import write_fritz_catalogue

    url, state = fritz
    for payloads in state.sources.values():
        payloads["classifications"] = [human("Ia", 0.99, "2021-01-01T00:00:00", ml=True)]
    pull_fritz(OBJECTS, tmp_path, TOKEN, base_url=url, policy=FAST)
    with pytest.raises(InputError, match="none of the 2 objects has both a human classification "
                                         "and a spectrum.*ZTF21aaaaaaa: no human classification"):
        write_fritz_catalogue(tmp_path)
    assert not (tmp_path / "catalogue.csv").exists()
    with pytest.raises(InputError, match="not a Fritz pull"):
        write_fritz_catalogue(tmp_path / "elsewhere")


def test_the_catalogue_flag_belongs_to_pull_fritz_only(tmp_path, capsys):
    assert main(["pull", "ztf-alerts", "--catalogue", "--night", "20240101",
                 "--out", str(tmp_path)]) == 1
    assert "--catalogue does not apply to `ciderlab pull ztf-alerts`" in capsys.readouterr().err
