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
    the exit status 1 after the rest are done.
    """
    from tqdm import tqdm

    from ciderlab.errors import InputError
    from ciderlab.io import atomic_path
    from ciderlab.params import load_params
    from ciderlab.spectranet.answer import format_answers
    from ciderlab.spectranet.classify import classify_file
    from ciderlab.spectranet.shipped import load_models

    params = load_params(args.params) if Path(args.params).exists() else None
    reliability = args.reliability
    if reliability == paths.RELIABILITY and not Path(reliability).exists():
        reliability = None  # not built yet: uncalibrated answers, said in the output
    models = load_models(args.classifier, args.redshift_model, params, reliability)
    results, failures = {}, []
    for path in tqdm(args.files, desc="classify", unit="file", disable=len(args.files) < 2,
                     file=sys.stderr):
        try:
            spectrum, result = classify_file(path, models, redshift=args.redshift)
        except InputError as error:
            failures.append(str(error))
            if len(args.files) > 1:
                tqdm.write(f"ciderlab classify: error: {error}", file=sys.stderr)
            continue
        results[path] = result
        if args.plot:
            from ciderlab.evaluation.figures.classified import fig_classified_spectrum

            fig = fig_classified_spectrum(spectrum.wave_aa, spectrum.flux, result, Path(path).name)
            with atomic_path(Path(args.plot) / f"{Path(path).name}.png") as tmp:
                fig.savefig(tmp, format="png", dpi=100)
    if not results:
        raise InputError(failures[0] if len(failures) == 1 else
                         f"none of the {len(failures)} files could be classified (see above)")
    text = format_answers(results, "json" if args.json else "csv" if args.csv else "text")
    if args.out:
        with atomic_path(args.out) as tmp:
            tmp.write_text(text)
    else:
        sys.stdout.write(text)
    if failures:
        raise InputError(f"{len(failures)} of {len(args.files)} files could not be classified "
                         f"(see above); the other {len(results)} were"
                         + (f" -> {args.out}" if args.out else ""))
    if args.out:
        print(f"classify: {len(results)} spectra classified -> {args.out}")


def cmd_export(args) -> None:
    from ciderlab.errors import InputError
    from ciderlab.io import atomic_path, save_json
    from ciderlab.spectranet.export import export_pair

    if not args.onnx:
        raise InputError("name the format to export to: --onnx (the only one so far)")
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
