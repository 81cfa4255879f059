"""How much does one halving of the out-of-class objects decide "none of these"? The reliability
stage's choose-then-measure repeated over other halvings.

    python benchmarks/out_of_class_halvings.py --out benchmarks/results/out_of_class_halvings.jsonl

The stage splits the bank's objects of types outside the trained classes (a few dozen per half)
by a stable hash into a half that chooses the score and a half that measures it, once. This
repeats exactly that (``reliability.repeated_halvings``: the same candidate scores, the outlier
detector refitted on each choosing half and cross-fitted as in the stage) over ``--repeats``
halvings, the stage's own first, and reports per halving the chosen score and its measuring
AUROC, and per score its measuring AUROC over the halvings. It characterises the protocol; it
chooses nothing (choosing the score by these measuring AUROCs would choose on the objects that
measure it). Needs a built pipeline; one JSON line.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ciderlab.checkpoint import load_checkpoint
from ciderlab.data.spectra_source import is_catalogue
from ciderlab.io import load_json, load_spectra, load_table
from ciderlab.params import load_params
from ciderlab.spectranet import reliability as rel
from ciderlab.spectranet.dataset import bank_catalogue
from ciderlab.spectranet.reliability_stage import out_of_class_inputs
from ciderlab.spectranet.templates import load_template_bank
from validation_set import append_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--results", default="results")
    parser.add_argument("--wheel", default="data/raw/snid_sage-0.9.0-py3-none-any.whl")
    parser.add_argument("--repeats", type=int, default=20,
                        help="halvings, the stage's own (0) first (default 20)")
    parser.add_argument("--out", default=None, help="append the JSON line here")
    args = parser.parse_args()
    started = time.perf_counter()
    params, results = load_params(args.params), Path(args.results)
    bank, catalogue = load_template_bank(args.wheel), load_table(results / "split/catalogue.csv")
    if is_catalogue(params["spectra"]["source"]):  # the out-of-class objects: still the bank's
        catalogue = bank_catalogue(bank, params)
    inputs = out_of_class_inputs(
        params, load_json(results / "split/classes.json")["classes"],
        load_spectra(results / "realise/spectra.h5", lazy=True), catalogue, bank,
        load_checkpoint(results / "train_classifier/classifier.pt")[0])
    cfg = rel.ReliabilityConfig.from_params(params["reliability"])
    table = rel.repeated_halvings(inputs, cfg, params["split"]["salt"], range(args.repeats))
    record = rel.summarise_halvings(table)
    for h in record["halvings"]:
        print(f"halving {h['repeat']:2d}: chose {h['chosen']:26s} choosing {h['auroc_choose']:.3f}"
              f"  measuring {h['auroc_measure']:.3f}")
    print(f"chosen score's measuring AUROC: {record['chosen_auroc_mean']:.3f} "
          f"+- {record['chosen_auroc_std']:.3f} over {args.repeats} halvings")
    for name, s in record["by_score"].items():
        print(f"{name:26s} measuring {s['mean']:.3f} ({s['low']:.3f}-{s['high']:.3f}), "
              f"chosen {s['times_chosen']}x")
    append_record(args.out, {"repeats": args.repeats, **record}, started)


if __name__ == "__main__":
    main()
