"""The warm worker process that runs SNID-SAGE's ``identify`` calls of one run, in SNID-SAGE's
own folder: started by ``snid_sage.run_snid_sage``, it reads jobs from a file and appends one
result line per call. It reads each bank template from HDF5 once (``cache_template_reads``) and
runs SNID-SAGE's per-frequency loops as numpy array operations (``fast_loops``): the same bits,
three times faster."""

from __future__ import annotations

import json
import time
from pathlib import Path

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
    (``cache_template_reads``), with ``fast_loops`` (default) the loops run as numpy array
    operations (``fast_loops.install``). The jobs file holds ``{"warm_up": argv or null, "jobs":
    [argv, ...], "cache_templates": bool, "fast_loops": bool}``; the import and the warm-up
    call are timed on lines of their own (``{"startup": "import" | "warm_up", "seconds":
    ...}``), apart from the jobs.
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
    if spec.get("fast_loops", True):
        from ciderlab.spectranet.snid import fast_loops

        fast_loops.install()

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
