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
    out, alerts = Path(args.out), params["alerts"]
    result = train_multimodal(load_alert_tables(args.alerts),
                              MultimodalConfig.from_params(section),
                              alerts["min_objects_per_class"],
                              state_dir=Path(args.state_dir) / "train_multimodal",
                              models_dir=out / "models",
                              stamps={"stamp_size": alerts["stamp_size"],
                                      "stamp_normalisation": alerts["stamp_normalisation"]})
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


def cmd_classify_alerts(args) -> None:
    """AppleCiDEr's modes on ZTF alert packets: one answer per object; a bad file or packet is
    reported with its reason and the others still run (exit status 1 after, as ``classify``)."""
    import sys

    from ciderlab.applecider.alerts.packet_files import read_packet_files
    from ciderlab.applecider.classify_alerts import classify_packets, format_alert_answers
    from ciderlab.applecider.ensemble import load_alert_models
    from ciderlab.errors import InputError
    from ciderlab.io import atomic_path

    models = load_alert_models(args.models)
    found = read_packet_files(args.packets)
    for reason in found.refused:
        print(f"ciderlab classify-alerts: refused: {reason}", file=sys.stderr)
    inputs = next(iter(models.ensembles.values())).payloads[0]["inputs"]
    answers = classify_packets(found.packets, models, inputs.get("stamp_size", 63),
                               inputs.get("stamp_normalisation", "l2"))
    text = format_alert_answers(answers, "json" if args.json else "csv" if args.csv else "text")
    if args.out:
        with atomic_path(args.out) as tmp:
            tmp.write_text(text)
        print(f"classify-alerts: {len(answers)} objects from {len(found.packets)} packets "
              f"-> {args.out}")
    else:
        sys.stdout.write(text)
    if found.refused:
        raise InputError(f"{len(found.refused)} files or packets were refused (see above); the "
                         f"{len(found.packets)} others were classified")
