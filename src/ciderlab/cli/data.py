"""``ciderlab pull``, ``split``, ``realise``, ``alerts``: raw data in, the datasets every model
trains on out."""

from __future__ import annotations

from pathlib import Path

# Which options each `ciderlab pull <source>` takes (the others belong to another source).
PULL_OPTIONS = {"raw": {"out", "cache_dir", "index_url"},
                "fritz": {"objects", "out", "url", "params", "catalogue"},
                "ztf-alerts": {"night", "out", "url", "programid", "object_ids", "max_packets",
                               "cache_dir", "params"}}


def cmd_pull(args) -> None:
    """``ciderlab pull [raw|fritz|ztf-alerts]``: the raw archives (default) or an online source."""
    from ciderlab.cli import build_parser
    from ciderlab.errors import InputError

    defaults = build_parser().parse_args(["pull", args.source])  # to find options given in vain
    stray = [f"--{k.replace('_', '-')}" for k, v in vars(args).items()
             if k not in PULL_OPTIONS[args.source] | {"source", "command", "func"}
             and v != getattr(defaults, k)]
    if stray:
        raise InputError(f"{', '.join(stray)} does not apply to `ciderlab pull {args.source}`")
    {"raw": _pull_raw, "fritz": _pull_fritz, "ztf-alerts": _pull_ztf_alerts}[args.source](args)


def _pull_raw(args) -> None:
    from ciderlab.data.pull import pull_raw_data

    out = args.out or "data/raw"
    paths = pull_raw_data(Path(out), cache_dir=args.cache_dir, index_url=args.index_url)
    total = sum(p.stat().st_size for p in paths)
    print(f"pull: {len(paths)} archives verified in {out} ({total / 1e6:.1f} MB)")


def _pull_fritz(args) -> None:
    import os

    from ciderlab.data.fritz import (DEFAULT_URL, TOKEN_VARIABLE, pull_fritz, read_object_ids,
                                     summarise)
    from ciderlab.data.online import RetryPolicy
    from ciderlab.errors import InputError
    from ciderlab.params import load_params

    if not args.objects or not args.out:
        raise InputError("`ciderlab pull fritz` needs --objects FILE_OR_IDS and --out DIR")
    section = load_params(args.params)["pull"]
    result = pull_fritz(read_object_ids(args.objects), Path(args.out),
                        os.environ.get(TOKEN_VARIABLE, ""), base_url=args.url or DEFAULT_URL,
                        policy=RetryPolicy.from_params(section),
                        manifest_every=section["manifest_every_objects"])
    print(f"pull fritz: {summarise(result)} -> {args.out}")
    if args.catalogue:
        from ciderlab.data.fritz_catalogue import write_fritz_catalogue

        catalogue = write_fritz_catalogue(Path(args.out))
        print(f"pull fritz: {catalogue.summary()}")
        for obj_id, why in catalogue.skipped.items():
            print(f"  skipped {obj_id}: {why}")


def _pull_ztf_alerts(args) -> None:
    from ciderlab.data.fritz import read_object_ids
    from ciderlab.data.online import RetryPolicy
    from ciderlab.data.pull import default_cache_dir
    from ciderlab.data.ztf_archive import DEFAULT_URL, pull_ztf_alerts
    from ciderlab.errors import InputError
    from ciderlab.params import load_params

    if not args.night or not args.out:
        raise InputError("`ciderlab pull ztf-alerts` needs --night YYYYMMDD and --out DIR")
    params = load_params(args.params)
    alerts = params["alerts"]
    tarball, n_packets, _ = pull_ztf_alerts(
        args.night, Path(args.out), Path(args.cache_dir or default_cache_dir() / "ztf-alerts"),
        base_url=args.url or DEFAULT_URL, programid=args.programid,
        object_ids=read_object_ids(args.object_ids) if args.object_ids else None,
        max_packets=args.max_packets, policy=RetryPolicy.from_params(params["pull"]),
        stamp_size=alerts["stamp_size"], normalisation=alerts["stamp_normalisation"])
    print(f"pull ztf-alerts: {n_packets} alert packets of {tarball.name} -> {args.out}")


def spectra_source(args, params: dict) -> str:
    """``--source`` if given, else params.yaml ``spectra.source`` (the whole section is read:
    a catalogue folder's CSV name is part of the choice)."""
    section = params["spectra"]
    source, _ = section["source"], section["csv"]
    return args.source or source


def cmd_split(args) -> None:
    from ciderlab.io import save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.data.spectra_source import catalogue_csv, is_catalogue
    from ciderlab.spectranet.catalogue_source import build_catalogue_dataset
    from ciderlab.spectranet.dataset import build_dataset
    from ciderlab.spectranet.templates import load_template_bank

    params = load_params(args.params)
    source = spectra_source(args, params)
    if is_catalogue(source):
        csv = catalogue_csv(source, params)
        dataset, made_of = build_catalogue_dataset(csv, params), f"catalogue {csv}"
    else:
        dataset, made_of = build_dataset(load_template_bank(source), params), "template bank"
    out = Path(args.out)
    save_table(dataset.split, out / "split.csv")
    save_table(dataset.catalogue, out / "catalogue.csv")
    save_table(dataset.duplicates, out / "duplicates.csv")
    save_json(dataset.class_info, out / "classes.json")
    counts = dataset.split["fold"].value_counts().sort_index()
    print(f"split: {len(dataset.split)} objects of the {made_of} in {len(dataset.classes)} "
          f"classes, {len(counts)} folds of {counts.min()}-{counts.max()} objects; "
          f"{len(dataset.duplicates)} duplicate names merged; "
          f"dropped classes: {', '.join(dataset.dropped_classes) or 'none'}")


def cmd_realise(args) -> None:
    from ciderlab.io import load_table, save_arrays, save_spectra, save_table
    from ciderlab.params import load_params
    from ciderlab.spectranet.augment import AugmentConfig
    from ciderlab.data.spectra_source import is_catalogue
    from ciderlab.spectranet.catalogue_source import realise_catalogue
    from ciderlab.spectranet.realise import RealiseConfig, realise_dataset
    from ciderlab.spectranet.templates import load_template_bank

    params = load_params(args.params)
    cfg, augment = RealiseConfig.from_resolved(params), AugmentConfig.from_params(params)
    source = spectra_source(args, params)
    bank = None if is_catalogue(source) else load_template_bank(source)  # checked first
    split_dir = Path(args.split_dir)
    catalogue, split = load_table(split_dir / "catalogue.csv"), load_table(split_dir / "split.csv")
    if bank is None:
        realised, examples = realise_catalogue(Path(source), catalogue, split, cfg.preprocess,
                                               augment)
        made = (f"{len(realised.meta)} spectra ({augment.n_variants} variants of each of "
                f"{realised.meta['template'].nunique()} catalogue files)")
    else:
        realised, examples = realise_dataset(
            bank, catalogue, split, cfg,
            params["realise"].get("max_spectra_per_object"),
            workers=params["realise"].get("workers", 0))
        made = (f"{len(realised.meta)} SEDM-like spectra from "
                f"{realised.meta[['template', 'epoch']].drop_duplicates().shape[0]} templates")
    out = Path(args.out)
    save_spectra(realised, out / "spectra.h5")
    save_table(realised.meta, out / "meta.csv")
    save_arrays(examples, out / "examples.npz")
    print(f"realise: {made} ({cfg.preprocess.n_bins} bins, continuum: "
          f"{cfg.preprocess.continuum}) -> {out / 'spectra.h5'}")


def cmd_alerts(args) -> None:
    from tqdm import tqdm

    from ciderlab.applecider.alerts.archive import iter_packets, read_archive_alerts
    from ciderlab.applecider.alerts.tables import (label_objects, load_alert_tables,
                                                   packets_to_tables, save_alert_tables,
                                                   summarise_alert_tables)
    from ciderlab.data.bts_labels import read_bts_labels
    from ciderlab.io import save_json
    from ciderlab.params import load_params

    section = load_params(args.params)["alerts"]
    source = Path(args.source)
    if source.is_dir():  # a night `ciderlab pull ztf-alerts` wrote: its tables as they are
        tables = load_alert_tables(source)
    else:
        alert_files = read_archive_alerts(source, section["files"])
        packets = tqdm(iter_packets(alert_files),
                       total=sum(t.num_rows for t in alert_files.values()),
                       desc="alerts", unit="alert")
        tables = packets_to_tables(packets, stamp_size=section["stamp_size"],
                                   normalisation=section["stamp_normalisation"])
    labels_from = "the packets' SIMBAD cross-match"
    if args.labels != "simbad":
        labels = read_bts_labels(args.labels)
        tables = label_objects(tables, labels)
        labels_from = f"{args.labels} ({labels['label'].notna().sum()} of {len(labels)} rows "
        labels_from += "in the paper's groups)"
    out = Path(args.out)
    save_alert_tables(tables, out)
    summary = summarise_alert_tables(tables, section["min_objects_per_class"])
    summary["source"], summary["labels"] = str(source), labels_from
    save_json(summary, out / "summary.json")
    print(f"alerts: {summary['alerts']} alerts of {summary['objects']} objects, "
          f"{summary['detections']} detections + {summary['upper_limits']} upper limits, "
          f"{summary['stamps']} stamps ({summary['edge_of_chip_alerts']} alerts at a chip edge, "
          f"{summary['stamps_with_nan']} stamps with NaN); labels from {labels_from}; trained "
          f"classes: {', '.join(summary['trained_classes']) or 'none'} -> {out}")
