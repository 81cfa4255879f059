"""What users run on the trained models: ``classify`` (their own spectrum files), ``export``
(ONNX for alert brokers), and ``measured`` (the README's table of measured figures)."""

from __future__ import annotations

import sys
from pathlib import Path

from ciderlab import paths


def cmd_classify(args) -> None:
    """Classify spectrum files; a file that fails is reported and the others still run.

    Output (stdout, or ``--out``): one line per file (text), ``--csv`` or ``--json``; only the
    files that were classified appear, and nothing is written when none was. Any failure makes
    the exit status 1 after the rest are done. With ``--catalogue`` the files are the
    catalogue's, each at its own redshift, and each answer also carries the catalogue's
    ``object``, ``true_class`` (its class string) and ``true_label`` (our class for it, or none).
    """
    from tqdm import tqdm

    from ciderlab.errors import InputError
    from ciderlab.io import atomic_path
    from ciderlab.params import load_params
    from ciderlab.spectranet.answer import format_answers
    from ciderlab.spectranet.classify import classify_file
    from ciderlab.spectranet.shipped import load_models

    jobs, about = _classify_jobs(args)
    params = load_params(args.params) if Path(args.params).exists() else None
    reliability = args.reliability
    if reliability == paths.RELIABILITY and not Path(reliability).exists():
        reliability = None  # not built yet: uncalibrated answers, said in the output
    models = load_models(args.classifier, args.redshift_model, params, reliability)
    results, failures = {}, []
    for name, path, redshift in tqdm(jobs, desc="classify", unit="file", disable=len(jobs) < 2,
                                     file=sys.stderr):
        try:
            spectrum, result = classify_file(path, models, redshift=redshift)
        except InputError as error:
            failures.append(str(error))
            if len(jobs) > 1:
                tqdm.write(f"ciderlab classify: error: {error}", file=sys.stderr)
            continue
        results[name] = result
        if args.plot:
            from ciderlab.evaluation.figures.classified import fig_classified_spectrum

            fig = fig_classified_spectrum(spectrum.wave_aa, spectrum.flux, result, Path(path).name)
            with atomic_path(Path(args.plot) / f"{Path(path).name}.png") as tmp:
                fig.savefig(tmp, format="png", dpi=100)
    if not results:
        raise InputError(failures[0] if len(failures) == 1 else
                         f"none of the {len(failures)} files could be classified (see above)")
    text = format_answers(results, "json" if args.json else "csv" if args.csv else "text",
                          about)
    if args.out:
        with atomic_path(args.out) as tmp:
            tmp.write_text(text)
    else:
        sys.stdout.write(text)
    if failures:
        raise InputError(f"{len(failures)} of {len(jobs)} files could not be classified "
                         f"(see above); the other {len(results)} were"
                         + (f" -> {args.out}" if args.out else ""))
    if args.out:
        print(f"classify: {len(results)} spectra classified -> {args.out}")


def _classify_jobs(args) -> tuple[list[tuple[str, str, float | None]], dict[str, dict]]:
    """What ``classify`` runs: (name in the output, path, known redshift or None) per file, and
    per name what a ``--catalogue`` says of it (object, true class and its label), else {}."""
    import math

    import pandas as pd

    from ciderlab.errors import InputError

    if args.catalogue is None:
        if not args.files:
            raise InputError("name the spectrum files to classify, or a catalogue of them "
                             "(--catalogue CSV)")
        return [(f, f, args.redshift) for f in args.files], {}
    if args.files:
        raise InputError(f"give the spectrum files either on the command line or in "
                         f"--catalogue {args.catalogue}, not both (here {len(args.files)} on the "
                         "command line): add them to the catalogue, or classify them apart")
    if args.redshift is not None:
        raise InputError(f"--redshift does not go with --catalogue: the catalogue's redshift "
                         f"column gives each file its own (leave a cell empty to predict it); "
                         f"edit {args.catalogue}, or drop --catalogue")
    from ciderlab.data.spectra_catalogue import label_summary, read_spectra_catalogue

    table = read_spectra_catalogue(args.catalogue)
    print(f"classify: catalogue {args.catalogue}: {label_summary(table)}", file=sys.stderr)
    jobs = [(r["file"], r["path"], None if math.isnan(r["redshift"]) else float(r["redshift"]))
            for r in table.to_dict("records")]
    about = {r["file"]: {"object": r["object"], "true_class": r["class"],
                         "true_label": None if pd.isna(r["label"]) else r["label"]}
             for r in table.to_dict("records")}
    return jobs, about


def cmd_export(args) -> None:
    from ciderlab.errors import InputError
    from ciderlab.io import atomic_path, save_json
    from ciderlab.spectranet.export import export_pair

    if not args.onnx:
        raise InputError("name the format to export to: --onnx (the only one so far)")
    if args.alerts:
        _export_alerts(args)
        return
    exported = export_pair(args.classifier, args.redshift)
    out = Path(args.out)  # written only once both models exported and checked
    for head, (proto, description) in exported.items():
        with atomic_path(out / f"{head}.onnx") as tmp:
            tmp.write_bytes(proto.SerializeToString())
        save_json(description, out / f"{head}.json")
    diffs = {h: max(d["check"]["max_abs_diff"].values()) for h, (_, d) in exported.items()}
    print(f"export: classifier and redshift model -> ONNX opset "
          f"{exported['classifier'][1]['opset']} with JSON sidecars in {out} (ONNX Runtime vs "
          f"torch: max |diff| {diffs['classifier']:.1e} and {diffs['redshift']:.1e})")


def _export_alerts(args) -> None:
    """AppleCiDEr's fused mode to ONNX, refused unless ONNX Runtime agrees with torch."""
    from ciderlab.applecider.ensemble import FUSED_MODE, load_alert_models
    from ciderlab.applecider.export import (alert_sidecar, check_alert_agreement,
                                            export_alert_onnx, probe_arrays)
    from ciderlab.io import atomic_path, save_json

    ensemble = load_alert_models(args.alert_models, modes=(FUSED_MODE,)).ensembles[FUSED_MODE]
    proto = export_alert_onnx(ensemble)
    description = alert_sidecar(ensemble)
    diff = check_alert_agreement(proto, ensemble, probe_arrays(), args.alert_models)
    description["check"] = {"inputs": "4 random alerts (N(0, 1) events and metadata, 20% "
                            "missing), ONNX Runtime (CPU) vs torch", "max_abs_diff": diff}
    out = Path(args.out)
    with atomic_path(out / f"applecider_{FUSED_MODE}.onnx") as tmp:
        tmp.write_bytes(proto.SerializeToString())
    save_json(description, out / f"applecider_{FUSED_MODE}.json")
    print(f"export: AppleCiDEr's {FUSED_MODE} mode ({len(ensemble.models)} fold models, "
          f"{len(ensemble.classes)} classes) -> ONNX opset {description['opset']} with a JSON "
          f"sidecar in {out} (ONNX Runtime vs torch: max |diff| {diff:.1e})")


def cmd_measured(args) -> None:
    from ciderlab import measured
    from ciderlab.errors import InputError
    from ciderlab.provenance import git_revision

    root = Path(args.root)
    if args.write:
        readme = measured.write(root, args.results, args.commit or git_revision(root))
        print(f"measured: {root / measured.SNAPSHOT} and the table in {readme} written from "
              f"{args.results}")
        return
    if not measured.is_current(root):
        raise InputError(f"{root / 'README.md'}: its measured table is not what "
                         f"{measured.SNAPSHOT} and {measured.TIMINGS} say; run "
                         "`ciderlab measured --write` after a full `make`")
    print("measured: the README's table is what the records say")
