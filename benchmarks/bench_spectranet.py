"""Performance of the pipeline's hot spots, measured in one run: SpectraNet plain vs fast, realise, classify, dvc.

    .venv/bin/python benchmarks/bench_spectranet.py [--quick] [--device auto|cpu|cuda] [--threads N]

The one entry point for performance numbers (issue 12). It prints:

* SpectraNet, profiles ``paper`` and ``default`` (params.yaml), ``conv="direct"`` (plain
  nn.Conv1d branches, the reference) against ``conv="fft"`` (the long kernels through the FFT,
  src/ciderlab/spectranet/fft_conv.py; same weights, same results up to rounding): training
  spectra/s (forward + backward + AdamW step; bf16 autocast on CUDA, as the training loop
  does), inference spectra/s (eval, no_grad), peak memory, and the fast/plain ratios. Each
  measurement runs in a fresh subprocess, so its peak memory is its own: on CPU the growth of
  the subprocess's peak RSS (ru_maxrss) over its size before the model was built, on CUDA
  ``torch.cuda.max_memory_allocated``. Batches: paper 8 (the paper trains at 256, far too slow
  for the plain model on CPU), default 64 (params.yaml's training batch).
* ``realise``: seconds per 1,000 SEDM-like spectra (the library's ``realise_spectra`` on the
  SNID-SAGE templates from data/raw; skipped if the wheel is absent).
* ``ciderlab classify`` latency for one spectrum file, if the trained checkpoints exist.
* a no-op ``dvc repro`` wall time, if ``dvc status`` says the pipeline is up to date.

Rates are best-of-repeats (shared machines only ever slow a step down); ratios within one run
are what to compare across machines. A line describing the machine comes first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import yaml

from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.params import resolve_params

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WHEEL = ROOT / "data/raw/snid_sage-0.9.0-py3-none-any.whl"
BATCH = {"paper": 8, "default": 64}
# On a GPU the paper's own batch (256) and a large default batch: small batches there measure
# kernel-launch overhead, not the model.
BATCH_CUDA = {"paper": 256, "default": 1024}


def batches(device: str) -> dict:
    return BATCH_CUDA if str(device).startswith("cuda") else BATCH


def profile_config(profile: str) -> SpectraNetConfig:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = resolve_params({**raw, "profile": profile})
    return SpectraNetConfig(n_bins=params["grid"]["n_bins"], n_outputs=8, **params["model"])


def measure_model(profile: str, conv: str, device: str, batch: int, repeats: int) -> dict:
    """Training and inference rates and peak memory of one model (run in its own process)."""
    device = torch.device(device)
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.manual_seed(0)
    model = SpectraNet(replace(profile_config(profile), conv=conv)).to(device)
    optimizer = torch.optim.AdamW(model.parameters())
    flux = torch.randn(batch, model.config.n_bins, device=device)  # (B, L)
    target = torch.randint(0, 8, (batch,), device=device)
    train_s, infer_s = [], []
    for step in range(repeats + 1):  # step 0 warms up allocators and kernels
        model.train()
        sync()
        started = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss = torch.nn.functional.cross_entropy(model(flux), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync()
        train_s.append(time.perf_counter() - started)
        model.eval()
        with torch.no_grad():
            started = time.perf_counter()
            model(flux)
            sync()
            infer_s.append(time.perf_counter() - started)
    if cuda:
        peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
    else:  # ru_maxrss is in KiB on Linux
        peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_kib) / 1024
    return {"train": batch / min(train_s[1:]), "infer": batch / min(infer_s[1:]),
            "peak_mib": peak_mib}


def measure_in_subprocess(profile: str, conv: str, device: str, repeats: int,
                          threads: int | None) -> dict:
    command = [sys.executable, __file__, "--measure", profile, conv, device,
               str(batches(device)[profile]), str(repeats)] + (["--threads", str(threads)] if threads else [])
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_realise(n_spectra: int) -> str:
    """Seconds per 1,000 realised spectra, one process, on real templates."""
    if not WHEEL.exists():
        return f"skipped: {WHEEL.relative_to(ROOT)} absent (run `ciderlab pull`)"
    import pandas as pd

    from ciderlab.spectranet.templates import load_template_bank
    from ciderlab.params import load_params
    from ciderlab.spectranet.realise import RealiseConfig, realise_spectra

    cfg = RealiseConfig.from_resolved(load_params(ROOT / "params.yaml"))
    bank = load_template_bank(WHEEL)
    hosts = [s for s in bank.spectra if s.sn_type == "Galaxy"]
    window = (bank.wave_rest_aa >= cfg.wave_rest_aa[0]) & (bank.wave_rest_aa <= cfg.wave_rest_aa[-1])
    # Supernova templates that cover most of the rest-frame window, as the split keeps.
    spectra = [s for s in bank.spectra if s.sn_type.startswith("I")
               and np.mean(s.flux[window] != 0) > 0.8][:n_spectra]
    labels = pd.DataFrame({"object_id": [s.name for s in spectra],
                           "label": [s.sn_type for s in spectra]})
    counts = np.ones(len(spectra), dtype=int)
    started = time.perf_counter()
    realise_spectra(bank.wave_rest_aa, spectra, labels, hosts, cfg, counts, progress=False)
    seconds = time.perf_counter() - started
    return f"{1000 * seconds / len(spectra):.1f} s per 1,000 spectra ({len(spectra)} timed)"


def bench_classify() -> str:
    """Wall time of `ciderlab classify` on one ASCII spectrum, start-up included."""
    checkpoints = [ROOT / "results/train_classifier/classifier.pt",
                   ROOT / "results/train_redshift/redshift.pt"]
    missing = [str(p.relative_to(ROOT)) for p in checkpoints if not p.exists()]
    if missing:
        return f"skipped: no trained checkpoints ({', '.join(missing)}; run `dvc repro`)"
    with tempfile.TemporaryDirectory() as tmp:
        wave_aa = np.linspace(3800, 9200, 300)
        flux = 1 + 0.2 * np.sin(wave_aa / 300) + 0.02 * np.random.default_rng(0).normal(size=300)
        path = Path(tmp) / "spectrum.txt"
        np.savetxt(path, np.column_stack([wave_aa, flux]))
        started = time.perf_counter()
        run = subprocess.run([str(BIN / "ciderlab"), "classify", str(path)], cwd=ROOT,
                             capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if run.returncode:
        return f"failed (exit {run.returncode}): {run.stderr.strip().splitlines()[-1:]}"
    return f"{seconds:.2f} s for one file (process start-up and model loading included)"


def bench_dvc_noop() -> str:
    if not (BIN / "dvc").exists():
        return f"skipped: no {BIN / 'dvc'} (run `make env`)"
    status = subprocess.run([str(BIN / "dvc"), "status", "-q"], cwd=ROOT, capture_output=True)
    if status.returncode:
        return "skipped: `dvc status` is not clean (the pipeline is not up to date here)"
    started = time.perf_counter()
    subprocess.run([str(BIN / "dvc"), "repro"], cwd=ROOT, check=True, capture_output=True)
    return f"{time.perf_counter() - started:.1f} s"


def machine_line(device: str) -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = f", {torch.cuda.get_device_name()}" if device == "cuda" else ""
    return (f"machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, device {device}{gpu}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and realised spectra (about 3 minutes on 2 cores)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's, one per core). On a machine "
                             "shared with other jobs, 1 gives steadier ratios: two threads "
                             "waiting on each other for a busy core slow some steps 10x")
    parser.add_argument("--measure", nargs=5, help=argparse.SUPPRESS)  # the subprocess
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.measure:
        profile, conv, device, batch, repeats = args.measure
        print(json.dumps(measure_model(profile, conv, device, int(batch), int(repeats))))
        return
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" \
        else args.device
    repeats = 2 if args.quick else 4
    print(machine_line(device), flush=True)
    print(f"{'profile':8} {'conv':7} {'batch':>5} {'train/s':>9} {'infer/s':>9} {'peak MiB':>9}")
    ratios = []
    for profile in ("paper", "default"):
        rows = {}
        for conv in ("direct", "fft"):
            rows[conv] = row = measure_in_subprocess(profile, conv, device, repeats,
                                                     args.threads)
            print(f"{profile:8} {conv:7} {batches(device)[profile]:5d} {row['train']:9.1f} "
                  f"{row['infer']:9.1f} {row['peak_mib']:9.0f}", flush=True)
        ratios.append((profile, *(rows["fft"][key] / rows["direct"][key]
                                  for key in ("train", "infer", "peak_mib"))))
    print(f"\nfast/plain  {'train':>6} {'infer':>6} {'memory':>7}")
    for profile, train, infer, memory in ratios:
        print(f"{profile:10} {train:6.2f}x {infer:5.2f}x {memory:6.2f}x")
    print(f"\nrealise: {bench_realise(100 if args.quick else 300)}", flush=True)
    print(f"classify: {bench_classify()}", flush=True)
    print(f"no-op dvc repro: {bench_dvc_noop()}")


if __name__ == "__main__":
    main()
