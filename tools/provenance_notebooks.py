"""Which files a book page (a jupytext notebook in ``notebooks/``) reads, found by static analysis,
so each page stage in dvc.yaml depends on exactly those and reruns only when they change.

A notebook names what it reads in two ways, both seen here:

* paths built from its ``results_dir`` parameter: ``results = Path(results_dir)`` then
  ``results / "evaluate" / "metrics.json"`` (a variable bound to ``results / "x"`` extends the
  chain); every such chain of string constants is a file or folder under ``results/``;
* other parameters of its ``parameters`` cell holding a path relative to ``notebooks/``
  (``selection_path = "../benchmarks/results/selection_cpu.jsonl"``) that exists, or lies in
  the raw snapshot under ``data/`` (pulled or not).

Its ``params_path`` parameter is params.yaml. A page that reads it only as
``params = load_params(params_path)`` followed by constant keys (``params["split"]["fixed_fold"]``)
depends on those keys (``notebook_params``; a dvc.yaml ``params:`` list); one that uses the file
otherwise (passes the mapping on, reads it with yaml) depends on the whole file.

``python -m tools.provenance_notebooks`` prints each page's inputs.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

RESULTS_PARAMETER = "results_dir"
PARAMS_PARAMETER = "params_path"
PARAMS_FILE = "params.yaml"


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
        if name == PARAMS_PARAMETER and notebook_params(path) is not None:
            continue  # its keys are the stage's params, not the whole file a dep
        if name != RESULTS_PARAMETER and "/" in value:
            target = (path.parent / value).resolve()
            # The raw snapshot under data/ counts before it is pulled (`make data` pulls it).
            raw = (root.resolve() / "data") in target.parents
            if (target.exists() or raw) and root.resolve() in target.parents:
                files.add(target.relative_to(root.resolve()).as_posix())
    return sorted(files)


def _is_load_params(node: ast.AST) -> bool:
    """``load_params(params_path, ...)``."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "load_params" and len(node.args) == 1
            and isinstance(node.args[0], ast.Name) and node.args[0].id == PARAMS_PARAMETER)


def notebook_params(path: Path) -> list[str] | None:
    """The params.yaml keys the notebook at ``path`` reads (dotted, sorted), or None when it
    uses the file whole; [] when it has no ``params_path`` parameter.

    Each ``params_path`` must be the argument of ``name = load_params(params_path, ...)``, and
    each use of such a ``name`` a subscript by a string constant (``name["a"]["b"]`` reads
    ``a.b``); anything else reads the whole file.
    """
    text = path.read_text()
    if PARAMS_PARAMETER not in _parameters(text):
        return []
    tree = ast.parse(text)
    parent = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    bound = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and node.id == PARAMS_PARAMETER
                and isinstance(node.ctx, ast.Load)):
            call = parent.get(node)
            assign = parent.get(call)
            if not (_is_load_params(call) and isinstance(assign, ast.Assign)
                    and len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Name)):
                return None
            bound.add(assign.targets[0].id)
    keys = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id in bound
                and isinstance(node.ctx, ast.Load)):
            continue
        parts, at = [], node
        while (isinstance(parent.get(at), ast.Subscript) and parent[at].value is at
               and isinstance(parent[at].slice, ast.Constant)
               and isinstance(parent[at].slice.value, str)):
            at = parent[at]
            parts.append(at.slice.value)
        if not parts:
            return None
        keys.add(".".join(parts))
    return sorted(k for k in keys if not any(k.startswith(f"{o}.") for o in keys))


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    for notebook in sorted((root / "notebooks").glob("*.py")):
        print(f"{notebook.stem}:")
        for name in notebook_inputs(notebook, root):
            print(f"  - {name}")
        keys = notebook_params(notebook)
        if keys:
            print(f"  params: {', '.join(keys)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
