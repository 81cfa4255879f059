"""How far SpectraNet's answers can be trusted, and how they compare: ``reliability``,
``baselines`` (SNID-SAGE on realised spectra), ``snid_real_spectra`` and ``real_spectra``."""

from __future__ import annotations

from pathlib import Path


def cmd_reliability(args) -> None:
    from ciderlab.checkpoint import load_checkpoint
    from ciderlab.io import load_json, load_spectra, load_table, save_arrays, save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.data.spectra_source import is_catalogue
    from ciderlab.spectranet.dataset import bank_catalogue
    from ciderlab.spectranet.reliability_stage import reliability_stage
    from ciderlab.spectranet.templates import load_template_bank

    params = load_params(args.params)
    split_dir, out = Path(args.split_dir), Path(args.out)
    cv = {f"{head}_{split}": load_table(Path(folder) / name)
          for head, folder in (("classifier", args.classifier_cv), ("redshift", args.redshift_cv))
          for split, name in (("val", "val_predictions.csv"), ("test", "predictions.csv"))}
    bank, catalogue = load_template_bank(args.wheel), load_table(split_dir / "catalogue.csv")
    if is_catalogue(params["spectra"]["source"]):  # the out-of-class objects: still the bank's
        catalogue = bank_catalogue(bank, params)
    result = reliability_stage(
        params, load_json(split_dir / "classes.json")["classes"],
        load_spectra(args.spectra, lazy=True), catalogue, bank,
        load_checkpoint(args.classifier)[0], cv)
    save_arrays(result.fits, out / "out_of_class_fits.npz")
    save_json(result.settings, out / "reliability.json")
    for name, table in result.tables.items():
        save_table(table, out / f"{name}.csv")
    save_json(result.metrics, out / "metrics.json")
    calibration, ood = result.metrics["calibration"], result.metrics["none_of_these"]
    interval = result.metrics["redshift_interval"]
    print(f"reliability: ECE {calibration['ece_before']:.3f} -> {calibration['ece_after']:.3f} "
          f"({calibration['method']}, cross-validated); none of these ({ood['score']}) AUROC {ood['auroc']:.3f}; "
          f"{100 * params['reliability']['interval_level']:.0f}% redshift intervals cover "
          f"{100 * interval['coverage']:.1f}% -> {out}")


def _installed_snid_sage(args) -> Path:
    """SNID-SAGE installed from ``--wheel`` into ``--install-dir`` (default: the user cache)."""
    from ciderlab.data.pull import default_cache_dir
    from ciderlab.spectranet.snid.install import install_snid_sage

    return install_snid_sage(args.wheel, Path(args.install_dir or default_cache_dir())
                             / "snid_sage-0.9.0")


def cmd_snid_real_spectra(args) -> None:
    import tempfile

    from ciderlab.io import save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.spectranet.real_spectra import load_truth
    from ciderlab.spectranet.snid.real_files import run_on_files
    from ciderlab.workers import resolve_workers

    params = load_params(args.params)
    section = params["snid_real_spectra"]
    truth = load_truth(args.truth).head(section["max_files"] or None)
    install_dir = _installed_snid_sage(args)
    with tempfile.TemporaryDirectory(prefix="ciderlab-snid-real-") as work:
        table, timing = run_on_files(
            truth, Path(args.truth).parent, install_dir, Path(work), section["redshift_min"],
            section["redshift_max"], tuple(params["labels"]["classes"]),
            resolve_workers(section["workers"], "snid_real_spectra.workers"))
    out = Path(args.out)
    save_table(table, out / "answers.csv")
    save_json(timing, out / "timing.json")
    print(f"snid_real_spectra: {truth.shape[0]} real files matched with and without their "
          f"catalogue redshift -> {out}")


def cmd_real_spectra(args) -> None:
    from ciderlab.io import load_spectra, load_table, save_arrays, save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.spectranet.real_spectra import load_truth, real_spectra_stage
    from ciderlab.spectranet.shipped import load_models

    params = load_params(args.params)
    truth = load_truth(args.truth).head(params["real_spectra"]["max_files"] or None)
    models = load_models(args.classifier, args.redshift, params, args.reliability)
    ours, inputs, metrics = real_spectra_stage(params, truth, Path(args.truth).parent, models,
                                               load_table(args.snid),
                                               load_spectra(args.spectra, lazy=True))
    out = Path(args.out)
    save_table(ours, out / "predictions.csv")
    save_arrays(inputs, out / "inputs.npz")
    save_json(metrics, out / "metrics.json")
    cat, pred = metrics["ours"]["catalogue"], metrics["ours"]["predicted"]
    print(f"real_spectra: {metrics['n_files']} files ({metrics['n_unreadable']} unreadable); "
          f"type accuracy {cat['accuracy']:.2f} with the catalogue redshift, "
          f"{pred['accuracy']:.2f} with the predicted one (median |dz|/(1+z) "
          f"{pred['median_dz']:.4f}) -> {out}")


def cmd_snid_realised_spectra(args) -> None:
    """SNID-SAGE on a class-balanced subset of the realised test spectra (no model needed)."""
    import tempfile

    from ciderlab.io import load_json, load_spectra, save_arrays, save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.spectranet.realise import RealiseConfig
    from ciderlab.spectranet.snid.compare import snid_on_test_subset
    from ciderlab.workers import resolve_workers

    params = load_params(args.params)
    section = params["baselines"]
    install_dir = _installed_snid_sage(args)
    with tempfile.TemporaryDirectory(prefix="ciderlab-snid-") as work:
        table, timing, arrays = snid_on_test_subset(
            load_spectra(args.spectra, lazy=True),  # only the chosen rows are read
            load_json(Path(args.split_dir) / "classes.json")["classes"],
            RealiseConfig.from_resolved(params), install_dir, work, section["n_spectra"],
            section["seed"], workers=resolve_workers(section["workers"], "baselines.workers"))
    out = Path(args.out)
    save_table(table, out / "answers.csv")
    save_arrays(arrays, out / "spectra.npz")
    save_json(timing, out / "timing.json")
    print(f"snid_realised_spectra: {len(table)} test spectra, {timing['snid_sage_ok']} answered "
          f"by SNID-SAGE ({timing['snid_sage_spectra_per_second']:.3f} spectra/s on 1 thread) "
          f"-> {out}")


def cmd_baselines(args) -> None:
    """SpectraNet on the spectra SNID-SAGE answered, timed alike, and both scored."""
    from ciderlab.checkpoint import load_checkpoint
    from ciderlab.io import load_json, load_spectra, load_table, save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.spectranet.realise import RealiseConfig
    from ciderlab.spectranet.snid.compare import compare_with_snid_sage

    params = load_params(args.params)
    classifier, checkpoint = load_checkpoint(args.classifier)
    redshift_model, _ = load_checkpoint(args.redshift)
    snid = Path(args.snid)
    table, timing, metrics, _ = compare_with_snid_sage(
        load_spectra(args.spectra, lazy=True), load_table(snid / "answers.csv"),
        load_json(snid / "timing.json"), classifier, redshift_model, checkpoint["classes"],
        RealiseConfig.from_resolved(params))
    out = Path(args.out)
    save_table(table, out / "comparison.csv")
    save_json(timing, out / "timing.json")
    save_json(metrics, out / "metrics.json")
    net, snid_scores = metrics["spectranet"], metrics["snid_sage"]
    print(f"baselines: {len(table)} test spectra, accuracy SpectraNet {net['accuracy']:.3f} vs "
          f"SNID-SAGE {snid_scores['accuracy']:.3f}; on 1 thread each "
          f"{net['spectra_per_second']:.0f} vs {snid_scores['spectra_per_second']:.3f} "
          f"spectra/s -> {out}")
