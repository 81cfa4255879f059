"""dvc.yaml's ``params:`` lists from what each stage's command read (``ciderlab.params_read``).

Run the pipeline with ``CIDERLAB_PARAMS_READ=<folder>`` (the smoke test does, and checks the
result against dvc.yaml), then ``python -m tools.provenance_params --write <folder>`` rewrites
each CLI stage's ``params:`` as ``profile``, ``profiles`` (the active profile can change any
value) and the keys its command read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from ciderlab.io import atomic_path

REPO_ROOT = Path(__file__).resolve().parents[1]
ALWAYS = ("profile", "profiles")


def stage_params(read: list[str]) -> list[str]:
    """The params list of a stage whose command read ``read``."""
    return [*ALWAYS, *sorted(read)]


def write_params(dvc_yaml: Path, reads: Path) -> list[str]:
    """Rewrite the ``params:`` list of every stage with a record in ``reads``; returns them."""
    lines = dvc_yaml.read_text().split("\n")
    out, stage, written, skipping = [], None, [], False
    for line in lines:
        match = re.match(r"^  (\w+):\s*$", line)
        if match:
            stage = match.group(1)
        if skipping:
            if re.match(r"^      - ", line):
                continue
            skipping = False
        record = reads / f"{stage}.json"
        if stage and re.match(r"^    params:\s*$", line) and record.exists():
            out.append(line)
            out.extend(f"      - {name}" for name in stage_params(json.loads(record.read_text())))
            written.append(stage)
            skipping = True
            continue
        out.append(line)
    with atomic_path(dvc_yaml) as tmp:
        tmp.write_text("\n".join(out))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.provenance_params",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, required=True, metavar="FOLDER",
                        help="the $CIDERLAB_PARAMS_READ folder of a pipeline run")
    parser.add_argument("--dvc-yaml", type=Path, default=REPO_ROOT / "dvc.yaml")
    args = parser.parse_args(argv)
    written = write_params(args.dvc_yaml, args.write)
    print(f"{args.dvc_yaml}: params rewritten for {len(written)} stages: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
