"""The metrics rule for dvc.yaml: every stage that scores something declares a DVC ``metrics``
file, and none lies inside another stage's output."""

from __future__ import annotations

import re
from pathlib import Path

from tools.provenance_deps import load_stages, stage_commands
from tools.provenance_imports import PACKAGE, cli_function_constants

# Stages that score something must declare a DVC metrics file (our rule; see scoring_stages).
# cross_validate only predicts; evaluate scores its predictions (and declares them).
SCORING_STAGES = ("evaluate", "baselines", "ablation")
SCORING_NAME_PARTS = ("compare",)


def scoring_stages(dvc_yaml: Path, root: Path, package: str = PACKAGE) -> dict[str, str]:
    """Stages that must declare a DVC ``metrics`` file, each with the reason.

    evaluate, baselines and ablation; any stage whose name contains compare; and any
    ``<package> <sub>`` stage whose command writes a file named ``metrics.json``.
    """
    required = {}
    for name, stage in load_stages(dvc_yaml).items():
        if name in SCORING_STAGES:
            required[name] = "it scores a method"
        elif any(part in name for part in SCORING_NAME_PARTS):
            required[name] = f"its name contains one of {SCORING_NAME_PARTS}"
        for cmd in stage_commands(stage):
            match = re.search(rf"(?:^|\s){package}\s+([\w-]+)", cmd)
            if match and any(c.endswith("metrics.json") for c in cli_function_constants(
                    match.group(1), root / "src", package)):
                required.setdefault(name, f"`{package} {match.group(1)}` writes metrics.json")
    return required


def _paths(entries) -> list[str]:
    """Paths of a dvc.yaml outs/metrics/plots list (entries are strings or one-key dicts)."""
    return [str(next(iter(e))) if isinstance(e, dict) else str(e) for e in entries or []]


def metrics_problems(dvc_yaml: Path, root: Path, package: str = PACKAGE) -> list[str]:
    """What is wrong with the metrics declarations of the scoring stages (empty: nothing)."""
    stages = load_stages(dvc_yaml)
    outs = {(name, p.rstrip("/")) for name, s in stages.items()
            for p in _paths(s.get("do", s).get("outs"))}
    problems = []
    for name, why in scoring_stages(dvc_yaml, root, package).items():
        metrics = _paths(stages[name].get("do", stages[name]).get("metrics"))
        if not metrics:
            problems.append(f"stage {name} declares no `metrics:` file ({why})")
        for path in metrics:
            for owner, out in outs:
                if path == out or path.startswith(out + "/"):
                    problems.append(f"stage {name}: metrics file {path} lies inside stage "
                                    f"{owner}'s out {out}; DVC rejects overlapping outputs, so "
                                    "list that stage's output files one by one")
    return problems
