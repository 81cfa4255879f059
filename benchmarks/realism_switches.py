"""How realistic is the realisation? The realism AUC of real spectra against realised ones, one
realisation switch at a time.

    python benchmarks/realism_switches.py --out benchmarks/results/realism_switches.jsonl \
        [none=0 noise_pixel_lnwave=0.004 continuum.sky_level=0.05 ...]

A logistic regression is asked to tell the model inputs of the real files in ``real_spectra/``
(no labels used) from those of the fixed fold's test objects realised with params.yaml's
settings and one switch changed (``ciderlab.spectranet.domain_gap.realism_auc``; 0.5 =
indistinguishable), in both frames: the classifier's rest-frame inputs (at the catalogue
redshifts) and the redshift model's observed-frame inputs, where instrument and atmosphere
features stay at one wavelength; and per observed-frame region, how much more the real inputs
scatter than the realised ones (``region_mismatch``, 1 = as much); and the AUC of the
inputs' bin-scale noise alone (``roughness_auc``, rest frame: 0.5 = the same distribution),
which the linear AUCs cannot see. Each AUC is the mean over ``--repeats`` shuffles of the
cross-validation (and of the realised subsample); 62 real spectra leave a fold-to-fold spread of
~0.04. A switch that
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
from ciderlab.spectranet.domain_gap import (OBSERVED_REGIONS_AA, mean_realism_auc,
                                            region_mismatch, roughness_auc)
from ciderlab.spectranet.real_spectra import load_truth, model_inputs
from ciderlab.io import load_table
from ciderlab.params import load_params
from ciderlab.provenance import git_revision
from ciderlab.spectranet.realise import RealiseConfig, realise_dataset

DEFAULT_SWITCHES = ("none=0", "noise_pixel_lnwave=0.003", "noise_pixel_lnwave=0.0045",
                    "noise_pixel_lnwave=0.006", "snr_max=300", "snr_min=20",
                    "host_fraction_max=0.2", "host_fraction_max=0.8",
                    "continuum.sky_level=0.05", "continuum.sky_level=0.8",
                    "continuum.response_amplitude=0.3",
                    "continuum.telluric_depth_max=0.2", "continuum.telluric_depth_max=0.4",
                    "continuum.telluric_depth_max=0.6", "continuum.sky_blue_boost_max=10",
                    "continuum.sky_blue_boost_max=40")


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
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--instrument", default="SED",
                        help="the roughness AUC is also reported for the real files whose "
                        "truth.csv instrument contains this (default: SEDM's, which the "
                        "realisation emulates)")
    args = parser.parse_args()
    params = load_params(args.params)
    base = dataclasses.replace(RealiseConfig.from_resolved(params), n_realisations=1,
                               min_realisations_per_class=0)
    truth = load_truth(args.truth)
    real = model_inputs(truth, Path(args.truth).parent, base.preprocess)
    instrument = truth["instrument"].str.contains(args.instrument, regex=False).to_numpy()
    bank = load_template_bank(args.wheel)
    catalogue = load_table(Path(args.split_dir) / "catalogue.csv")
    split = load_table(Path(args.split_dir) / "split.csv")
    test = split[split["split"] == "test"]
    for spec in args.switches:
        started = time.perf_counter()
        realised, _ = realise_dataset(bank, catalogue, test, switched(base, spec),
                                      progress=False, workers=1)
        record = {"switch": spec, "repeats": args.repeats}
        for frame in ("rest", "obs"):
            auc = mean_realism_auc(real[f"flux_{frame}"], getattr(realised, f"flux_{frame}"),
                                   args.repeats)
            record.update({f"auc_{frame}": auc["auc_mean"],
                           f"auc_{frame}_fold_std": auc["auc_fold_std"],
                           "n_real": auc["n_real"], "n_realised": auc["n_realised"]})
        record["mismatch_obs"] = region_mismatch(
            real["flux_obs"], real["covered_obs"], realised.flux_obs, realised.covered_obs,
            base.wave_obs_aa, OBSERVED_REGIONS_AA)
        record["roughness_rest"] = roughness_auc(real["flux_rest"], real["covered_rest"],
                                                 realised.flux_rest, realised.covered_rest)
        record["roughness_rest_instrument"] = {
            "instrument": args.instrument, "n_real": int(instrument.sum()),
            **roughness_auc(real["flux_rest"][instrument], real["covered_rest"][instrument],
                            realised.flux_rest, realised.covered_rest)}
        record.update(seconds=time.perf_counter() - started, commit=git_revision(),
                      date=time.strftime("%Y-%m-%d"))
        print(f"{spec:36s} realism AUC rest {record['auc_rest']:.3f}, observed frame "
              f"{record['auc_obs']:.3f} (fold spread {record['auc_rest_fold_std']:.3f}, "
              f"{record['auc_obs_fold_std']:.3f}); mismatch " + ", ".join(
                  f"{k} {v:.2f}" for k, v in record["mismatch_obs"].items())
              + f"; roughness AUC {record['roughness_rest']['auc']:.3f} (files of "
              f"{args.instrument}: {record['roughness_rest_instrument']['auc']:.3f})", flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
