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
the bank is read once per worker (``cache_templates``). Most of the rest of a call is Python
loops over FFT bins, once per template; the worker runs them as numpy array operations
(``fast_loops``: a forced-redshift call ~3x faster, a search ~1.5x). Both give the answers of
SNID-SAGE as shipped, bit for bit (tested).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

import ciderlab
from ciderlab.spectranet.snid import worker
from ciderlab.spectranet.snid.install import installed_template_names
from ciderlab.spectranet.snid.snid_output import parse_snid_output

RESULT_COLUMNS = ("path", "status", "type", "subtype", "redshift", "redshift_best", "rlap",
                  "rlap_metric", "best_template", "seconds", "error")


# --- running ------------------------------------------------------------------------------------

def _identify_argv(path: Path, exclude: Sequence[str], zmin: float, zmax: float,
                   out_dir: Path, forced_redshift: float | None = None) -> list[str]:
    argv = ["identify", str(path), "--zmin", repr(float(zmin)), "--zmax", repr(float(zmax)),
            "--minimal", "--no-plots", "--output-dir", str(out_dir)]
    if forced_redshift is not None:
        argv += ["--forced-redshift", repr(float(forced_redshift))]
    return argv + (["--exclude-templates", *exclude] if exclude else [])


# The child process runs ``worker.identify_worker`` (imported here so that the stages' derived
# code dependencies include the worker and what it imports).
_WORKER_CALL = (f"import sys; from {worker.__name__} import identify_worker; "
                "identify_worker(sys.argv[1], sys.argv[2])")


def _worker_env(install_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    src_dir = str(Path(ciderlab.__file__).resolve().parents[1])  # the folder holding ``ciderlab``
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
                  cache_templates: bool = True,
                  fast_loops: bool = True) -> tuple[pd.DataFrame, dict]:
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
        (``cache_template_reads``)
    fast_loops : run SNID-SAGE's per-frequency loops as numpy array operations, the same
        bits (``fast_loops``); both False run SNID-SAGE exactly as shipped

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
            "cache_templates": bool(cache_templates), "fast_loops": bool(fast_loops)}))
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
