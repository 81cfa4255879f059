"""What the CPU budget costs: SpectraNet's scores on the fixed fold as training budget and width grow.

    python benchmarks/budget_sweep.py --write-data results/realise/spectra.h5 --data fold0.npz
    python benchmarks/budget_sweep.py --data fold0.npz --out sweep.jsonl \
        [--variants budget|redshift-recipe|redshift-cpu|classifier-trim] [--jobs 8] [--device auto]

The main command trains every SpectraNet model for 12 epochs of 5,000 spectra at a quarter of
the paper's widths, so that it fits in 50 minutes on 2 CPU cores. That budget is our choice, and
issue 9 asks what each of our choices costs. This script retrains the default profile's
classifier and redshift model on the fixed fold (seed 42, params.yaml's recipe; one thing
changed at a time: spectra per epoch, epochs, width) and scores each on the fold's test spectra
exactly as ``evaluate`` does (the first ``realise.n_realisations`` of each spectrum; the SN and
TDE classes for macro-F1). It is meant for a GPU, where the whole sweep takes minutes; on CPU
the first variants reproduce the pipeline's own fixed-fold numbers.

``--write-data`` packs the fold's training pool and scored validation and test rows of a
realised set as float16 (~60 MB; its rounding, printed, is far below the noise of spectra of
S/N <= 100) so the set can travel to a GPU machine. Results are
appended one JSON line per variant to ``--out`` as they finish; ``--deadline-s`` stops
starting new variants after that long.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from ciderlab.evaluation.metrics import classification_metrics, macro_f1_over, redshift_metrics
from ciderlab.params import resolve_params
from ciderlab.training.device import resolve_device
from ciderlab.training.loop import predict, to_tensor
from ciderlab.training.runs import (class_targets, classify, model_config_from_params,
                                    recipe_from_params, scored_rows, train_one)

ROOT = Path(__file__).resolve().parents[1]
WIDE = {"channels": [32, 64, 128, 256, 512], "hidden": 256}  # twice the default widths

# Every variant starts from this budget (both heads' in params.yaml when the sweep was first
# run), so that a rerun measures the same thing whatever params.yaml says now.
REFERENCE = {"max_epochs": 12, "samples_per_epoch": 5000, "lr": 1e-3}
# (name, head, train_<head> overrides, model overrides), most telling first. Epoch counts end
# where a cosine cycle does (2 warm-up + whole cycles of 5).
BUDGET = [
    ("classifier, 12 x 5,000", "classifier", {}, {}),
    ("redshift, 12 x 5,000", "redshift", {}, {}),
    ("classifier, 12 x 20,000", "classifier", {"samples_per_epoch": 20000}, {}),
    ("redshift, 12 x 20,000", "redshift", {"samples_per_epoch": 20000}, {}),
    ("classifier, 37 x 20,000", "classifier", {"samples_per_epoch": 20000, "max_epochs": 37}, {}),
    ("redshift, 37 x 20,000", "redshift", {"samples_per_epoch": 20000, "max_epochs": 37}, {}),
    ("classifier, 37 x 20,000, twice as wide", "classifier",
     {"samples_per_epoch": 20000, "max_epochs": 37}, WIDE),
    ("redshift, 37 x 20,000, twice as wide", "redshift",
     {"samples_per_epoch": 20000, "max_epochs": 37}, WIDE),
    ("classifier, 37 x 20,000, seed 777", "classifier",
     {"samples_per_epoch": 20000, "max_epochs": 37, "seeds": [777]}, {}),
    ("classifier, 12 x 5,000, seed 777", "classifier", {"seeds": [777]}, {}),
    ("classifier, 37 x 20,000, seed 888", "classifier",
     {"samples_per_epoch": 20000, "max_epochs": 37, "seeds": [888]}, {}),
    ("classifier, 12 x 5,000, seed 888", "classifier", {"seeds": [888]}, {}),
    ("classifier, 12 x 20,000, twice as wide", "classifier", {"samples_per_epoch": 20000}, WIDE),
    ("redshift, 12 x 10,000", "redshift", {"samples_per_epoch": 10000}, {}),
]
# The redshift model at CPU-sized budgets: seeds, learning rate, steps, dropout.
REDSHIFT_RECIPE = [
    (f"redshift, 12 x {n:,}{label}", "redshift", {"samples_per_epoch": n, **train}, model)
    for n in (5000, 10000)
    for label, train, model in [
        (", seed 777", {"seed": 777}, {}), (", seed 888", {"seed": 888}, {}),
        (", lr 2e-3", {"lr": 2e-3}, {}), (", lr 3e-3", {"lr": 3e-3}, {}),
        (", batch 32", {"batch_size": 32}, {}), (", dropout 0", {}, {"dropout": 0.0}),
        (", edge masks to 10%", {"edge_mask_max_fraction": 0.1}, {})]
]
# The cheapest of those that reaches RMS 0.010: seeds of the candidates.
REDSHIFT_CPU = [
    (f"redshift, {epochs} x {n:,}{', lr 2e-3' if lr else ''}, seed {seed}", "redshift",
     {"samples_per_epoch": n, "max_epochs": epochs, "seed": seed, **({"lr": lr} if lr else {})}, {})
    for epochs, n, lr, seeds in [(12, 10000, 2e-3, (777, 888)), (12, 20000, None, (777, 888)),
                                 (12, 15000, 2e-3, (42, 777, 888)), (17, 10000, 2e-3, (42,))]
    for seed in seeds
]
# What a smaller classifier budget costs (to pay for the redshift model's).
CLASSIFIER_TRIM = [
    (f"classifier, {epochs} x {n:,}, seed {seed}", "classifier",
     {"samples_per_epoch": n, "max_epochs": epochs, "seeds": [seed]}, {})
    for epochs, n in [(12, 3000), (12, 4000), (7, 5000)] for seed in (42, 777, 888)
]
# One cosine cycle over the whole run instead of two, and budgets between, to fit the CPU.
SCHEDULE = [
    *[(f"redshift, 12 x 10,000, lr 2e-3, one cycle, seed {seed}", "redshift",
       {"samples_per_epoch": 10000, "lr": 2e-3, "restart_epochs": 10, "seed": seed}, {})
      for seed in (42, 777, 888)],
    *[(f"redshift, 12 x 12,000, lr 2e-3, seed {seed}", "redshift",
       {"samples_per_epoch": 12000, "lr": 2e-3, "seed": seed}, {}) for seed in (42, 777, 888)],
    *[(f"classifier, 7 x 4,000, seed {seed}", "classifier",
       {"samples_per_epoch": 4000, "max_epochs": 7, "seeds": [seed]}, {})
      for seed in (42, 777, 888)],
]
VARIANTS = {"budget": BUDGET, "schedule": SCHEDULE, "redshift-recipe": REDSHIFT_RECIPE, "redshift-cpu": REDSHIFT_CPU,
            "classifier-trim": CLASSIFIER_TRIM}


def write_data(spectra_path: Path, split_dir: Path, out: Path, n_scored: int) -> None:
    """The fixed fold's training pool and scored validation/test rows, float16, as an npz."""
    from ciderlab.io import load_json, load_spectra

    spectra = load_spectra(spectra_path)
    meta = spectra.meta
    keep = ((meta["split"] == "train") | (meta["realisation"] < n_scored)).to_numpy()
    packed = {name: getattr(spectra, name)[keep].astype(np.float16)
              for name in ("flux_rest", "flux_obs")}
    for name, array in packed.items():
        error = np.abs(array.astype(np.float32) - getattr(spectra, name)[keep]).max()
        print(f"{name}: largest float16 rounding {error:.2g}")
    np.savez_compressed(out, **packed, label=meta["label"][keep].to_numpy(str),
                        split=meta["split"][keep].to_numpy(str),
                        realisation=meta["realisation"][keep].to_numpy(),
                        redshift=meta["redshift"][keep].to_numpy(),
                        classes=np.array(load_json(split_dir / "classes.json")["classes"]))


DATA: dict = {}


def load(path: str) -> None:
    """Per worker process: the packed set, once."""
    data = np.load(path)
    DATA.update({key: data[key] for key in data.files})
    DATA["meta"] = pd.DataFrame({"split": DATA["split"], "realisation": DATA["realisation"]})


def run_variant(variant: tuple, device_name: str, threads: int, quick: bool = False) -> dict:
    name, head, train_over, model_over = variant
    if quick:  # a check that the script runs, not a measurement
        train_over = {**train_over, "max_epochs": 1, "samples_per_epoch": 256, "warmup_epochs": 0}
    torch.set_num_threads(threads)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = resolve_params({**raw, "profile": "default"})
    classes = [str(c) for c in DATA["classes"]]
    device = resolve_device(device_name)
    if device.type == "cuda":  # the same function, the GPU's faster path for short kernels
        model_over = {"conv": "direct", **model_over}
    meta, n_scored = DATA["meta"], params["realise"]["n_realisations"]
    train_rows = np.flatnonzero(meta["split"].to_numpy() == "train")
    val_rows, test_rows = (scored_rows(meta, split, n_scored) for split in ("val", "test"))
    cfg = recipe_from_params(params, f"train_{head}", {**REFERENCE, **train_over})
    model_config = model_config_from_params(params, head, classes, model_over)
    if head == "classifier":
        flux, target = DATA["flux_rest"], class_targets(pd.Series(DATA["label"]), classes)
    else:
        flux = DATA["flux_obs"]
        target = torch.as_tensor(DATA["redshift"], dtype=torch.float32)
    flux = flux.astype(np.float32)
    started = time.perf_counter()
    trained = train_one(head, flux, target, train_rows, val_rows, model_config, cfg,
                        data_id="budget-sweep", progress=False, device=device)
    result = {"variant": name, "head": head, "device": str(device),
              "seed": cfg.seed, "epochs": cfg.max_epochs, "samples_per_epoch": cfg.samples_per_epoch,
              "lr": cfg.lr, "batch_size": cfg.batch_size, "restart_epochs": cfg.restart_epochs,
              "edge_mask_max_fraction": cfg.edge_mask_max_fraction,
              "model_overrides": {k: v for k, v in model_over.items() if k != "conv"},
              "parameters": sum(p.numel() for p in trained.model.parameters()),
              "best_epoch": trained.best_epoch, "epochs_run": trained.epochs_run,
              "minutes": (time.perf_counter() - started) / 60}
    if head == "classifier":
        headline = [classes.index(c) for c in classes
                    if c not in params["evaluate"]["separate_classes"]]
        y = target.numpy()[test_rows]
        proba = classify(trained.model, flux[test_rows])
        kept = np.isin(y, headline)
        metrics = classification_metrics(y[kept], proba[kept], classes)
        result.update(macro_f1=macro_f1_over(y[kept], proba[kept].argmax(1), headline),
                      accuracy=metrics["accuracy"],
                      ia_vs_non_ia=metrics["ia_vs_non_ia"]["accuracy"],
                      f1={c: round(metrics["per_class"][c]["f1"], 3) for c in classes
                          if classes.index(c) in headline})
    else:
        predicted = predict(trained.model, to_tensor(flux[test_rows])).numpy().reshape(-1)
        metrics = redshift_metrics(predicted, DATA["redshift"][test_rows])
        result.update({key: metrics[key]
                       for key in ("rms", "bias", "sigma_nmad", "outlier_fraction")})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--write-data", type=Path, help="a realised spectra.h5 (default profile)")
    parser.add_argument("--split-dir", type=Path, default=ROOT / "results/split")
    parser.add_argument("--out", type=Path, default=Path("budget_sweep.jsonl"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--jobs", type=int, default=1, help="variants trained side by side")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per variant")
    parser.add_argument("--variants", choices=sorted(VARIANTS), default="budget")
    parser.add_argument("--only", type=int, nargs="*", help="variant numbers (from 0)")
    parser.add_argument("--deadline-s", type=float, default=float("inf"))
    parser.add_argument("--quick", action="store_true", help="one tiny epoch per variant")
    args = parser.parse_args()
    if args.write_data:
        raw = yaml.safe_load((ROOT / "params.yaml").read_text())
        write_data(args.write_data, args.split_dir, args.data,
                   resolve_params(raw)["realise"]["n_realisations"])
        print(f"wrote {args.data}")
        return
    variants = VARIANTS[args.variants]
    chosen = [variants[i] for i in (args.only if args.only is not None else range(len(variants)))]
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")  # CUDA does not survive a fork
    with ProcessPoolExecutor(args.jobs, mp_context=context, initializer=load,
                             initargs=(str(args.data),)) as pool:
        pending, queue = set(), list(chosen)
        while queue or pending:
            while queue and len(pending) < args.jobs \
                    and time.perf_counter() - started < args.deadline_s:
                pending.add(pool.submit(run_variant, queue.pop(0), args.device, args.threads,
                                           args.quick))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                result = {"variants": args.variants, **future.result()}
                print(json.dumps(result), flush=True)
                with args.out.open("a") as f:
                    f.write(json.dumps(result) + "\n")
    print(f"{len(chosen) - len(queue)} variants in {(time.perf_counter() - started) / 60:.1f} min"
          + (f"; {len(queue)} not started (deadline)" if queue else ""))


if __name__ == "__main__":
    main()
