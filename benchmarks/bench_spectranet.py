"""Training throughput of SpectraNet profiles, as ratios to the paper profile measured in the
same run (absolute times on shared machines are noise; ratios are not).

    .venv/bin/python benchmarks/bench_spectranet.py [--repeats 3]

Prints spectra per second (forward + backward + AdamW step) for each profile and its speed-up
over the paper profile (4096 bins, 64..1024 channels), plus MACs per spectrum.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml

from ciderlab.models.spectranet import SpectraNet, SpectraNetConfig, count_macs, count_parameters
from ciderlab.params import resolve_params

ROOT = Path(__file__).resolve().parents[1]


def profile_config(profile: str) -> SpectraNetConfig:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = resolve_params({**raw, "profile": profile})
    return SpectraNetConfig(n_bins=params["grid"]["n_bins"], n_outputs=8, **params["model"])


def spectra_per_second(config: SpectraNetConfig, batch: int, repeats: int) -> float:
    torch.manual_seed(0)
    model = SpectraNet(config)
    optimizer = torch.optim.AdamW(model.parameters())
    flux, target = torch.randn(batch, config.n_bins), torch.randint(0, 8, (batch,))
    times = []
    for step in range(repeats + 1):
        started = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(flux), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step:  # the first step warms up allocators and kernels
            times.append(time.perf_counter() - started)
    return batch / min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for profile, batch in (("paper", 8), ("default", 64), ("smoke", 64)):
        config = profile_config(profile)
        rows.append((profile, config, spectra_per_second(config, batch, args.repeats)))
    reference = rows[0][2]
    print(f"{'profile':8} {'bins':>5} {'params':>10} {'MMAC':>8} {'spectra/s':>10} {'x paper':>8}")
    for profile, config, rate in rows:
        print(f"{profile:8} {config.n_bins:5d} {count_parameters(SpectraNet(config)):10,d} "
              f"{count_macs(config) / 1e6:8.1f} {rate:10.1f} {rate / reference:8.1f}")


if __name__ == "__main__":
    main()
