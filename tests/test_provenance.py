"""dvc.yaml's source deps are derived from the imports each stage runs (tools.provenance_deps)."""

import textwrap
from pathlib import Path

import pytest

from tools.provenance_deps import (REPO_ROOT, compare_stage_deps, format_mismatches,
                                      load_stages, main, stage_sources)
from tools.provenance_imports import command_function
from tools.provenance_metrics import metrics_problems, scoring_stages

DVC_YAML = REPO_ROOT / "dvc.yaml"


# --- a tiny fake repository ---------------------------------------------------------------------

FAKE_CLI = '''
"""A fake CLI."""
import argparse

from ciderlab.cli import extra
from ciderlab.io import save


def _shared(x):
    from ciderlab.helped import helper
    return helper(x)


def cmd_fit(args):
    from ciderlab.lib.train import fit
    return _shared(fit(args))


def cmd_other(args):
    from ciderlab.unrelated import nothing_fit_needs


def run_go_stage(args):
    import ciderlab.go


def build_parser():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()

    def stage(name, helptext, func):
        p = sub.add_parser(name, help=helptext)
        p.set_defaults(func=func)

    stage("fit", "fit it", cmd_fit)
    stage("other", "not fit", cmd_other)
    stage("go", "a name off the convention", run_go_stage)
    stage("more", "in a command module beside the parser", extra.cmd_more)
    return parser
'''

FAKE_FILES = {
    "cli/__init__.py": FAKE_CLI,
    "cli/extra.py": "def cmd_more(args):\n    from ciderlab.unrelated import nothing_fit_needs\n",
    "__init__.py": '"""The fake package."""\n__version__ = "0"\n',
    "io.py": "def save(): pass\n",
    "helped.py": "def helper(x): return x\n",
    "unrelated.py": "nothing_fit_needs = 1\n",
    "go.py": "",
    "lib/__init__.py": '"""Library."""\n',
    # the dependency on lib/deep.py exists only inside a function body
    "lib/train.py": "def fit(args):\n    from ciderlab.lib.deep import inner\n    return inner\n",
    "lib/deep.py": "inner = 1\n",
    "lib/plot.py": "from . import style\n",  # relative import
    "lib/style.py": "",
}

FAKE_NOTEBOOKS = {
    "a.py": "# %%\nfrom ciderlab.lib import plot\n",
    "b.py": "# %%\nimport ciderlab.io\n",
}


def fake_repo(root: Path, dvc_yaml: str = "stages: {}\n", files=None) -> Path:
    for name, text in {**FAKE_FILES, **(files or {})}.items():
        path = root / "src" / "ciderlab" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for name, text in FAKE_NOTEBOOKS.items():
        (root / "notebooks").mkdir(exist_ok=True)
        (root / "notebooks" / name).write_text(text)
    (root / "dvc.yaml").write_text(textwrap.dedent(dvc_yaml))
    return root


FIT_SOURCES = ["src/ciderlab/cli/__init__.py", "src/ciderlab/helped.py", "src/ciderlab/io.py",
               "src/ciderlab/lib/deep.py", "src/ciderlab/lib/train.py"]


def fit_stage(deps: list[str]) -> str:
    lines = "\n".join(f"      - {d}" for d in deps)
    return f"stages:\n  fit:\n    cmd: ciderlab fit --out results/fit\n    deps:\n{lines}\n"


# --- the analysis on the fake repository --------------------------------------------------------

def test_a_stage_runs_the_cli_its_command_function_and_every_import_reached_from_it(tmp_path):
    root = fake_repo(tmp_path)
    sources = stage_sources({"cmd": "ciderlab fit --out x"}, root)
    # lazy import in cmd_fit -> lib/train.py -> (inside fit()) lib/deep.py; a helper cmd_fit
    # calls -> helped.py; cli.py's module-level import -> io.py. Not the other subcommand's
    # unrelated.py, and no package __init__ that holds only a docstring and a constant.
    assert sources == FIT_SOURCES


def test_a_function_level_import_added_to_a_library_module_becomes_a_dependency(tmp_path):
    root = fake_repo(tmp_path, fit_stage(FIT_SOURCES))
    assert compare_stage_deps(root / "dvc.yaml", root) == []
    train = root / "src/ciderlab/lib/train.py"
    train.write_text(train.read_text() + "\ndef later():\n    import ciderlab.lib.style\n")
    (mismatch,) = compare_stage_deps(root / "dvc.yaml", root)
    assert mismatch.missing == ("src/ciderlab/lib/style.py",) and mismatch.extra == ()


def test_the_subcommand_function_is_found_where_the_parser_names_it(tmp_path):
    root = fake_repo(tmp_path)
    import ast

    tree = ast.parse((root / "src/ciderlab/cli/__init__.py").read_text())
    assert command_function(tree, "fit") == (None, "cmd_fit")
    assert command_function(tree, "go") == (None, "run_go_stage")
    assert command_function(tree, "more") == ("extra", "cmd_more")
    assert stage_sources({"cmd": "ciderlab go"}, root) == ["src/ciderlab/cli/__init__.py",
                                                           "src/ciderlab/go.py",
                                                           "src/ciderlab/io.py"]
    assert stage_sources({"cmd": "ciderlab more"}, root) == [
        "src/ciderlab/cli/__init__.py", "src/ciderlab/cli/extra.py", "src/ciderlab/io.py",
        "src/ciderlab/unrelated.py"]
    with pytest.raises(LookupError, match="no function for subcommand 'missing'"):
        stage_sources({"cmd": "ciderlab missing"}, root)


def test_a_package_init_is_a_dependency_only_when_it_does_something(tmp_path):
    root = fake_repo(tmp_path, files={"lib/__init__.py": "from ciderlab.lib.style import *\n"})
    sources = stage_sources({"cmd": "ciderlab fit"}, root)
    assert "src/ciderlab/lib/__init__.py" in sources  # it imports: it runs code
    assert "src/ciderlab/lib/style.py" in sources  # and what it imports is followed
    assert "src/ciderlab/__init__.py" not in sources  # docstring and __version__ only


def test_a_foreach_stage_gets_the_union_of_its_notebooks_imports(tmp_path):
    root = fake_repo(tmp_path)
    stage = {"foreach": ["a", "b"], "do": {"cmd": "jupytext --to ipynb notebooks/${item}.py"}}
    assert stage_sources(stage, root) == ["src/ciderlab/io.py", "src/ciderlab/lib/plot.py",
                                          "src/ciderlab/lib/style.py"]
    assert stage_sources({"cmd": "python -m ciderlab.lib.train"}, root) == [
        "src/ciderlab/lib/deep.py", "src/ciderlab/lib/train.py"]
    assert stage_sources({"cmd": "jupyter-book build book"}, root) == []


def test_a_mismatch_names_missing_and_extra_paths_and_the_lines_to_paste(tmp_path):
    declared = [p for p in FIT_SOURCES if not p.endswith("deep.py")] + ["src/ciderlab/old.py"]
    root = fake_repo(tmp_path, fit_stage(declared))
    (mismatch,) = compare_stage_deps(root / "dvc.yaml", root)
    assert mismatch.stage == "fit"
    assert mismatch.missing == ("src/ciderlab/lib/deep.py",)
    assert mismatch.extra == ("src/ciderlab/old.py",)
    report = format_mismatches([mismatch])
    assert "stage fit:" in report and "src/ciderlab/old.py" in report
    assert "\n".join(f"      - {p}" for p in FIT_SOURCES) in report


def test_a_stage_running_a_missing_script_is_reported_with_the_others(tmp_path):
    root = fake_repo(tmp_path, fit_stage(FIT_SOURCES) + """\
  figures:
    foreach: [a, gone]
    do:
      cmd: jupytext notebooks/${item}.py
""")
    (mismatch,) = compare_stage_deps(root / "dvc.yaml", root)
    assert mismatch.stage == "figures" and "notebooks/gone.py" in mismatch.error
    assert "stage figures: cannot derive its deps" in format_mismatches([mismatch])


def test_a_source_directory_in_deps_stands_for_all_its_files(tmp_path):
    root = fake_repo(tmp_path, fit_stage(["src/ciderlab/"]))
    (mismatch,) = compare_stage_deps(root / "dvc.yaml", root)
    assert mismatch.missing == ()
    assert "src/ciderlab/unrelated.py" in mismatch.extra


def test_the_command_line_prints_paste_ready_deps_and_checks(tmp_path, capsys):
    root = fake_repo(tmp_path, fit_stage(FIT_SOURCES[:-1]))
    assert main(["--root", str(root)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("fit:\n") and "      - src/ciderlab/lib/train.py\n" in printed
    assert main(["--root", str(root), "--check"]) == 1
    assert "src/ciderlab/lib/train.py" in capsys.readouterr().out
    (root / "dvc.yaml").write_text(fit_stage(FIT_SOURCES))
    assert main(["--root", str(root), "--check"]) == 0


def test_scoring_stages_need_a_metrics_file_outside_every_out(tmp_path):
    cli = FAKE_CLI.replace("return _shared(fit(args))",
                           'return _shared(fit(args)), "results/fit/metrics.json"')
    root = fake_repo(tmp_path, """\
        stages:
          fit:
            cmd: ciderlab fit
            outs: [results/fit]
            metrics: [results/fit/metrics.json]
          compare_methods:
            cmd: echo
          evaluate:
            cmd: echo
            metrics: [results/evaluate/metrics.json]
          other:
            cmd: ciderlab other
        """, files={"cli/__init__.py": cli})
    assert set(scoring_stages(root / "dvc.yaml", root)) == {"fit", "compare_methods", "evaluate"}
    problems = metrics_problems(root / "dvc.yaml", root)
    assert len(problems) == 2
    assert any("compare_methods declares no `metrics:`" in p for p in problems)
    assert any("inside stage fit's out results/fit" in p for p in problems)


# --- the real pipeline --------------------------------------------------------------------------

def test_the_real_cli_analysis_sees_lazy_imports_and_keeps_stages_apart():
    stages = load_stages(DVC_YAML)
    evaluate = stage_sources(stages["evaluate"], REPO_ROOT)
    baselines = stage_sources(stages["baselines"], REPO_ROOT)
    # cmd_evaluate imports the metrics module only inside its body
    assert {"src/ciderlab/cli/__init__.py", "src/ciderlab/cli/spectranet.py",
            "src/ciderlab/evaluation/metrics.py"} <= set(evaluate)
    # neither the other command modules nor what their functions import
    assert "src/ciderlab/cli/applecider.py" not in evaluate
    assert "src/ciderlab/spectranet/snid/snid_sage.py" not in evaluate
    assert "src/ciderlab/training/loop.py" not in evaluate  # evaluation never imports training
    assert {"src/ciderlab/spectranet/snid/compare.py",
            "src/ciderlab/spectranet/snid/snid_sage.py"} <= set(baselines)
    figures = stage_sources({"cmd": "jupytext notebooks/comparison.py"}, REPO_ROOT)
    assert "src/ciderlab/evaluation/figures/__init__.py" in figures
    assert not any(f.startswith("src/ciderlab/cli/") for f in figures)


def test_every_stage_declares_exactly_the_sources_its_command_imports():
    mismatches = compare_stage_deps(DVC_YAML, REPO_ROOT)
    assert not mismatches, ("dvc.yaml's src/ciderlab deps differ from the imports "
                            "(`python -m tools.provenance_deps` prints them all):\n"
                            + format_mismatches(mismatches))


def test_every_stage_that_scores_something_declares_a_metrics_file():
    problems = metrics_problems(DVC_YAML, REPO_ROOT)
    assert {"evaluate", "baselines"} <= set(scoring_stages(DVC_YAML, REPO_ROOT))
    assert not problems, "\n".join(problems)


# --- the book's pages ---------------------------------------------------------------------------

FAKE_PAGE = '''# %% [markdown]
# A page

# %% tags=["parameters", "remove-cell"]
results_dir = "../results"
selection_path = "../benchmarks/picked.jsonl"
title = "not a path"

# %%
from pathlib import Path

results = Path(results_dir)
metrics = load_json(results / "evaluate" / "metrics.json")
reliability = results / "reliability"
table = load_table(reliability / "intervals.csv")
records = load_records(selection_path)
'''


def test_a_page_reads_the_results_its_path_chains_name_and_its_path_parameters(tmp_path):
    from tools.provenance_notebooks import notebook_inputs

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "picked.jsonl").write_text("")
    page = tmp_path / "notebooks" / "page.py"
    page.write_text(FAKE_PAGE)
    assert notebook_inputs(page, tmp_path) == ["benchmarks/picked.jsonl",
                                               "results/evaluate/metrics.json",
                                               "results/reliability/intervals.csv"]


def test_a_page_parameter_in_the_raw_snapshot_counts_before_the_pull(tmp_path):
    from tools.provenance_notebooks import notebook_inputs

    (tmp_path / "notebooks").mkdir()
    page = tmp_path / "notebooks" / "page.py"
    page.write_text('# %% tags=["parameters"]\nraw = "../data/raw/archive.tar.gz"\n'
                    'missing = "../benchmarks/none.jsonl"\n\n# %%\nprint(raw)\n')
    assert notebook_inputs(page, tmp_path) == ["data/raw/archive.tar.gz"]


def test_every_page_stage_depends_on_exactly_what_its_notebook_reads():
    from tools.provenance_notebooks import notebook_inputs, notebook_params

    stages = load_stages(DVC_YAML)
    pages = sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("*.py"))
    assert sorted(n.removeprefix("page_") for n in stages if n.startswith("page_")) == pages
    for page in pages:
        stage = stages[f"page_{page}"]
        declared = [d for d in stage["deps"] if not d.startswith("src/")]
        derived = [f"notebooks/{page}.py", *notebook_inputs(REPO_ROOT / "notebooks" / f"{page}.py",
                                                             REPO_ROOT)]
        assert declared == derived, (f"page_{page}: dvc.yaml's deps {declared} are not what "
                                     f"the notebook reads ({derived})")
        assert stage["outs"] == [f"book/notebooks/{page}.ipynb"]
        keys = notebook_params(REPO_ROOT / "notebooks" / f"{page}.py")
        assert stage.get("params", []) == (["profile", "profiles", *keys] if keys else []), (
            f"page_{page}: dvc.yaml's params are not the params.yaml keys the notebook reads")
        assert (keys is None) == ("params.yaml" in declared), page
    assert {f"book/notebooks/{page}.ipynb" for page in pages} <= set(stages["book"]["deps"])


@pytest.mark.parametrize("code, keys", [
    ('params = load_params(params_path)\nx = params["split"]["fixed_fold"]\n'
     'y = params["model"]', ["model", "split.fixed_fold"]),
    ('paper = load_params(params_path, profile="paper")\nk = paper["model"]["kernels"]',
     ["model.kernels"]),
    ('params = load_params(params_path)\nrun(params)', None),          # passed on whole
    ('raw = yaml.safe_load(Path(params_path).read_text())', None),     # read as a file
    ('params = load_params(params_path)\nk = params.get("model")', None),
])
def test_a_pages_params_are_the_constant_keys_it_reads(tmp_path, code, keys):
    from tools.provenance_notebooks import notebook_params

    notebook = tmp_path / "page.py"
    notebook.write_text('# %% tags=["parameters"]\nparams_path = "../params.yaml"\n\n'
                        f"# %%\n{code}\n")
    assert notebook_params(notebook) == keys
