"""How much a continuum-removal option's validation score moves with the training seed alone:
the noise of the paired comparison ``compare_preprocessing`` makes on one fold.

    python benchmarks/preprocessing_seeds.py --seeds 42 7 1234 \
        --out benchmarks/results/preprocessing_seeds.jsonl

Runs the stage's comparison (``compare_preprocessing.compare_stage``: the same options, spectra,
fold and short recipe as params.yaml) once per recipe seed, without the real files; one JSON
line per seed with every option's validation macro-F1. The spread over seeds of one option,
and of the differences between two options, is the noise a tolerance in
``compare_preprocessing.tolerance`` should be set from. Needs a built pipeline
(``results/realise``, ``results/split``).
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

from ciderlab.io import load_json, load_spectra, sha256_of
from ciderlab.params import load_params
from ciderlab.provenance import git_revision
from ciderlab.spectranet.compare_preprocessing import compare_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 1234])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--spectra", default="results/realise/spectra.h5")
    parser.add_argument("--split-dir", default="results/split")
    parser.add_argument("--out", default=None, help="append one JSON line per seed here")
    args = parser.parse_args()
    params = load_params(args.params)
    classes = load_json(Path(args.split_dir) / "classes.json")["classes"]
    spectra = load_spectra(args.spectra, lazy=True)
    data_hash = sha256_of(args.spectra)
    for seed in args.seeds:
        started = time.perf_counter()
        seeded = copy.deepcopy(params)
        seeded["compare_preprocessing"]["recipe"]["seed"] = seed
        table, _ = compare_stage(seeded, classes, spectra, data_hash)
        record = {"seed": seed, "val_macro_f1": dict(zip(table["option"], table["val_macro_f1"])),
                  "seconds": time.perf_counter() - started, "commit": git_revision(),
                  "date": time.strftime("%Y-%m-%d")}
        print(json.dumps(record), flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
