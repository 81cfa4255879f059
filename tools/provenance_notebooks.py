"""Which files a book page (a jupytext notebook in ``notebooks/``) reads, found by static analysis,
so each page stage in dvc.yaml depends on exactly those and reruns only when they change.

A notebook names what it reads in two ways, both seen here:

* paths built from its ``results_dir`` parameter: ``results = Path(results_dir)`` then
  ``results / "evaluate" / "metrics.json"`` (a variable bound to ``results / "x"`` extends the
  chain); every such chain of string constants is a file or folder under ``results/``;
* other parameters of its ``parameters`` cell holding a path relative to ``notebooks/``
  (``selection_path = "../benchmarks/results/selection_cpu.jsonl"``).

``python -m tools.provenance_notebooks`` prints each page's inputs.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

RESULTS_PARAMETER = "results_dir"


def _parameters(text: str) -> dict[str, str]:
    """String parameters of the notebook's ``tags=["parameters"]`` cell."""
    match = re.search(r'# %% tags=\["parameters"[^\]]*\]\n(.*?)(?=\n# %%)', text, re.S)
    if not match:
        return {}
    values = {}
    for node in ast.parse(match.group(1)).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            values[node.targets[0].id] = node.value.value
    return values


def _chain(node: ast.AST, roots: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    """The parts of ``root / "a" / "b"`` (root a variable in ``roots``), or None."""
    if isinstance(node, ast.Name):
        return roots.get(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Path" \
            and len(node.args) == 1 and isinstance(node.args[0], ast.Name) \
            and node.args[0].id == RESULTS_PARAMETER:
        return ("results",)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) \
            and isinstance(node.right, ast.Constant) and isinstance(node.right.value, str):
        left = _chain(node.left, roots)
        return None if left is None else left + (node.right.value,)
    return None


def notebook_inputs(path: Path, root: Path) -> list[str]:
    """Repository paths the notebook at ``path`` reads: results files and parameter paths."""
    text = path.read_text()
    tree = ast.parse(text)
    roots: dict[str, tuple[str, ...]] = {}
    for node in ast.walk(tree):  # variables bound to a results path, in source order
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            parts = _chain(node.value, roots)
            if parts is not None:
                roots[node.targets[0].id] = parts
    used: set[tuple[str, ...]] = set()
    for node in ast.walk(tree):
        parts = _chain(node, roots)
        if parts is not None and len(parts) > 1:
            used.add(parts)
    # Only the longest chains: results / "a" is a step towards results / "a" / "b.csv".
    files = {"/".join(p) for p in used
             if not any(other[:len(p)] == p and len(other) > len(p) for other in used)}
    for name, value in _parameters(text).items():
        if name != RESULTS_PARAMETER and "/" in value:
            target = (path.parent / value).resolve()
            if target.exists() and root.resolve() in target.parents:
                files.add(target.relative_to(root.resolve()).as_posix())
    return sorted(files)


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    for notebook in sorted((root / "notebooks").glob("*.py")):
        print(f"{notebook.stem}:")
        for name in notebook_inputs(notebook, root):
            print(f"  - {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
