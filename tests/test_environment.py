"""The set-up files agree with each other: lock, conda file, pyproject, CI and README."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def lock_pins():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_every_lock_entry_is_an_exact_pin():
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.\-]+", line), line


def test_torch_is_pinned_to_the_cpu_wheel_version():
    assert lock_pins()["torch"] == "2.13.0"


def test_environment_yml_mirrors_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = {}
    for entry in pip_section:
        name, version = entry.split("==")
        conda_pins[name.lower().replace("_", "-")] = version
    assert conda_pins == lock_pins()
    assert "python=3.11" in env["dependencies"]


def pyproject_dependencies() -> list[str]:
    """The distribution names pyproject.toml's dependencies list."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [re.split(r"[=<>\[ ]", r)[0] for r in project["dependencies"]]


def test_pyproject_dependencies_are_all_locked():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = lock_pins()
    for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
        name = re.split(r"[=<>\[ ]", requirement)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is a dependency but not in requirements.lock"
        if "==" in requirement:
            assert pins[name] == requirement.split("==")[1]


def test_ci_runs_the_readme_test_command():
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert ci_lines[-1] == "make test"
    assert "make test" in (ROOT / "README.md").read_text()


def test_dvc_config_turns_off_analytics_and_update_checks():
    text = (ROOT / ".dvc" / "config").read_text()
    assert re.search(r"analytics\s*=\s*false", text)
    assert re.search(r"check_update\s*=\s*false", text)


def test_every_third_party_import_in_src_is_a_declared_dependency():
    # What the package imports anywhere (at module level or inside a function) must be in
    # pyproject.toml's dependencies, or `pip install .` gives a package that fails at run time.
    import ast
    import sys
    from importlib.metadata import packages_distributions

    distributions = packages_distributions()
    imported = set()
    for path in (ROOT / "src" / "ciderlab").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    # SNID-SAGE runs in its own folder, installed from the pinned raw wheel (data.dvc) by
    # spectranet.snid.install.install_snid_sage; its imports run in that subprocess.
    own_install = {"snid_sage"}
    third_party = {name for name in imported if name != "ciderlab"
                   and name not in sys.stdlib_module_names and name not in own_install}
    declared = {name.lower().replace("_", "-") for name in pyproject_dependencies()}
    missing = {}
    for name in sorted(third_party):
        dists = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
        if not dists & declared:
            missing[name] = sorted(dists)
    assert not missing, f"imported by src/ciderlab but not in pyproject.toml: {missing}"
