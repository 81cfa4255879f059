"""Pull sources from Fritz/SkyPortal (SPEC §3.3): a JSON file per object and endpoint, resumable."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

from ciderlab.data.online import AuthError, RetryPolicy, get_with_retries
from ciderlab.errors import InputError
from ciderlab.io import atomic_path, load_json, save_json

log = logging.getLogger(__name__)

DEFAULT_URL = "https://fritz.science"
TOKEN_VARIABLE = "FRITZ_TOKEN"
# SkyPortal's API: every answer is {"status": "success" | "error", "data": ..., "message": ...}.
# The source record carries the redshift; the others are lists (spectra under data.spectra).
ENDPOINTS = {
    "source": "/api/sources/{obj_id}",
    "spectra": "/api/sources/{obj_id}/spectra",
    "classifications": "/api/sources/{obj_id}/classifications",
    "photometry": "/api/sources/{obj_id}/photometry",
}
MANIFEST = "manifest.json"
# An object id becomes a folder name: letters, digits and a little punctuation, no slashes.
_OBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


def read_object_ids(objects: str) -> list[str]:
    """Object ids from a file (one per line, or a CSV whose first column is the id) or a list.

    Parameters
    ----------
    objects : str
        A path to a text/CSV file, or ids separated by commas (``ZTF21aaaaaaa,ZTF20abcdefg``).
        In a file, blank lines, ``#`` comments and a header ``obj_id``/``objectId`` are skipped.

    Returns
    -------
    list of str
        Unique ids in their first-seen order.
    """
    path = Path(objects)
    if path.is_file():
        lines = path.read_text().splitlines()
        source = str(path)
    else:
        lines = objects.split(",")
        source = "--objects"
    ids = []
    for line in lines:
        value = line.split("#", 1)[0].split(",", 1)[0].strip().strip('"')
        if not value or value.lower() in ("obj_id", "objectid", "id"):
            continue
        if not _OBJECT_ID.fullmatch(value):
            raise InputError(f"{source}: {value!r} is not a Fritz object id (expected e.g. "
                             "ZTF21aaaaaaa); give a file with one id per line or ids separated "
                             "by commas")
        ids.append(value)
    if not ids:
        raise InputError(f"{source}: no object ids found; give a file with one id per line "
                         "or ids separated by commas")
    return list(dict.fromkeys(ids))


@dataclass
class FritzPull:
    """What one run did: per object and endpoint the manifest entry, plus counts."""

    n_objects: int
    manifest: dict
    counts: dict = field(default_factory=dict)


def _redact(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


def _parse_envelope(response: requests.Response) -> object:
    """The ``data`` of a SkyPortal success envelope; ValueError (retried) for anything else."""
    body = response.json()
    if not isinstance(body, dict) or body.get("status") != "success" or "data" not in body:
        raise ValueError("not a SkyPortal success envelope")
    return body["data"]


def _server_message(response: requests.Response, token: str) -> str:
    try:
        message = response.json().get("message") or ""
    except ValueError:
        message = response.text[:200]
    return _redact(str(message).strip(), token)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _file_entry(path: Path, out_dir: Path) -> dict:
    data = path.read_bytes()
    return {"status": "ok", "file": path.relative_to(out_dir).as_posix(), "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def load_manifest(out_dir: Path) -> dict:
    """The manifest a previous run left in ``out_dir`` (empty if none)."""
    path = Path(out_dir) / MANIFEST
    return load_json(path).get("objects", {}) if path.exists() else {}


def save_manifest(entries: dict, out_dir: Path, base_url: str) -> None:
    save_json({"base_url": base_url, "endpoints": list(ENDPOINTS), "updated": _now(),
               "objects": entries}, Path(out_dir) / MANIFEST)


def pull_fritz(object_ids: list[str], out_dir: str | Path, token: str,
               base_url: str = DEFAULT_URL, policy: RetryPolicy = RetryPolicy(),
               manifest_every: int = 25, progress: bool | None = None) -> FritzPull:
    """Download every endpoint of every object into ``out_dir/<obj_id>/<endpoint>.json``.

    Each file holds the ``data`` of SkyPortal's answer and is written atomically, so a file
    that exists is complete: a rerun skips it and fetches only what is missing. An unknown
    object (HTTP 404 or 400 on the source) is recorded and the others continue.
    ``out_dir/manifest.json`` records per object and endpoint the status, file, bytes,
    sha256 and time; it is saved every ``manifest_every`` objects and at the end (also after
    an interruption), and rebuilt from the files for anything a killed run did not record.

    Parameters
    ----------
    object_ids : list of str
        Fritz object ids (e.g. ``ZTF21aaaaaaa``).
    out_dir : path
        Output folder.
    token : str
        A Fritz API token, sent as ``Authorization: token <token>``; never logged or written.
    base_url : str
        The SkyPortal instance.
    policy : RetryPolicy
        Retries, back-off and timeout.
    manifest_every : int
        Objects between manifest saves.
    progress : bool or None
        Show a progress bar over objects on stderr (None: only on a terminal).

    Returns
    -------
    FritzPull
        The manifest entries and counts per status (``ok``, ``skipped``, ``not_found``, ``error``).

    Raises
    ------
    AuthError
        The server refused the token (HTTP 401/403); nothing more can be fetched.
    OnlineError
        A request still failed after every retry (rerunning resumes).
    """
    from tqdm import tqdm

    if not token:
        raise InputError(f"no Fritz token: set the environment variable {TOKEN_VARIABLE} to an "
                         "API token from your Fritz profile page")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base_url = base_url.rstrip("/")
    entries = load_manifest(out_dir)
    counts = {"ok": 0, "skipped": 0, "not_found": 0, "error": 0}
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    session.headers["Accept"] = "application/json"
    disable = None if progress is None else not progress
    try:
        for done, obj_id in enumerate(tqdm(object_ids, desc="fritz", unit="object",
                                           disable=disable), start=1):
            object_entries = entries.setdefault(obj_id, {})
            for endpoint, template in ENDPOINTS.items():
                status = _pull_endpoint(session, base_url, obj_id, endpoint, template, out_dir,
                                        object_entries, policy, token)
                counts[status] += 1
                if status == "not_found":
                    break  # no source, no spectra: the other endpoints would 404 too
            if done % manifest_every == 0:
                save_manifest(entries, out_dir, base_url)
    finally:
        save_manifest(entries, out_dir, base_url)
        session.close()
    return FritzPull(len(object_ids), entries, counts)


def _pull_endpoint(session, base_url, obj_id, endpoint, template, out_dir, object_entries,
                   policy, token) -> str:
    """Fetch one object's endpoint unless its file exists; record it; return the status."""
    path = out_dir / obj_id / f"{endpoint}.json"
    previous = object_entries.get(endpoint) or {}
    if path.exists():
        if previous.get("status") != "ok" or previous.get("bytes") != path.stat().st_size:
            # Written by a run killed before it saved the manifest: complete (atomic write).
            object_entries[endpoint] = {**_file_entry(path, out_dir), "time": _now()}
        return "skipped"
    what = f"fritz {endpoint} of {obj_id}"
    response, data = get_with_retries(session, base_url + template.format(obj_id=obj_id),
                                      policy, what, parse=_parse_envelope)
    code = response.status_code
    if code in (401, 403):
        raise AuthError(f"{base_url} refused the token in ${TOKEN_VARIABLE} (HTTP {code}: "
                        f"{_server_message(response, token) or response.reason}) while "
                        f"fetching {endpoint} of {obj_id}. Check that the variable holds a "
                        "current API token with access to this source; the files pulled so "
                        "far are kept and a rerun resumes.")
    if code == 404 or (code == 400 and endpoint == "source"):
        message = _server_message(response, token)
        log.warning("%s: unknown object (HTTP %d: %s); continuing", what, code, message)
        object_entries[endpoint] = {"status": "not_found", "http_status": code,
                                    "message": message, "time": _now()}
        return "not_found"
    if not response.ok:
        message = _server_message(response, token)
        log.warning("%s: HTTP %d %s; recorded, continuing", what, code, message)
        object_entries[endpoint] = {"status": "error", "http_status": code,
                                    "message": message, "time": _now()}
        return "error"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n")
    object_entries[endpoint] = {**_file_entry(path, out_dir), "http_status": code,
                                "time": _now()}
    return "ok"


def summarise(pull: FritzPull) -> str:
    """One line for the CLI: counts per status."""
    c = pull.counts
    return (f"{pull.n_objects} objects: {c['ok']} files fetched, {c['skipped']} already "
            f"complete, {c['not_found']} unknown objects, {c['error']} errors")

