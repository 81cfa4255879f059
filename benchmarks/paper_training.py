"""One paper-profile SpectraNet classifier run on a GPU: throughput and what it reaches.

    python benchmarks/paper_training.py --data paper.npz [--epochs 40] [--device auto]

The paper profile (4096 bins, 25 M parameters, the authors' recipe: batch 256, lr 1.6e-4,
10 warm-up epochs, bf16 autocast on GPU) on a realised set written by ``--write-data`` from a
``realise`` output at the paper grid (``profile: paper``):

    python benchmarks/paper_training.py --write-data results/realise/spectra.h5 \
        --split-dir results/split --data paper.npz

The npz holds the training and validation rows only, the rest-frame flux in float16 (a set
small enough to carry to a GPU machine). Prints one line per epoch (seconds, training spectra
per second, validation macro-F1) and a JSON summary; ``--summary`` writes it to a file.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from ciderlab.params import resolve_params
from ciderlab.device import resolve_device
from ciderlab.data.labels import class_indices
from ciderlab.training.heads import CLASSIFIER
from ciderlab.training.runs import model_config_from_params, recipe_from_params, train_one

ROOT = Path(__file__).resolve().parents[1]


def write_data(spectra_path: Path, split_dir: Path, out: Path) -> None:
    """The train and validation rows of a paper-grid realised set, as a compact npz."""
    from ciderlab.io import load_json, load_spectra

    spectra = load_spectra(spectra_path)
    keep = spectra.meta["split"].isin(["train", "val"]).to_numpy()
    classes = load_json(split_dir / "classes.json")["classes"]
    meta = spectra.meta[keep]
    np.savez_compressed(out, flux_rest=spectra.flux_rest[keep].astype(np.float16),
                        label=meta["label"].to_numpy(str), split=meta["split"].to_numpy(str),
                        classes=np.array(classes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--write-data", type=Path, help="a realised spectra.h5 at the paper grid")
    parser.add_argument("--split-dir", type=Path, default=ROOT / "results/split")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--conv", default=None, help="override the model's convolution path")
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    if args.write_data:
        write_data(args.write_data, args.split_dir, args.data)
        print(f"wrote {args.data}")
        return

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = resolve_params({**raw, "profile": "paper"})
    data = np.load(args.data)
    classes = [str(c) for c in data["classes"]]
    flux = data["flux_rest"].astype(np.float32)  # (N, 4096)
    split = data["split"]
    present = [c for c in classes if c in set(data["label"])]
    target = torch.as_tensor(class_indices(pd.Series(data["label"]), present))
    model_config = model_config_from_params(
        params, CLASSIFIER, present, {"conv": args.conv} if args.conv else None)
    cfg = recipe_from_params(params, "train_classifier", {"max_epochs": args.epochs,
                                                          "patience": args.epochs})
    device = resolve_device(args.device)
    train_rows, val_rows = np.flatnonzero(split == "train"), np.flatnonzero(split == "val")
    print(f"paper profile on {device} "
          f"({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}): "
          f"{len(train_rows)} training, {len(val_rows)} validation spectra, "
          f"{len(present)} classes, batch {cfg.batch_size}, {args.epochs} epochs")
    started = time.perf_counter()
    trained = train_one(CLASSIFIER, flux, target, train_rows, val_rows, model_config, cfg,
                        data_id=str(args.data), progress=True, device=device)
    wall = time.perf_counter() - started
    for row in trained.history:
        print(f"epoch {row['epoch']:3d}  {row['seconds']:6.1f} s  "
              f"{len(train_rows) / row['seconds']:8.0f} spectra/s (incl. validation)  "
              f"val macro-F1 {row['val_macro_f1']:.3f}  accuracy {row['val_accuracy']:.3f}")
    seconds = sorted(row["seconds"] for row in trained.history)
    summary = {"device": str(device), "classes": present, "n_train": int(len(train_rows)),
               "n_val": int(len(val_rows)), "epochs": trained.epochs_run,
               "wall_s": wall, "median_epoch_s": seconds[len(seconds) // 2],
               "train_spectra_per_s": len(train_rows) / seconds[len(seconds) // 2],
               "best_epoch": trained.best_epoch, "best_val_macro_f1": trained.best_score,
               "peak_gpu_memory_gb": (torch.cuda.max_memory_allocated(device) / 1e9
                                      if device.type == "cuda" else None),
               "conv": model_config.to_dict().get("conv")}
    print(json.dumps(summary, indent=1))
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
