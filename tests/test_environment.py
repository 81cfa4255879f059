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
