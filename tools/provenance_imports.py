"""Which ciderlab source files a piece of code runs, found from its imports by static analysis
(``ast``; nothing is imported or run).

Every import is followed, at module level and inside functions, transitively, since a function
body's import runs whenever the function does. The CLI is the exception: for ``ciderlab <sub>``
only the ciderlab modules imported at the top of the CLI package's ``__init__.py`` and of the
command module holding the subcommand's function count, with those imported inside that function
and inside every function of its module it uses (by name, transitively), so that the other
subcommands' imports are not counted.

Package ``__init__.py`` files are always followed but count as sources only when they do
something: import, or define a function or class. A docstring or a constant (``__version__``)
changes no result, so such a file is not a dependency. Imports under ``if TYPE_CHECKING:`` never
run and are skipped. Imports by string (``importlib.import_module("ciderlab...")``) are not seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "ciderlab"


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


def command_function(tree: ast.Module, sub: str) -> tuple[str | None, str]:
    """(module, function) of the function a CLI subcommand runs; module None: in ``tree``.

    Found where the parser is built: a call with the subcommand's name as a string and a
    function as an argument, named in this module (``stage("split", ..., cmd_split)``) or as
    an attribute of a sibling command module (``stage("evaluate", ..., spectranet.cmd_evaluate)``
    or ``set_defaults(func=deliver.cmd_classify)`` on the parser named ``sub``); else by the
    convention ``cmd_<sub>`` in ``tree``.
    """
    functions = _functions(tree)
    parsers = {}  # variable -> subcommand, for `x = sub.add_parser("name", ...)`
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "add_parser" and node.value.args
                and isinstance(node.value.args[0], ast.Constant)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    parsers[target.id] = node.value.args[0].value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        args = list(node.args) + [k.value for k in node.keywords]
        named_here = any(isinstance(a, ast.Constant) and a.value == sub for a in node.args)
        on_parser = (isinstance(node.func, ast.Attribute) and node.func.attr == "set_defaults"
                     and isinstance(node.func.value, ast.Name)
                     and parsers.get(node.func.value.id) == sub)
        if not (named_here or on_parser):
            continue
        for a in args:
            if isinstance(a, ast.Name) and a.id in functions:
                return None, a.id
            if isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name):
                return a.value.id, a.attr
    conventional = f"cmd_{sub.replace('-', '_')}"
    if conventional in functions:
        return None, conventional
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


def _cli_command(sub: str, src_dir: Path, package: str) -> tuple[Path, Path, ast.Module, str]:
    """(the CLI package's ``__init__.py``, the file of the subcommand's function, its tree, the
    function's name)."""
    cli = src_dir / package / "cli" / "__init__.py"
    if not cli.is_file():
        raise FileNotFoundError(f"{cli}: the CLI package is missing")
    module, name = command_function(_parse(cli), sub)
    path = cli if module is None else cli.parent / f"{module}.py"
    return cli, path, _parse(path), name


def cli_command_files(sub: str, src_dir: Path, package: str = PACKAGE) -> set[Path]:
    """Every package file ``<package> <sub>`` runs (see the module docstring)."""
    cli, path, tree, name = _cli_command(sub, src_dir, package)
    functions = _functions(tree)
    # The parser and the command modules; ``common.py`` (shared helpers) is followed as usual.
    siblings = {f.resolve() for f in cli.parent.glob("*.py") if f.name != "common.py"}
    start = imported_files(cli, src_dir, package, skip_functions=True)
    start |= imported_files(path, src_dir, package, tree, skip_functions=True)
    for used in _used_functions(name, functions):
        start |= imported_files(path, src_dir, package, functions[used])
    # The CLI's files are dependencies, but only the imports above are followed in them: the
    # other subcommands' functions (and the other command modules) import what this one never
    # runs.
    followed = {f for f in start if f.resolve() not in siblings}
    return import_closure(followed, src_dir, package) | {cli.resolve(), path.resolve()}


def cli_function_constants(sub: str, src_dir: Path, package: str = PACKAGE) -> set[str]:
    """String constants in the subcommand's function and the CLI functions it uses."""
    _, _, tree, name = _cli_command(sub, src_dir, package)
    functions = _functions(tree)
    return {node.value for used in _used_functions(name, functions)
            for node in ast.walk(functions[used])
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}
