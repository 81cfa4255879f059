"""AppleCiDEr's training stages: ``train_multimodal`` (the alert models, per mode and fold) and
``train_galspecnet`` (paper I's spectra CNN on SpectraNet's folds)."""

from __future__ import annotations

import time
from pathlib import Path

from ciderlab.cli.common import runtime, set_threads


def cmd_train_multimodal(args) -> None:
    from ciderlab.applecider.alerts.tables import load_alert_tables
    from ciderlab.applecider.training import MultimodalConfig, train_multimodal
    from ciderlab.io import save_json, save_table
    from ciderlab.params import load_params

    started = time.perf_counter()
    params = load_params(args.params)
    section = params["train_multimodal"]
    set_threads(section)
    out = Path(args.out)
    result = train_multimodal(load_alert_tables(args.alerts),
                              MultimodalConfig.from_params(section),
                              params["alerts"]["min_objects_per_class"],
                              state_dir=Path(args.state_dir) / "train_multimodal",
                              models_dir=out / "models")
    save_table(result.predictions, out / "predictions.csv")
    save_table(result.routing, out / "routing.csv")
    save_json(result.metrics, out / "metrics.json")
    scores = ", ".join(f"{mode} {m['macro_f1']['mean']:.2f} ± {m['macro_f1']['std']:.2f}"
                       for mode, m in result.metrics["modes"].items())
    print(f"train_multimodal: macro-F1 over {result.metrics['n_folds']} folds: {scores} "
          f"({time.perf_counter() - started:.0f} s) -> {out}")


def cmd_train_galspecnet(args) -> None:
    """GalSpecNet cross-validated on SpectraNet's realised spectra, folds and scored rows."""
    from ciderlab.applecider.galspecnet_training import cross_validate_galspecnet
    from ciderlab.io import load_json, load_spectra, load_table, save_json, save_table, sha256_of
    from ciderlab.params import load_params
    from ciderlab.training.distributed import barrier, is_main

    started = time.perf_counter()
    params = load_params(args.params)
    set_threads(params["train_galspecnet"])
    out, split_dir = Path(args.out), Path(args.split_dir)
    with runtime(args, params) as device:
        predictions, metrics = cross_validate_galspecnet(
            params, load_json(split_dir / "classes.json"), load_spectra(args.spectra, lazy=True),
            load_table(split_dir / "split.csv"), sha256_of(args.spectra),
            Path(args.state_dir), out / "models", device)
        writer = is_main()
        barrier()
    if not writer:
        return
    save_table(predictions, out / "predictions.csv")
    save_json(metrics, out / "metrics.json")
    print(f"train_galspecnet: cross-validated over {metrics['n_folds']} folds: macro-F1 "
          f"{metrics['macro_f1']['mean']:.3f} +- {metrics['macro_f1']['std']:.3f}, accuracy "
          f"{metrics['accuracy']['mean']:.3f}, SN Ia vs non-Ia "
          f"{metrics['ia_vs_non_ia_accuracy']['mean']:.3f} ({time.perf_counter() - started:.0f} s)"
          f" -> {out}")
