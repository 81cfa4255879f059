"""Which ciderlab source files each DVC stage runs, derived from its imports, so dvc.yaml's deps
cannot drift from the code.

A stage's sources are those of its commands (``provenance_imports`` finds what each runs):
``ciderlab <sub> ...`` runs ``cli.py`` and what that subcommand imports; a Python file named in a
command (a notebook kept as a jupytext ``.py``, a script) contributes the closure of its imports;
``python -m ciderlab.x`` the closure of module ``ciderlab.x``. A ``foreach`` stage gets the union
over its items, since its items share one ``deps`` list.

``python -m tools.provenance_deps`` prints the derived deps of every stage as YAML lines to
paste into dvc.yaml; ``--check`` exits 1 when dvc.yaml disagrees.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from ciderlab.io import atomic_path
from tools.provenance_imports import (PACKAGE, cli_command_files, import_closure,
                                         imported_files, is_inert_init, module_file)

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mismatch:
    """One stage whose declared ``src/ciderlab`` deps differ from the derived ones."""

    stage: str
    missing: tuple[str, ...]  # imported by the command, not in deps
    extra: tuple[str, ...]  # in deps, not imported by the command
    derived: tuple[str, ...]  # what the deps should be
    indent: int  # of the stage's ``deps`` list items in dvc.yaml
    error: str = ""  # why nothing could be derived (a missing script, an unknown subcommand)


def stage_commands(stage: dict) -> list[str]:
    """The shell commands of a stage, one per ``foreach`` item for a foreach stage."""
    body = stage.get("do", stage)
    cmds = body.get("cmd", [])
    cmds = [cmds] if isinstance(cmds, str) else list(cmds)
    if "foreach" not in stage:
        return cmds
    items = stage["foreach"]
    if not isinstance(items, list) or not all(isinstance(i, (str, int)) for i in items):
        raise ValueError("only a foreach over a list of names is understood; list the stages' "
                         "items as strings or extend provenance_deps.stage_commands")
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
    for cmd in stage_commands(stage):
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


def write_stage_deps(dvc_yaml: Path, root: Path, package: str = PACKAGE) -> None:
    """Rewrite each stage's ``src/<package>/`` deps in place from its imports (comments kept)."""
    stages = load_stages(dvc_yaml)
    prefix = re.compile(rf"^\s+- src/{package}/")
    out, stage = [], None
    for line in dvc_yaml.read_text().splitlines():
        match = re.match(r"^  (\w+):\s*$", line)
        if match and match.group(1) in stages:
            stage = match.group(1)
        if prefix.match(line):
            continue  # re-derived below, after the stage's "deps:" line
        out.append(line)
        if stage and re.match(r"^\s+deps:\s*$", line):
            indent = " " * (len(line) - len(line.lstrip()) + 2)
            out.extend(f"{indent}- {src}" for src in stage_sources(stages[stage], root, package))
    with atomic_path(dvc_yaml) as tmp:
        tmp.write_text("\n".join(out) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.provenance_deps",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root")
    parser.add_argument("--dvc-yaml", type=Path, default=None, help="default: <root>/dvc.yaml")
    parser.add_argument("--check", action="store_true",
                        help="only report stages whose deps differ; exit 1 if any")
    parser.add_argument("--write", action="store_true",
                        help="rewrite dvc.yaml's src deps from the imports (after adding a module)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    dvc_yaml = args.dvc_yaml or root / "dvc.yaml"
    if args.write:
        write_stage_deps(dvc_yaml, root)
    if args.check or args.write:
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
