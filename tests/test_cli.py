"""The command line as a user meets it: `ciderlab <stage>`, its flags, exit codes and errors."""

import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ciderlab.cli import build_parser, main
from ciderlab.io import SpectraSet, save_spectra
from ciderlab.checkpoint import save_checkpoint
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig

ROOT = Path(__file__).resolve().parents[1]

# Flags whose value is a choice, not a path (the others are paths).
CHOICE_FLAGS = {"--head"}


@pytest.fixture(autouse=True)
def in_an_empty_folder(tmp_path, monkeypatch):
    """Run from an empty folder, so no default path reaches the repository's own results."""
    monkeypatch.chdir(tmp_path)


def params_file(tmp_path, profile="smoke"):
    """The repository's params.yaml with ``profile`` active, written under tmp_path."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({**raw, "profile": profile}))
    return path


def stderr_error(capsys, command):
    """The error line main printed for ``command`` (it must be the first line on stderr)."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines, f"nothing on stderr; stdout was {captured.out!r}"
    assert lines[0].startswith(f"ciderlab {command}: error:"), captured.err
    return captured.err


def dvc_commands():
    """{stage: argv after `ciderlab`} for every dvc.yaml stage run by the CLI."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return {name: shlex.split(stage["cmd"])[1:] for name, stage in stages.items()
            if isinstance(stage.get("cmd"), str) and stage["cmd"].startswith("ciderlab ")}


def tiny_model(path, head="classifier", n_bins=32, classes=("AGN", "SN Ia")):
    """A checkpoint of an untrained two-stage network, as a training stage would write it."""
    config = SpectraNetConfig(n_bins=n_bins, n_outputs=len(classes) if head == "classifier" else 1,
                              head=head, channels=(4, 4), kernels=((3, 5, 7),) * 2, hidden=8)
    save_checkpoint(path, SpectraNet(config), classes=list(classes),
                    recipe={"seed": 42}, split_hash="x",
                    input_frame="rest" if head == "classifier" else "observed")
    return path


def tiny_spectra(path, n_bins=32):
    """Four realised spectra, two test objects per class, in the on-disk format."""
    rng = np.random.default_rng(0)
    n = 4
    wave = np.exp(np.linspace(np.log(3800), np.log(9200), n_bins))
    meta = pd.DataFrame({"object_id": ["a1", "a2", "i1", "i2"], "template": ["a1", "a2", "i1", "i2"],
                         "epoch": [0] * n, "label": ["AGN", "AGN", "SN Ia", "SN Ia"],
                         "split": ["test"] * n, "redshift": [0.05] * n, "snr": [50.0] * n,
                         "host_fraction": [0.1] * n})
    flux = rng.normal(size=(n, n_bins)).astype(np.float32)
    covered = np.ones((n, n_bins), bool)
    save_spectra(SpectraSet(wave, wave / 1.05, flux, flux, covered, covered, meta), path)
    return path


def evaluate_argv(tmp_path, **paths):
    """``evaluate`` with valid tiny inputs, except those given in ``paths``."""
    inputs = {"spectra": tiny_spectra(tmp_path / "spectra.h5"),
              "classifier": tiny_model(tmp_path / "classifier.pt"),
              "redshift": tiny_model(tmp_path / "redshift.pt", head="redshift"),
              "seeds-dir": tmp_path / "no_seeds", **paths}
    argv = ["evaluate", "--params", str(params_file(tmp_path)), "--out", str(tmp_path / "out")]
    for flag, value in inputs.items():
        argv += [f"--{flag}", str(value)]
    return argv


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
    assert "usage: ciderlab" in capsys.readouterr().err


def test_unknown_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2
    assert "frobnicate" in capsys.readouterr().err


def test_unknown_flag_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["split", "--no-such-flag", "x"])
    assert exit_.value.code == 2
    assert "--no-such-flag" in capsys.readouterr().err


@pytest.mark.parametrize("stage", sorted(dvc_commands()))
def test_every_stage_takes_params_and_its_paths(stage):
    command = dvc_commands()[stage]
    values = {flag: f"/somewhere/{flag.strip('-')}" for flag in command[1::2]
              if flag not in CHOICE_FLAGS}
    argv = [command[0], "--params", "/somewhere/params.yaml"]
    argv += [item for flag, value in zip(command[1::2], command[2::2]) if flag in CHOICE_FLAGS
             for item in (flag, value)]
    for flag, value in values.items():
        argv += [flag, value]
    args = vars(build_parser().parse_args(argv))
    assert args["params"] == "/somewhere/params.yaml"
    for flag, value in values.items():
        assert str(args[flag.strip("-").replace("-", "_")]) == value


def test_pull_takes_its_output_folder():
    args = build_parser().parse_args(["pull", "--out", "/somewhere/raw"])
    assert str(args.out) == "/somewhere/raw"


def test_every_dvc_stage_command_parses_and_names_its_stage():
    commands = dvc_commands()
    assert {"split", "realise", "train_classifier", "evaluate", "cross_validate_classifier",
            "cross_validate_redshift", "train_multimodal"} <= set(commands)
    for name, argv in commands.items():
        # one stage = one subcommand of the same name, or of one head (cross_validate_<head>)
        head = argv[argv.index("--head") + 1] if "--head" in argv else None
        assert name == (argv[0] if head is None else f"{argv[0]}_{head}")
        build_parser().parse_args(argv)  # a flag dvc.yaml passes but the CLI lacks exits here


def test_split_with_a_missing_wheel_names_it(tmp_path, capsys):
    wheel = tmp_path / "missing" / "snid_sage-0.9.0-py3-none-any.whl"
    code = main(["split", "--params", str(params_file(tmp_path)), "--wheel", str(wheel),
                 "--out", str(tmp_path / "out")])
    assert code == 1
    assert str(wheel) in stderr_error(capsys, "split")


@pytest.mark.parametrize("which, name", [("classifier", "classifier.pt"),
                                         ("redshift", "redshift.pt"),
                                         ("spectra", "spectra.h5")])
def test_evaluate_with_a_missing_input_names_it(tmp_path, capsys, which, name):
    missing = tmp_path / "missing" / name
    assert main(evaluate_argv(tmp_path, **{which: missing})) == 1
    assert str(missing) in stderr_error(capsys, "evaluate")


def test_evaluate_with_a_file_that_is_not_a_checkpoint_says_so(tmp_path, capsys):
    classifier = tmp_path / "notes.pt"
    classifier.write_text("not weights")
    assert main(evaluate_argv(tmp_path, classifier=classifier)) == 1
    err = stderr_error(capsys, "evaluate")
    assert str(classifier) in err and "not a ciderlab checkpoint" in err


@pytest.mark.parametrize("stage", sorted(dvc_commands()))
def test_every_stage_reports_missing_inputs_as_an_error_not_a_traceback(stage, tmp_path, capsys):
    # dvc.yaml's own command, with every input moved to a folder that does not exist.
    missing, out = tmp_path / "missing", tmp_path / "out"
    argv = dvc_commands()[stage]
    params = params_file(tmp_path)
    raw = yaml.safe_load(params.read_text())  # the spectra source is a parameter: moved too
    raw["spectra"]["source"] = str(missing / Path(raw["spectra"]["source"]).name)
    params.write_text(yaml.safe_dump(raw))
    moved = [argv[0], "--params", str(params)]
    assert all(flag.startswith("--") for flag in argv[1::2]), argv
    for flag, value in zip(argv[1::2], argv[2::2]):
        moved += [flag, value if flag in CHOICE_FLAGS else
                  str(out / Path(value).name if flag == "--out" else missing / Path(value).name)]
    assert main(moved) == 1
    assert str(missing) in stderr_error(capsys, argv[0])
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_unknown_profile_is_named(tmp_path, capsys, tiny_wheel):
    params = params_file(tmp_path, profile="gpu")
    code = main(["split", "--params", str(params), "--wheel", str(tiny_wheel),
                 "--out", str(tmp_path / "out")])
    assert code == 1
    assert "'gpu'" in stderr_error(capsys, "split")
