"""How much faster our SNID-SAGE runs are than SNID-SAGE as shipped, measured in one run.

    python benchmarks/bench_snid_sage.py [--files 8] [--workers 2] [--record]

Runs ``sage identify`` (SNID-SAGE 0.9.0, one thread per worker) on the first ``--files`` real
files of ``real_spectra/truth.csv``, searching the redshift and forced to the catalogue one, three
ways: as shipped; the bank read once per worker (``cache_templates``); and that with the
per-frequency loops as numpy array operations (``fast_loops``, what the pipeline runs). Prints
each way's wall time and its ratio to as shipped, and checks that the answers are identical.
``--record`` appends the line to benchmarks/results/timings.jsonl. Needs ``data/raw`` (``make
data``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from ciderlab.provenance import git_revision
from ciderlab.spectranet.real_spectra import load_truth
from ciderlab.spectranet.snid.install import install_snid_sage
from ciderlab.spectranet.snid.real_files import write_inputs
from ciderlab.spectranet.snid.snid_sage import run_snid_sage

ROOT = Path(__file__).resolve().parents[1]
WAYS = {"as shipped": dict(cache_templates=False, fast_loops=False),
        "bank read once": dict(cache_templates=True, fast_loops=False),
        "bank read once, loops as arrays": dict(cache_templates=True, fast_loops=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--wheel", default=str(ROOT / "data/raw/snid_sage-0.9.0-py3-none-any.whl"))
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    truth = load_truth(ROOT / "real_spectra" / "truth.csv").head(args.files)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        install_dir = install_snid_sage(args.wheel, work / "snid_sage")
        paths, errors = write_inputs(truth, ROOT / "real_spectra", work / "inputs")
        paths = [p for p, e in zip(paths, errors) if not e]
        forced = [float(z) for z, e in zip(truth["redshift"], errors) if not e]
        seconds, answers = {}, {}
        for condition, redshifts in (("searching", None), ("forced", forced)):
            for way, switches in WAYS.items():
                result, timing = run_snid_sage(paths, [[]] * len(paths), 0.0, 0.3, install_dir,
                                               work / "run", workers=args.workers,
                                               forced_redshifts=redshifts, **switches)
                seconds[condition, way] = timing["wall_seconds"]
                answers[condition, way] = result.drop(columns=["path", "seconds"])
                print(f"{condition:9s} {way:32s} {timing['wall_seconds']:6.1f} s")
    identical = all(answers[c, w].equals(answers[c, "as shipped"]) for c, w in answers)
    parts = []
    for condition in ("searching", "forced"):
        base = seconds[condition, "as shipped"]
        parts.append(f"{condition}: " + ", ".join(
            f"{way} {seconds[condition, way]:.1f} s ({base / seconds[condition, way]:.1f}x)"
            for way in WAYS))
    line = {"what": f"SNID-SAGE `identify` on {len(paths)} real files, one thread, "
                    f"{args.workers} workers: as shipped vs ours, same run ({git_revision()[:7]}; "
                    "benchmarks/bench_snid_sage.py)",
            "measured": "; ".join(parts) + ("; the answers identical" if identical
                                            else "; THE ANSWERS DIFFER")}
    print(line["measured"])
    if args.record:
        with open(ROOT / "benchmarks/results/timings.jsonl", "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
    if not identical:
        raise SystemExit("the answers differ from SNID-SAGE as shipped")


if __name__ == "__main__":
    main()
