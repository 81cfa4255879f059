"""Download the raw archives (SPEC §3) with pip, verify their sha256 and store them unmodified."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ciderlab.io import atomic_path, sha256_of


class ChecksumError(RuntimeError):
    """A downloaded archive is not the published one."""


class DownloadError(RuntimeError):
    """pip could not download an archive (network, truncated transfer, unknown version)."""


@dataclass(frozen=True)
class RawArchive:
    """One published archive of the raw snapshot, pinned by name, size and hash."""

    requirement: str
    filename: str
    sha256: str
    size_bytes: int
    pip_args: tuple[str, ...] = field(default=())


# The hashes are the proof that data/raw is exactly what was published (SPEC §3).
SNID_SAGE_WHEEL = RawArchive(
    requirement="snid-sage==0.9.0",
    filename="snid_sage-0.9.0-py3-none-any.whl",
    sha256="ec332440d2986e38648698b93d9154f7ffb7fcf673f21d7003b2fecdfdc2fb88",
    size_bytes=77_610_066,
    pip_args=("--only-binary", ":all:"),
)
# The source distribution, not the wheel: only the sdist carries the alert Parquet files.
FINK_SCIENCE_SDIST = RawArchive(
    requirement="fink-science==7.4.0",
    filename="fink-science-7.4.0.tar.gz",
    sha256="cd4bdd43d405746ef73e5d515274f2c2d75c6c417c0949196a11fb1e704653c9",
    size_bytes=92_064_920,
    pip_args=("--no-binary", "fink-science"),
)
RAW_ARCHIVES = (SNID_SAGE_WHEEL, FINK_SCIENCE_SDIST)


def default_cache_dir() -> Path:
    """User cache for downloads: $CIDERLAB_CACHE_DIR, else $XDG_CACHE_HOME/ciderlab."""
    if os.environ.get("CIDERLAB_CACHE_DIR"):
        return Path(os.environ["CIDERLAB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ciderlab"


def verify_archive(path: Path, archive: RawArchive) -> None:
    """Raise ChecksumError naming the file and both hashes unless ``path`` is the archive."""
    actual = sha256_of(path)
    if actual != archive.sha256:
        raise ChecksumError(
            f"{path}: sha256 {actual} does not match the pinned {archive.sha256} for "
            f"{archive.requirement} (size {path.stat().st_size} bytes, expected "
            f"{archive.size_bytes}). The file was removed; run `ciderlab pull` again, and if "
            "it persists the index is serving a different file than the one published."
        )


def download_with_pip(archive: RawArchive, dest_dir: Path, index_url: str | None = None) -> Path:
    """Run ``pip download --no-deps`` for one archive into ``dest_dir`` and return the file."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--retries", "3", "--dest", str(dest_dir), *archive.pip_args]
    if index_url:
        command += ["--index-url", index_url]
    command.append(archive.requirement)
    result = subprocess.run(command, capture_output=True, text=True)
    downloaded = dest_dir / archive.filename
    if result.returncode != 0 or not downloaded.exists():
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise DownloadError(f"pip could not download {archive.requirement}:\n{tail}")
    return downloaded


def fetch_to_cache(archive: RawArchive, cache_dir: Path, index_url: str | None = None) -> Path:
    """Return a verified copy of ``archive`` in ``cache_dir``, downloading it only if needed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / archive.filename
    if cached.exists():
        try:
            verify_archive(cached, archive)
            return cached
        except ChecksumError:
            cached.unlink()  # a stale or damaged cache entry: fetch it again
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as tmp:
        downloaded = download_with_pip(archive, Path(tmp), index_url=index_url)
        try:
            verify_archive(downloaded, archive)
        except ChecksumError:
            downloaded.unlink()
            raise
        os.replace(downloaded, cached)
    return cached


def pull_archive(archive: RawArchive, out_dir: Path, cache_dir: Path | None = None,
                 index_url: str | None = None) -> Path:
    """Place a verified, unmodified copy of ``archive`` at ``out_dir/archive.filename``."""
    target = Path(out_dir) / archive.filename
    if target.exists():
        try:
            verify_archive(target, archive)
            return target
        except ChecksumError:
            target.unlink()
    cached = fetch_to_cache(archive, Path(cache_dir or default_cache_dir()), index_url=index_url)
    with atomic_path(target) as tmp:
        shutil.copyfile(cached, tmp)
        verify_archive(tmp, archive)
    return target


def pull_raw_data(out_dir: Path, archives=RAW_ARCHIVES, cache_dir: Path | None = None,
                  index_url: str | None = None) -> list[Path]:
    """Pull every raw archive into ``out_dir``; the raw snapshot of SPEC §3.

    ``out_dir`` must hold nothing else: a foreign file would silently become part of the
    snapshot that data.dvc records, so it is an error (and the file is left where it is).
    """
    out_dir = Path(out_dir)
    expected = {a.filename for a in archives}
    if out_dir.is_dir():
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in expected)
        if foreign:
            raise ValueError(f"{out_dir} holds files that are not part of the raw snapshot: "
                             f"{', '.join(foreign)}; move them aside and run again")
    return [pull_archive(a, out_dir, cache_dir, index_url) for a in archives]
