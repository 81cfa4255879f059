"""What the CPU budget and our recipe choices cost: SpectraNet on the fixed fold's validation objects.

    python benchmarks/budget_sweep.py --write-data results/realise/spectra.h5 --data fold0.npz
    python benchmarks/budget_sweep.py --data fold0.npz --out sweep.jsonl \
        [--variants selection|width|budget|redshift-recipe|redshift-cpu|classifier-trim] [--jobs 2]

Every choice of the training recipe that params.yaml calls "our choice, measured" is measured
here: the loss, both models' budgets, the redshift model's learning rate, schedule and dropout.
Each variant retrains the default profile's classifier or redshift model on the fixed fold's
training objects, one thing changed at a time, and scores it on the fold's *validation*
objects (the objects early stopping watches; the first ``realise.n_realisations`` of each
spectrum; macro-F1 over ``labels.headline_classes``). Test objects are never packed, so no
choice can be made on them: they are the cross-validated headline's.

``selection`` (the choices params.yaml records, each against the value it was chosen over,
with seeds 42/777/888 of the chosen recipe for the spread) starts from params.yaml's recipe;
the other groups start from one fixed reference budget (``REFERENCE``) so that a rerun measures
the same thing whatever params.yaml says now. On 2 CPU cores ``selection`` takes ~35 min with
``--jobs 2``; the larger budgets are meant for a GPU.

``--write-data`` packs the fold's training pool and scored validation rows of a realised set as
float16 (~50 MB; its rounding, printed, is far below the noise of spectra of S/N <= 100) so the
set can travel to a GPU machine. Results are appended one JSON line per variant to ``--out`` as
they finish; ``--deadline-s`` stops starting new variants after that long.
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

from ciderlab.evaluation.metrics import classification_metrics, headline_classes, redshift_metrics
from ciderlab.params import resolve_params
from ciderlab.device import resolve_device
from ciderlab.data.split import scored_rows
from ciderlab.training.heads import HEADS
from ciderlab.training.runs import model_config_from_params, recipe_from_params, train_one

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
SEEDS = (42, 777, 888)
# The recipe choices params.yaml records, each against what it was chosen over, from
# params.yaml's recipe (no REFERENCE): the chosen recipe over three seeds gives the spread.
SELECTION = [
    *[(f"classifier, as params.yaml, seed {seed}", "classifier", {"seeds": [seed]}, {})
      for seed in SEEDS],
    # The classifier's budget: spectra per epoch (the same schedule over more or fewer steps).
    *[(f"classifier, {n:,} per epoch, seed {seed}", "classifier",
       {"seeds": [seed], "samples_per_epoch": n}, {})
      for n in (5000, 10000, 20000, 40000) for seed in SEEDS[:2]],
    *[(f"redshift, as params.yaml, seed {seed}", "redshift", {"seed": seed}, {})
      for seed in SEEDS],
    ("redshift, 5,000 per epoch, seed 42", "redshift", {"samples_per_epoch": 5000}, {}),
    ("redshift, lr 1e-3, seed 42", "redshift", {"lr": 1e-3}, {}),
    ("redshift, two cosine cycles, seed 42", "redshift", {"restart_epochs": 5}, {}),
    ("redshift, dropout 0.5 (authors'), seed 42", "redshift", {}, {"dropout": 0.5}),
    ("redshift, dropout 0, seed 42", "redshift", {}, {"dropout": 0.0}),
]
# What the CPU-sized network costs: params.yaml's recipe with twice the widths (the paper's
# network is four times as wide; GPU). Training took 2.8x as long on 2 CPU cores.
WIDTH = [(f"classifier, twice as wide, seed {seed}", "classifier", {"seeds": [seed]}, WIDE)
         for seed in SEEDS[:2]]
VARIANTS = {"selection": SELECTION, "width": WIDTH, "budget": BUDGET, "schedule": SCHEDULE,
            "redshift-recipe": REDSHIFT_RECIPE, "redshift-cpu": REDSHIFT_CPU,
            "classifier-trim": CLASSIFIER_TRIM}
# Groups that start from params.yaml's recipe, not REFERENCE.
FROM_PARAMS = {"selection", "width"}


def write_data(spectra_path: Path, split_dir: Path, out: Path, n_scored: int) -> None:
    """The fixed fold's training pool and scored validation rows, float16, as an npz (no
    test row: nothing here may be chosen on the test objects)."""
    from ciderlab.io import load_json, load_spectra

    spectra = load_spectra(spectra_path)
    meta = spectra.meta
    keep = ((meta["split"] == "train")
            | ((meta["split"] == "val") & (meta["realisation"] < n_scored))).to_numpy()
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


def run_variant(variant: tuple, device_name: str, threads: int, quick: bool = False,
                from_params: bool = False) -> dict:
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
    val_rows = scored_rows(meta, "val", n_scored)
    cfg = recipe_from_params(params, f"train_{head}",
                             train_over if from_params else {**REFERENCE, **train_over})
    head = HEADS[head]
    model_config = model_config_from_params(params, head, classes, model_over)
    meta_arrays = pd.DataFrame({"label": DATA["label"], "redshift": DATA["redshift"]})
    flux = DATA[f"flux_{'rest' if head.frame == 'rest' else 'obs'}"].astype(np.float32)
    target = head.targets(meta_arrays, classes)
    started = time.perf_counter()
    headline = headline_classes(classes, params["labels"]["separate_classes"])
    trained = train_one(head, flux, target, train_rows, val_rows, model_config, cfg,
                        data_id="budget-sweep", progress=False, device=device,
                        headline=([classes.index(c) for c in headline]
                                  if head.n_outputs(classes) > 1 else None))
    result = {"variant": name, "head": head.name, "device": str(device), "scored_on": "validation",
              "n_scored_spectra": int(len(val_rows)),
              "seed": cfg.seed, "epochs": cfg.max_epochs, "samples_per_epoch": cfg.samples_per_epoch,
              "lr": cfg.lr, "batch_size": cfg.batch_size, "restart_epochs": cfg.restart_epochs,
              "edge_mask_max_fraction": cfg.edge_mask_max_fraction,
              "model_overrides": {k: v for k, v in model_over.items() if k != "conv"},
              "parameters": sum(p.numel() for p in trained.model.parameters()),
              "best_epoch": trained.best_epoch, "epochs_run": trained.epochs_run,
              "minutes": (time.perf_counter() - started) / 60}
    predicted = head.predict(trained.model, flux[val_rows])
    if predicted.ndim == 2:  # class probabilities
        result.update(use_focal_loss=cfg.use_focal_loss, class_balance_beta=cfg.class_balance_beta)
        metrics = classification_metrics(target.numpy()[val_rows], predicted, classes, headline)
        result.update(macro_f1=metrics["macro_f1"], accuracy=metrics["accuracy"],
                      ia_vs_non_ia=metrics["ia_vs_non_ia"]["accuracy"],
                      f1={c: round(v["f1"], 3) for c, v in metrics["per_class"].items()})
    else:
        metrics = redshift_metrics(predicted, DATA["redshift"][val_rows])
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
    parser.add_argument("--variants", choices=sorted(VARIANTS), default="selection")
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
                                        args.quick, args.variants in FROM_PARAMS))
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
