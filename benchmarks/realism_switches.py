"""How realistic is the realisation? The realism AUC of real spectra against realised ones, one
realisation switch at a time.

    python benchmarks/realism_switches.py --out benchmarks/results/realism_switches.jsonl \
        [none=0 noise_pixel_lnwave=0.004 continuum.sky_level=0.05 ...]

A logistic regression is asked to tell the classifier's inputs of the real files in
``real_spectra/`` (rest frame at their catalogue redshifts, no labels used) from those of the
fixed fold's test objects realised with params.yaml's settings and one switch changed
(``ciderlab.spectranet.domain_gap.realism_auc``; 0.5 = indistinguishable). A switch that
lowers the AUC beyond its spread over the cross-validation splits points where the realisation
differs from real spectra; it still has to hold up in cross-validation before it is adopted.
Needs a built pipeline (``results/split``, ``data/raw``). One JSON line per switch.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from ciderlab.spectranet.templates import load_template_bank
from ciderlab.spectranet.domain_gap import realism_auc
from ciderlab.spectranet.real_spectra import load_truth, rest_frame_inputs
from ciderlab.io import load_table
from ciderlab.params import load_params
from ciderlab.provenance import git_revision
from ciderlab.spectranet.realise import RealiseConfig, realise_dataset

DEFAULT_SWITCHES = ("none=0", "noise_pixel_lnwave=0.003", "noise_pixel_lnwave=0.0045",
                    "noise_pixel_lnwave=0.006", "snr_max=300", "snr_min=20",
                    "host_fraction_max=0.2", "host_fraction_max=0.8",
                    "continuum.sky_level=0.05", "continuum.sky_level=0.8",
                    "continuum.response_amplitude=0.3")


def switched(base: RealiseConfig, spec: str) -> RealiseConfig:
    """``base`` with one setting changed: ``key=value`` or ``continuum.key=value``."""
    key, value = spec.split("=", 1)
    if key == "none":
        return base
    if key.startswith("continuum."):
        name = key.split(".", 1)[1]
        continuum = dataclasses.replace(
            base.continuum, **{name: type(getattr(base.continuum, name))(value)})
        return dataclasses.replace(base, continuum=continuum)
    return dataclasses.replace(base, **{key: type(getattr(base, key))(value)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("switches", nargs="*", default=DEFAULT_SWITCHES)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--truth", default="real_spectra/truth.csv")
    parser.add_argument("--wheel", default="data/raw/snid_sage-0.9.0-py3-none-any.whl")
    parser.add_argument("--split-dir", default="results/split")
    parser.add_argument("--out", default=None, help="append one JSON line per switch here")
    args = parser.parse_args()
    params = load_params(args.params)
    base = dataclasses.replace(RealiseConfig.from_resolved(params), n_realisations=1,
                               min_realisations_per_class=0)
    truth = load_truth(args.truth)
    real = rest_frame_inputs(truth, Path(args.truth).parent, base.preprocess)
    bank = load_template_bank(args.wheel)
    catalogue = load_table(Path(args.split_dir) / "catalogue.csv")
    split = load_table(Path(args.split_dir) / "split.csv")
    test = split[split["split"] == "test"]
    for spec in args.switches:
        started = time.perf_counter()
        realised, _ = realise_dataset(bank, catalogue, test, switched(base, spec),
                                      progress=False, workers=1)
        auc = realism_auc(real, realised.flux_rest)
        record = {"switch": spec, **auc, "seconds": time.perf_counter() - started,
                  "commit": git_revision(), "date": time.strftime("%Y-%m-%d")}
        print(f"{spec:36s} realism AUC {auc['auc_mean']:.3f} +- {auc['auc_std']:.3f}",
              flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
