"""HTTP for the online sources (Fritz, ZTF alert archive): retries, back-off, resumable files."""

from __future__ import annotations

import email.utils
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import requests

from ciderlab.errors import CiderlabError

log = logging.getLogger(__name__)

# A network fault worth another try: the connection dropped, hung, or the body came short.
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError)


def describe(error: Exception) -> str:
    """A short, secret-free account of a transient network fault for logs and errors."""
    text = str(error)
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "body cut short (connection closed early)"
    if isinstance(error, requests.Timeout) or "timed out" in text.lower():
        return "timed out"
    return f"connection failed ({type(error).__name__})"


class OnlineError(CiderlabError):
    """A request that still failed after every retry, or that the server refused outright."""


class AuthError(CiderlabError):
    """The service refused the credentials (HTTP 401/403); retrying cannot help."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a client tries: attempts, exponential back-off and the per-read timeout.

    Attributes
    ----------
    max_attempts : int
        Requests per URL before giving up (the first one included).
    backoff_s : float
        Wait after the first failure, in seconds; doubled after each further failure.
    backoff_max_s : float
        Longest back-off wait, in seconds.
    retry_after_max_s : float
        Longest ``Retry-After`` the client honours, in seconds (a longer one is capped).
    timeout_s : float
        Seconds to connect, and seconds without a byte before a response counts as hung.
    """

    max_attempts: int = 6
    backoff_s: float = 2.0
    backoff_max_s: float = 120.0
    retry_after_max_s: float = 600.0
    timeout_s: float = 60.0

    @classmethod
    def from_params(cls, section: dict | None) -> "RetryPolicy":
        """The policy from params.yaml's ``pull`` section (missing keys keep the defaults)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (section or {}).items() if k in names})

    def backoff(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures (1, 2, ...)."""
        return min(self.backoff_s * 2 ** (failures - 1), self.backoff_max_s)


def is_retryable(status: int) -> bool:
    """429 (rate limited) and every 5xx are worth another try; other statuses are final."""
    return status == 429 or 500 <= status < 600


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delay-seconds or an HTTP-date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def wait_s(policy: RetryPolicy, failures: int, response: requests.Response | None) -> float:
    """The wait before the next try: the server's Retry-After if it gave one, else back-off."""
    asked = retry_after_s(response.headers.get("Retry-After")) if response is not None else None
    if asked is not None:
        return min(asked, policy.retry_after_max_s)
    return policy.backoff(failures)


def get_with_retries(session: requests.Session, url: str, policy: RetryPolicy, what: str,
                     parse: Callable[[requests.Response], Any] | None = None
                     ) -> tuple[requests.Response, Any]:
    """GET ``url``, retrying 429/5xx, timeouts, dropped connections and short bodies.

    Parameters
    ----------
    session : requests.Session
        Carries any credentials; they are never logged (messages name ``what`` only).
    url : str
        The full URL.
    policy : RetryPolicy
        Attempts, back-off and timeout.
    what : str
        A short, secret-free name for the request in log lines and errors.
    parse : callable, optional
        Applied to a 2xx response; a ValueError from it (e.g. JSON cut short) counts as a
        transient fault and the request is tried again.

    Returns
    -------
    (response, parsed) : tuple
        The final response (any status that is not worth retrying, e.g. 200, 401 or 404) and
        ``parse(response)`` for a 2xx response, else None.

    Raises
    ------
    OnlineError
        When every attempt failed; the message says what the last failure was.
    """
    for attempt in range(1, policy.max_attempts + 1):
        response = None
        try:
            response = session.get(url, timeout=policy.timeout_s)
            if not is_retryable(response.status_code):
                if parse is None or not response.ok:
                    return response, None
                return response, parse(response)
            fault = f"HTTP {response.status_code}"
        except TRANSIENT_ERRORS as error:
            fault = describe(error)
        except ValueError as error:
            fault = f"unreadable body ({error.__class__.__name__})"
        if attempt == policy.max_attempts:
            break
        delay = wait_s(policy, attempt, response)
        log.warning("%s: %s; try %d of %d in %.1f s", what, fault, attempt + 1,
                    policy.max_attempts, delay)
        time.sleep(delay)
    raise OnlineError(f"{what}: still failing after {policy.max_attempts} attempts (last: "
                      f"{fault}). The server may be down or overloaded; run the same command "
                      "again later (it resumes where it stopped).")


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def _total_size(response: requests.Response, start: int) -> int | None:
    """The whole file's size from Content-Range (206) or Content-Length (200), if given."""
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match and match.group(3) != "*":
            return int(match.group(3))
        return None
    length = response.headers.get("Content-Length")
    return int(length) + start if length and length.isdigit() else None


def partial_path(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` lives between runs (resumed with Range)."""
    return dest.with_name(f".{dest.name}.partial")


def download_resumable(session: requests.Session, url: str, dest: str | os.PathLike,
                       policy: RetryPolicy, what: str, progress: bool | None = None,
                       chunk_bytes: int = 1 << 16) -> Path:
    """Stream ``url`` to ``dest``, resuming with HTTP Range after a drop, a hang or a short body.

    The bytes collect in a hidden ``.partial`` file next to ``dest`` that survives an
    interrupted run, so the next run asks only for the rest (``Range: bytes=N-``); a server
    that ignores Range answers 200 and the file starts over. ``dest`` appears, by an atomic
    rename, only once the body is as long as the server said. Checksums are the caller's.

    Parameters
    ----------
    session, url, policy, what
        As for :func:`get_with_retries`.
    dest : path
        The finished file.
    progress : bool or None
        Show a byte progress bar on stderr (None: only on a terminal).
    chunk_bytes : int
        Read size.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    OnlineError
        A final HTTP error (e.g. 404), or every attempt failed.
    """
    from tqdm import tqdm

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(dest)
    fault = "no attempt"
    disable = None if progress is None else not progress  # None: tqdm shows it on a terminal
    with tqdm(unit="B", unit_scale=True, desc=dest.name, disable=disable, leave=False) as bar:
        for attempt in range(1, policy.max_attempts + 1):
            have = partial.stat().st_size if partial.exists() else 0
            headers = {"Range": f"bytes={have}-"} if have else {}
            response = None
            total = None
            try:
                with session.get(url, headers=headers, stream=True,
                                 timeout=policy.timeout_s) as response:
                    status = response.status_code
                    if status == 416:  # our partial is not a prefix of the file: start over
                        partial.unlink(missing_ok=True)
                        fault = "HTTP 416 (stale partial file)"
                        continue
                    if is_retryable(status):
                        fault = f"HTTP {status}"
                    elif status >= 400:
                        raise OnlineError(f"{what}: the server answered HTTP {status} "
                                          f"{response.reason}; check the URL {url}")
                    else:
                        start = have if status == 206 else 0
                        total = _total_size(response, start)
                        bar.reset(total=total)
                        bar.update(start)
                        with open(partial, "ab" if start else "wb") as handle:
                            for chunk in response.iter_content(chunk_bytes):
                                handle.write(chunk)
                                bar.update(len(chunk))
                        size = partial.stat().st_size
                        if total is None or size == total:
                            os.replace(partial, dest)
                            return dest
                        if size > total:  # longer than announced: not a prefix; start over
                            partial.unlink()
                        fault = f"body cut short ({size} of {total} bytes)"
            except TRANSIENT_ERRORS as error:
                fault = describe(error)
            if attempt == policy.max_attempts:
                break
            delay = wait_s(policy, attempt, response if fault.startswith("HTTP") else None)
            log.warning("%s: %s; try %d of %d in %.1f s (resuming at byte %d)", what, fault,
                        attempt + 1, policy.max_attempts, delay,
                        partial.stat().st_size if partial.exists() else 0)
            time.sleep(delay)
    raise OnlineError(f"{what}: still incomplete after {policy.max_attempts} attempts (last: "
                      f"{fault}). Run the same command again: it resumes from the "
                      f"{partial.stat().st_size if partial.exists() else 0} bytes kept in "
                      f"{partial}.")
