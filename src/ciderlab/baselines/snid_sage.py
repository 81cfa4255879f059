"""The template-matching baseline: SNID-SAGE 0.9.0 run on realised test spectra (SPEC §7b).

SNID-SAGE is installed from the pinned wheel, without its GUI dependencies, into a private
directory and run in a child process, so its imports, logging and matplotlib state never touch
ours. Each spectrum gets its own ``sage identify`` call (the CLI's own parser and ``main``):
``sage batch`` cannot exclude templates (it has no ``--exclude-templates`` and passes no template
filter to the matcher), and a test spectrum must never be matched to its own object.
All ``identify`` calls of a run share one warm worker process, so its start-up (Python, the
SNID-SAGE import) is paid and timed once, apart from the per-spectrum times. SNID-SAGE reads
its whole template bank from HDF5 on every ``identify`` call (about 6 s of a 15-20 s call on
one core); the worker keeps each template it has read and hands every later call a copy, so
the bank is read once per worker (``cache_templates``; the answers are the same, tested).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ciderlab.baselines.snid_output import parse_snid_output
from ciderlab.data.labels import normalise_object_id
from ciderlab.data.pull import SNID_SAGE_WHEEL, verify_archive

_DIST_INFO = "snid_sage-0.9.0.dist-info"
_BANK_INDEX = Path("snid_sage/templates/template_index.json")
RESULT_COLUMNS = ("path", "status", "type", "subtype", "redshift", "redshift_best", "rlap",
                  "rlap_metric", "best_template", "seconds", "error")


# --- installing ---------------------------------------------------------------------------------

def _is_installed(target: Path) -> bool:
    return (target / _DIST_INFO).is_dir() and (target / _BANK_INDEX).is_file()


def install_snid_sage(wheel_path: str | os.PathLike, target_dir: str | os.PathLike) -> Path:
    """Install the pinned SNID-SAGE wheel, without dependencies, into ``target_dir``.

    Idempotent: a complete install is left alone. The wheel's sha256 is checked first, and pip
    installs into a temporary sibling that is renamed into place, so an interrupted install
    never looks complete. Run it with ``PYTHONPATH=target_dir``; it needs only numpy, scipy,
    h5py, pandas, matplotlib, astropy, scikit-learn, requests and packaging.

    Returns
    -------
    Path
        ``target_dir``, ready to put on ``PYTHONPATH``.
    """
    target = Path(target_dir)
    if _is_installed(target):
        return target
    if target.exists():
        raise FileExistsError(f"{target}: exists but holds no complete SNID-SAGE 0.9.0 install; "
                              "delete it and run again")
    wheel = Path(wheel_path)
    if not wheel.exists():
        raise FileNotFoundError(f"{wheel}: not found; run `ciderlab pull` first")
    verify_archive(wheel, SNID_SAGE_WHEEL)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as tmp:
        staging = Path(tmp) / "site"
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                   "--disable-pip-version-check", "--no-warn-script-location",
                   "--target", str(staging), str(wheel)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not _is_installed(staging):
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
            raise RuntimeError(f"pip could not install {wheel} into {target}:\n{tail}")
        os.replace(staging, target)
    return target


def installed_template_names(install_dir: str | os.PathLike) -> set[str]:
    """Names of every template (object) in the installed bank, e.g. ``{"sn2005cf", ...}``."""
    index_path = Path(install_dir) / _BANK_INDEX
    if not index_path.is_file():
        raise FileNotFoundError(f"{index_path}: missing; run install_snid_sage() first")
    return set(json.loads(index_path.read_text())["templates"])


def templates_of_objects(object_ids: Sequence[str], template_names: Sequence[str]
                         ) -> list[list[str]]:
    """For each object id, the template names that belong to it (same normalised object id).

    ``sn2011fe`` and ``SN2011fe_bsnip`` are one object, so both are excluded for it.
    """
    by_object: dict[str, list[str]] = {}
    for name in sorted(template_names):
        by_object.setdefault(normalise_object_id(name), []).append(name)
    return [by_object.get(object_id, []) for object_id in object_ids]


# --- running ------------------------------------------------------------------------------------

def _identify_argv(path: Path, exclude: Sequence[str], zmin: float, zmax: float,
                   out_dir: Path, forced_redshift: float | None = None) -> list[str]:
    argv = ["identify", str(path), "--zmin", repr(float(zmin)), "--zmax", repr(float(zmax)),
            "--minimal", "--no-plots", "--output-dir", str(out_dir)]
    if forced_redshift is not None:
        argv += ["--forced-redshift", repr(float(forced_redshift))]
    return argv + (["--exclude-templates", *exclude] if exclude else [])


def cache_template_reads() -> None:
    """Make SNID-SAGE read each bank template from HDF5 once per process, not once per call.

    Wraps ``TemplateFFTStorage._load_templates_from_single_file`` (SNID-SAGE 0.9.0): the first
    read of a template keeps it; every call gets deep copies of the templates it asks for, in
    the order it asks, so nothing a call does to its templates reaches the next call.
    """
    import copy

    from snid_sage.snid.template_fft_storage import TemplateFFTStorage

    read = TemplateFFTStorage._load_templates_from_single_file
    kept: dict[tuple[str, str], object] = {}

    def cached(self, storage_file_path, template_names, progress_hook=None):
        missing = [n for n in template_names if (storage_file_path, n) not in kept]
        if missing:
            for template in read(self, storage_file_path, missing):
                kept[(storage_file_path, template.name)] = template
        out = []
        for name in template_names:
            if (storage_file_path, name) in kept:
                out.append(copy.deepcopy(kept[(storage_file_path, name)]))
                if progress_hook is not None:
                    progress_hook(1)
        return out

    TemplateFFTStorage._load_templates_from_single_file = cached


def identify_worker(jobs_path: str, results_path: str) -> None:
    """Child-process side: run ``sage identify`` for each job, one JSON line per result.

    Runs inside the process that has SNID-SAGE on ``sys.path``. Uses the CLI's own parser and
    ``identify`` main (as ``sage identify`` does) but skips the CLI's PyPI update check; with
    ``cache_templates`` (default) the bank is read once and kept across calls
    (``cache_template_reads``). The jobs file holds ``{"warm_up": argv or null, "jobs":
    [argv, ...], "cache_templates": bool}``; the import and the warm-up call are timed on
    lines of their own (``{"startup": "import" | "warm_up", "seconds": ...}``), apart from the
    jobs.
    """
    import contextlib
    import importlib
    import io

    started = time.perf_counter()
    # The package __init__ swallows the ImportError of its circular imports and leaves
    # ``identify = None``: import the modules themselves, main first as ``sage`` does.
    cli_main = importlib.import_module("snid_sage.interfaces.cli.main")
    identify = importlib.import_module("snid_sage.interfaces.cli.identify")
    from snid_sage.shared.utils.logging import VerbosityLevel, configure_from_args

    parser = cli_main.create_parser()
    spec = json.loads(Path(jobs_path).read_text())
    if spec.get("cache_templates", True):
        cache_template_reads()

    def run(argv: list[str]) -> tuple[int, float, str]:
        args = parser.parse_args(argv)
        configure_from_args(args, gui_mode=False, default_verbosity=VerbosityLevel.QUIET)
        captured = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            try:
                code = identify.main(args)
            except Exception as error:  # one bad spectrum must not stop the batch
                print(f"{type(error).__name__}: {error}")
                code = 1
        return code, time.perf_counter() - start, captured.getvalue()[-2000:]

    with open(results_path, "a", encoding="utf-8") as results:
        def write(record: dict) -> None:
            results.write(json.dumps(record) + "\n")
            results.flush()

        write({"startup": "import", "seconds": time.perf_counter() - started})
        if spec.get("warm_up"):
            code, seconds, _ = run(spec["warm_up"])
            write({"startup": "warm_up", "seconds": seconds, "code": code})
        for index, argv in enumerate(spec["jobs"], start=spec.get("first_index", 0)):
            code, seconds, log = run(argv)
            write({"index": index, "code": code, "seconds": seconds, "log": log})


_WORKER_CALL = ("import sys; from ciderlab.baselines.snid_sage import identify_worker; "
                "identify_worker(sys.argv[1], sys.argv[2])")


def _worker_env(install_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    src_dir = str(Path(__file__).resolve().parents[2])  # the directory holding ``ciderlab``
    paths = [str(install_dir.resolve()), src_dir, env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["MPLBACKEND"] = "Agg"  # SNID-SAGE imports pyplot; no display
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"  # one thread per run: the speed comparison sets 1 thread against 1
    return env


def run_snid_sage(spectrum_paths: Sequence[str | os.PathLike],
                  exclude_templates: Sequence[Sequence[str]], zmin: float, zmax: float,
                  install_dir: str | os.PathLike, workdir: str | os.PathLike,
                  warm_up: bool = False, workers: int = 1,
                  forced_redshifts: Sequence[float] | None = None,
                  cache_templates: bool = True) -> tuple[pd.DataFrame, dict]:
    """Classify each spectrum file with ``sage identify``, excluding the templates given for it.

    The calls run in ``workers`` child processes, each on one thread
    (``OMP/OPENBLAS/MKL_NUM_THREADS=1``) and each given a contiguous share of the spectra: a
    spectrum's ``seconds`` is a one-thread time however many workers run side by side (one per
    core), while the wall time falls with the number of cores.

    Parameters
    ----------
    spectrum_paths : n files written by ``write_spectrum_file``
    exclude_templates : n lists of bank template names (``templates_of_objects``), one per
        spectrum: its own object's templates, never matched
    zmin, zmax : redshift search range
    install_dir : from ``install_snid_sage``
    workdir : scratch directory for SNID-SAGE's files and its log (``snid_sage.log``)
    warm_up : each worker first identifies its first spectrum once, untimed in the results,
        so that the template bank's first load is not counted in any spectrum's ``seconds``
    workers : child processes (at most one per spectrum)
    forced_redshifts : n redshifts, one per spectrum, to match at (``--forced-redshift``: no
        redshift search), or None (default) to search ``zmin``-``zmax``
    cache_templates : read the template bank once per worker instead of once per spectrum
        (``cache_template_reads``); False runs SNID-SAGE exactly as shipped

    Returns
    -------
    results : DataFrame
        n rows in input order with ``RESULT_COLUMNS``: status is "ok", "no_match" or "error"
        (``error`` says why); redshift is SNID-SAGE's headline (cluster-weighted) estimate,
        redshift_best and rlap those of the best template; seconds is the wall time of the
        spectrum's ``identify`` call alone.
    startup : dict
        Seconds: ``import_seconds`` (SNID-SAGE's import in the worker), ``warm_up_seconds``
        (the warm-up call; NaN without one), each the slowest worker's, and ``wall_seconds``
        (all child processes, Python start-up included).
    """
    paths = [Path(p).resolve() for p in spectrum_paths]
    if len(exclude_templates) != len(paths):
        raise ValueError(f"{len(paths)} spectra but {len(exclude_templates)} exclusion lists; "
                         "give one list (possibly empty) per spectrum")
    install_dir = Path(install_dir)
    unknown = {n for names in exclude_templates for n in names} - installed_template_names(
        install_dir)
    if unknown:
        raise ValueError(f"exclusions not in SNID-SAGE's bank: {sorted(unknown)[:5]}; use bank "
                         "template names (e.g. 'sn2005cf'), not object ids")
    workdir = Path(workdir)
    out_root = workdir / "identify"
    shutil.rmtree(out_root, ignore_errors=True)  # never read a previous run's answers
    out_dirs = [out_root / f"{i:05d}" for i in range(len(paths))]
    forced = [None] * len(paths) if forced_redshifts is None else list(forced_redshifts)
    if len(forced) != len(paths):
        raise ValueError(f"{len(paths)} spectra but {len(forced)} forced redshifts")
    jobs = [_identify_argv(p, names, zmin, zmax, out, z)
            for p, names, out, z in zip(paths, exclude_templates, out_dirs, forced)]
    out_root.mkdir(parents=True)
    shares = np.array_split(np.arange(len(paths)), max(1, min(int(workers), len(paths))))
    started = time.perf_counter()
    children = []
    for k, share in enumerate(shares):
        jobs_path, results_path = out_root / f"jobs_{k}.json", out_root / f"results_{k}.jsonl"
        first = (_identify_argv(paths[share[0]], exclude_templates[share[0]], zmin, zmax,
                                out_root / f"warm_up_{k}", forced[share[0]])
                 if warm_up and len(share) else None)
        jobs_path.write_text(json.dumps({"warm_up": first, "first_index": int(share[0]) if len(
            share) else 0, "jobs": [jobs[i] for i in share],
            "cache_templates": bool(cache_templates)}))
        log = open(workdir / f"snid_sage{'' if k == 0 else f'_{k}'}.log", "w")
        children.append((results_path, log, subprocess.Popen(
            [sys.executable, "-c", _WORKER_CALL, str(jobs_path), str(results_path)],
            cwd=workdir, env=_worker_env(install_dir), stdout=log, stderr=subprocess.STDOUT)))
    done, startup = {}, {}
    for results_path, log, child in children:
        child.wait()
        log.close()
        records, times = _read_results(results_path)
        done.update(records)
        for name, seconds in times.items():
            startup[name] = max(seconds, startup.get(name, 0.0))
    wall = time.perf_counter() - started
    rows = [_result_row(path, out / f"{path.stem}.output", done.get(i), workdir)
            for i, (path, out) in enumerate(zip(paths, out_dirs))]
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS)), {
        "import_seconds": startup.get("import", float("nan")),
        "warm_up_seconds": startup.get("warm_up", float("nan")), "wall_seconds": wall}


def _read_results(results_path: Path) -> tuple[dict[int, dict], dict[str, float]]:
    """Per-spectrum records by index, and the start-up times by name."""
    records, startup = {}, {}
    if not results_path.exists():
        return records, startup
    for line in results_path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut short when the worker died
            continue
        if "startup" in record:
            startup[record["startup"]] = record["seconds"]
        else:
            records[record["index"]] = record
    return records, startup


def _result_row(path: Path, output_path: Path, record: dict | None, workdir: Path) -> dict:
    row = dict.fromkeys(RESULT_COLUMNS)
    row.update(path=str(path), status="error", error="")
    if record is None:
        row["error"] = f"SNID-SAGE stopped before this spectrum; see {workdir / 'snid_sage.log'}"
        return row
    row["seconds"] = record["seconds"]
    log_tail = " | ".join(record["log"].strip().splitlines()[-3:])
    if record["code"] == 0 and output_path.exists():
        try:
            row.update(parse_snid_output(output_path.read_text(encoding="utf-8")), status="ok")
        except ValueError as error:
            row["error"] = f"{output_path}: {error}"
    elif "No good matches" in record["log"]:
        row.update(status="no_match", error=log_tail)
    else:
        row["error"] = f"exit code {record['code']}: {log_tail}"
    return row
