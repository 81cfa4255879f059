"""Which ciderlab source files each DVC stage runs, derived from its imports, so dvc.yaml's deps
cannot drift from the code.

Static analysis with ``ast``, nothing is imported or run. For a stage whose command is
``ciderlab <sub> ...`` the sources are: ``cli.py`` itself, the ciderlab modules imported at the
top of ``cli.py``, those imported inside the subcommand's function and inside every ``cli.py``
function it uses (by name, transitively), and then the closure over *all* imports (module level
and inside functions) of every ciderlab module reached. A Python file named in a command (a
notebook kept as a jupytext ``.py``, a script) contributes the closure of its imports;
``python -m ciderlab.x`` the closure of module ``ciderlab.x``. A ``foreach`` stage gets the union
over its items, since its items share one ``deps`` list.

Package ``__init__.py`` files are always followed but listed only when they do something:
import, or define a function or class. A docstring or a constant (``__version__``) changes no
result, so such a file is not a dependency. Imports under ``if TYPE_CHECKING:`` never run and are
skipped. Imports by string (``importlib.import_module("ciderlab...")``) are not seen.

``python -m ciderlab.provenance_deps`` prints the derived deps of every stage as YAML lines to
paste into dvc.yaml; ``--check`` exits 1 when dvc.yaml disagrees.
"""

from __future__ import annotations

import argparse
import ast
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "ciderlab"
REPO_ROOT = Path(__file__).resolve().parents[2]
# Stages that score something must declare a DVC metrics file (our rule; see scoring_stages).
# cross_validate only predicts; evaluate scores its predictions (and declares them).
SCORING_STAGES = ("evaluate", "baselines", "ablation")
SCORING_NAME_PARTS = ("compare",)


@dataclass(frozen=True)
class Mismatch:
    """One stage whose declared ``src/ciderlab`` deps differ from the derived ones."""

    stage: str
    missing: tuple[str, ...]  # imported by the command, not in deps
    extra: tuple[str, ...]  # in deps, not imported by the command
    derived: tuple[str, ...]  # what the deps should be
    indent: int  # of the stage's ``deps`` list items in dvc.yaml
    error: str = ""  # why nothing could be derived (a missing script, an unknown subcommand)


# --- imports of one file ------------------------------------------------------------------------

def _parse(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as error:
        raise ValueError(f"{path}: cannot be parsed ({error.msg}, line {error.lineno}); "
                         "fix the syntax before deriving its stage's deps") from error


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _import_nodes(node: ast.AST, skip_functions: bool = False) -> list[ast.Import | ast.ImportFrom]:
    """Import statements under ``node`` (not under ``if TYPE_CHECKING:``; not inside function
    bodies when ``skip_functions``)."""
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.append(child)
        elif isinstance(child, ast.If) and _is_type_checking(child):
            found.extend(_import_nodes(ast.Module(body=child.orelse, type_ignores=[]),
                                       skip_functions))
        elif skip_functions and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                   ast.Lambda)):
            continue
        else:
            found.extend(_import_nodes(child, skip_functions))
    return found


def _module_names(nodes: list[ast.Import | ast.ImportFrom], module: str, is_package: bool
                  ) -> set[str]:
    """Every dotted name the imports may load: ``from a.b import c`` gives ``a.b`` and ``a.b.c``
    (the latter counts only if it is a module)."""
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = module.split(".") if is_package else module.split(".")[:-1]
            parts = parts[:len(parts) - (node.level - 1)]
            base = ".".join(parts + ([node.module] if node.module else []))
        names.add(base)
        names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


# --- modules and files --------------------------------------------------------------------------

def module_file(name: str, src_dir: Path) -> Path | None:
    """The file of module ``name`` under ``src_dir`` (``a/b.py`` or ``a/b/__init__.py``)."""
    base = src_dir.joinpath(*name.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path, src_dir: Path) -> str:
    parts = path.resolve().relative_to(src_dir.resolve()).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _files_of(names: set[str], src_dir: Path, package: str) -> set[Path]:
    """The files that importing ``names`` runs: each module and its packages' ``__init__``."""
    files = set()
    for name in names:
        if name != package and not name.startswith(package + "."):
            continue
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            path = module_file(".".join(parts[:i]), src_dir)
            if path is not None:
                files.add(path.resolve())
    return files


def imported_files(path: Path, src_dir: Path, package: str = PACKAGE,
                   node: ast.AST | None = None, skip_functions: bool = False) -> set[Path]:
    """Files of ``package`` imported by the file ``path`` (or by ``node``, a part of it)."""
    tree = _parse(path) if node is None else node
    is_package = path.name == "__init__.py"
    try:
        name = module_name(path, src_dir)
    except ValueError:  # a script or notebook outside the package: no relative imports
        name, is_package = "", False
    return _files_of(_module_names(_import_nodes(tree, skip_functions), name, is_package),
                     src_dir, package)


def import_closure(files: set[Path], src_dir: Path, package: str = PACKAGE) -> set[Path]:
    """``files`` and every file they import, at module level or inside functions, transitively."""
    done: set[Path] = set()
    todo = [f.resolve() for f in files]
    while todo:
        path = todo.pop()
        if path in done:
            continue
        done.add(path)
        todo.extend(imported_files(path, src_dir, package) - done)
    return done


def is_inert_init(path: Path) -> bool:
    """A package ``__init__.py`` holding nothing but a docstring and constant assignments."""
    if path.name != "__init__.py":
        return False
    for node in _parse(path).body:
        value = getattr(node, "value", None)
        if isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)) and isinstance(
                value, ast.Constant):
            continue
        return False
    return True


# --- the CLI ------------------------------------------------------------------------------------

def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def command_function(tree: ast.Module, sub: str) -> str:
    """The name of the function a CLI subcommand runs.

    Found where the parser is built: a call with the subcommand's name as a string and a
    module-level function as an argument (``stage("evaluate", "...", cmd_evaluate)``); else by
    the convention ``cmd_<sub>``.
    """
    functions = _functions(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        args = list(node.args) + [k.value for k in node.keywords]
        if any(isinstance(a, ast.Constant) and a.value == sub for a in node.args):
            named = [a.id for a in args if isinstance(a, ast.Name) and a.id in functions]
            if named:
                return named[0]
    conventional = f"cmd_{sub.replace('-', '_')}"
    if conventional in functions:
        return conventional
    raise LookupError(f"the CLI has no function for subcommand {sub!r}: neither a parser call "
                      f"naming it nor a function {conventional}()")


def _used_functions(name: str, functions: dict[str, ast.FunctionDef]) -> set[str]:
    """``name`` and every module-level function it refers to by name, transitively."""
    used, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in used:
            continue
        used.add(current)
        todo.extend(node.id for node in ast.walk(functions[current])
                    if isinstance(node, ast.Name) and node.id in functions)
    return used


def cli_command_files(sub: str, src_dir: Path, package: str = PACKAGE) -> set[Path]:
    """Every package file ``<package> <sub>`` runs (see the module docstring)."""
    cli = src_dir / package / "cli.py"
    if not cli.is_file():
        raise FileNotFoundError(f"{cli}: the CLI module is missing")
    tree = _parse(cli)
    functions = _functions(tree)
    start = imported_files(cli, src_dir, package, tree, skip_functions=True)
    for name in _used_functions(command_function(tree, sub), functions):
        start |= imported_files(cli, src_dir, package, functions[name])
    # cli.py itself is a dependency, but only the imports above are followed in it: the other
    # subcommands' functions import what this one never runs.
    return import_closure(start - {cli.resolve()}, src_dir, package) | {cli.resolve()}


def cli_function_constants(sub: str, src_dir: Path, package: str = PACKAGE) -> set[str]:
    """String constants in the subcommand's function and the CLI functions it uses."""
    tree = _parse(src_dir / package / "cli.py")
    functions = _functions(tree)
    return {node.value for name in _used_functions(command_function(tree, sub), functions)
            for node in ast.walk(functions[name])
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


# --- stages -------------------------------------------------------------------------------------

def _commands(stage: dict) -> list[str]:
    """The shell commands of a stage, one per ``foreach`` item for a foreach stage."""
    body = stage.get("do", stage)
    cmds = body.get("cmd", [])
    cmds = [cmds] if isinstance(cmds, str) else list(cmds)
    if "foreach" not in stage:
        return cmds
    items = stage["foreach"]
    if not isinstance(items, list) or not all(isinstance(i, (str, int)) for i in items):
        raise ValueError("only a foreach over a list of names is understood; list the stages' "
                         "items as strings or extend provenance_deps._commands")
    return [cmd.replace("${item}", str(item)) for item in items for cmd in cmds]


def command_files(cmd: str, root: Path, package: str = PACKAGE) -> set[Path]:
    """Package files one shell command runs: ``<package> <sub>``, ``python -m``, ``*.py``."""
    src_dir = root / "src"
    tokens = shlex.split(cmd.replace("\n", " "), comments=False)
    files: set[Path] = set()
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if Path(token).name == package and following and not following.startswith("-"):
            files |= cli_command_files(following, src_dir, package)
        elif token == "-m" and (following == package or following.startswith(package + ".")):
            if following in (package, f"{package}.__main__", f"{package}.cli"):
                sub = tokens[i + 2] if i + 2 < len(tokens) else ""
                files |= cli_command_files(sub, src_dir, package)
            else:
                path = module_file(following, src_dir)
                if path is None:
                    raise FileNotFoundError(f"`{cmd}` runs module {following}, which is missing")
                files |= import_closure({path}, src_dir, package)
        elif token.endswith(".py"):
            path = root / token
            if not path.is_file():
                raise FileNotFoundError(f"`{cmd}` runs {token}, which is missing")
            # The script itself is a dep in its own right (e.g. notebooks/x.py), not a src file.
            files |= import_closure(imported_files(path, src_dir, package), src_dir, package)
    return files


def stage_sources(stage: dict, root: Path, package: str = PACKAGE) -> list[str]:
    """Sorted repository-relative paths of the package files a stage's commands run."""
    files: set[Path] = set()
    for cmd in _commands(stage):
        files |= command_files(cmd, root, package)
    return sorted(p.relative_to(root.resolve()).as_posix() for p in files
                  if not is_inert_init(p))


def declared_sources(stage: dict, root: Path, package: str = PACKAGE) -> list[str]:
    """The stage's deps inside ``src/<package>``, a directory standing for its ``.py`` files."""
    prefix = f"src/{package}"
    declared = set()
    for dep in stage.get("do", stage).get("deps", []) or []:
        dep = str(dep).rstrip("/")
        if dep != prefix and not dep.startswith(prefix + "/"):
            continue
        path = root / dep
        if path.is_dir():
            declared.update(p.relative_to(root).as_posix() for p in path.rglob("*.py")
                            if "__pycache__" not in p.parts)
        else:
            declared.add(dep)
    return sorted(declared)


def load_stages(dvc_yaml: Path) -> dict[str, dict]:
    import yaml

    stages = (yaml.safe_load(Path(dvc_yaml).read_text()) or {}).get("stages") or {}
    if not stages:
        raise ValueError(f"{dvc_yaml}: no stages")
    return stages


def compare_stage_deps(dvc_yaml: Path, root: Path, package: str = PACKAGE) -> list[Mismatch]:
    """Stages whose declared ``src/<package>`` deps are not exactly the derived ones."""
    mismatches = []
    for name, stage in load_stages(dvc_yaml).items():
        declared = declared_sources(stage, root, package)
        try:
            derived = stage_sources(stage, root, package)
        except (FileNotFoundError, LookupError) as error:  # reported with the other stages
            mismatches.append(Mismatch(name, (), (), (), 0, str(error)))
            continue
        if derived != declared:
            mismatches.append(Mismatch(
                name, tuple(sorted(set(derived) - set(declared))),
                tuple(sorted(set(declared) - set(derived))), tuple(derived),
                8 if "foreach" in stage else 6))
    return mismatches


def yaml_lines(paths, indent: int = 6) -> str:
    """``paths`` as the lines of a YAML list, indented as in dvc.yaml."""
    return "\n".join(f"{' ' * indent}- {p}" for p in paths)


def format_mismatches(mismatches: list[Mismatch]) -> str:
    blocks = []
    for m in mismatches:
        if m.error:
            blocks.append(f"stage {m.stage}: cannot derive its deps: {m.error}")
            continue
        blocks.append(
            f"stage {m.stage}:\n  missing (imported, not in deps): {list(m.missing) or 'none'}\n"
            f"  extra (in deps, not imported): {list(m.extra) or 'none'}\n"
            f"  its src deps in dvc.yaml should be exactly:\n{yaml_lines(m.derived, m.indent)}")
    return "\n".join(blocks)


# --- metrics ------------------------------------------------------------------------------------

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
        for cmd in _commands(stage):
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ciderlab.provenance_deps",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root")
    parser.add_argument("--dvc-yaml", type=Path, default=None, help="default: <root>/dvc.yaml")
    parser.add_argument("--check", action="store_true",
                        help="only report stages whose deps differ; exit 1 if any")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    dvc_yaml = args.dvc_yaml or root / "dvc.yaml"
    if args.check:
        mismatches = compare_stage_deps(dvc_yaml, root)
        print(format_mismatches(mismatches) or "dvc.yaml: every stage's src deps match")
        return 1 if mismatches else 0
    for name, stage in load_stages(dvc_yaml).items():
        print(f"{name}:")
        print(yaml_lines(stage_sources(stage, root), 8 if "foreach" in stage else 6)
              or "      # (no ciderlab sources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
