"""Bad settings, archives, checkpoints and paths: one clear line, a non-zero exit, no output."""

import shutil
import zipfile
from pathlib import Path

import pytest
import torch
import yaml

from ciderlab.cli import main
from ciderlab.data.pull import SNID_SAGE_WHEEL
from ciderlab.models.checkpoint import save_checkpoint
from ciderlab.models.spectranet import SpectraNet, SpectraNetConfig

REPO_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def edited_params(tmp_path, edit):
    """A copy of the repository's params.yaml with ``edit`` applied to the parsed mapping."""
    raw = yaml.safe_load(REPO_PARAMS.read_text())
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def rename(section, old, new):
    def edit(raw):
        target = raw if section is None else raw[section]
        target[new] = target.pop(old)
    return edit


def set_value(section, key, value):
    def edit(raw):
        raw[section][key] = value
    return edit


def not_yaml(tmp_path, wheel):
    path = tmp_path / "params.yaml"
    path.write_text(REPO_PARAMS.read_text().replace("  n_folds: 5", "  n_folds: [5", 1))
    return path


def truncated(tmp_path, wheel):
    path = tmp_path / "data" / wheel.name
    path.parent.mkdir()
    path.write_bytes(wheel.read_bytes()[: wheel.stat().st_size // 2])
    return path


def damaged_member(tmp_path, wheel):
    """One byte of a template file flipped: the zip directory is intact, the CRC-32 is not."""
    path = tmp_path / "data" / wheel.name
    path.parent.mkdir()
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("snid_sage/templates/templates_Ia.hdf5")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def wrong_hash(tmp_path, wheel):
    """A valid wheel holding a valid bank, padded to the published size: only the hash differs."""
    path = tmp_path / "data" / wheel.name
    path.parent.mkdir()

    def write(padding):
        shutil.copyfile(wheel, path)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("snid_sage/padding", bytes(padding))

    write(0)
    write(SNID_SAGE_WHEEL.size_bytes - path.stat().st_size)
    assert path.stat().st_size == SNID_SAGE_WHEEL.size_bytes
    return path


def a_directory(tmp_path, wheel):
    path = tmp_path / "data" / wheel.name
    path.mkdir(parents=True)
    return path


def params_directory(tmp_path, wheel):
    path = tmp_path / "params.yaml"
    path.mkdir()
    return path


def damaged_checkpoint(tmp_path, wheel):
    path = tmp_path / "classifier.pt"
    config = SpectraNetConfig(n_bins=64, n_outputs=2, channels=(4, 4), kernels=((3,), (3,)),
                              hidden=4)
    save_checkpoint(path, SpectraNet(config).state_dict(), config, classes=["a", "b"])
    path.write_bytes(path.read_bytes()[:-200])  # a copy cut short
    return path


# case: (command, make the bad input, which argument it is, what the message must say)
CASES = {
    "params: not YAML": ("split", not_yaml, "--params", ["not valid YAML", "line", "fix"]),
    "params: misspelt section": ("split", lambda t, w: edited_params(
        t, rename(None, "train_classifier", "trian_classifier")), "--params",
        ["unknown key 'trian_classifier'", "did you mean 'train_classifier'?"]),
    "params: unknown key in a section": ("split", lambda t, w: edited_params(
        t, rename("model", "hidden", "hiden")), "--params",
        ["unknown key 'model.hiden'", "did you mean 'hidden'?"]),
    "params: a string for a number": ("split", lambda t, w: edited_params(
        t, set_value("train_redshift", "lr", "1e-3")), "--params",
        ["train_redshift.lr is '1e-3', expected a number", "1.0e-3"]),
    "params: a directory": ("split", params_directory, "--params",
                            ["cannot be read", "pass a readable params.yaml"]),
    "wheel: truncated": ("split", truncated, "--wheel",
                         ["is truncated or corrupt (zip error", "run `make data`"]),
    "wheel: damaged member": ("realise", damaged_member, "--wheel",
                              ["is truncated or corrupt (zip error: Bad CRC-32",
                               "run `make data`"]),
    "wheel: published size, other hash": ("split", wrong_hash, "--wheel",
                                          ["is corrupt (sha256", SNID_SAGE_WHEEL.sha256,
                                           "run `make data`"]),
    "wheel: a directory": ("split", a_directory, "--wheel",
                           ["is a directory", "pass a readable file"]),
    "checkpoint: cut short": ("export", damaged_checkpoint, "--classifier",
                              ["damaged or truncated checkpoint", "rerun the training stage"]),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_clear_line_and_writes_nothing(case, tmp_path, tiny_wheel, capsys):
    command, make_bad, flag, expected = CASES[case]
    out = tmp_path / "out"
    argv = {"split": ["split", "--params", str(REPO_PARAMS), "--wheel", str(tiny_wheel)],
            "realise": ["realise", "--params", str(REPO_PARAMS), "--wheel", str(tiny_wheel),
                        "--split-dir", str(tmp_path / "split")],
            "export": ["export", "--onnx", "--redshift", str(tmp_path / "redshift.pt")],
            }[command] + ["--out", str(out)]
    bad = make_bad(tmp_path, tiny_wheel)
    if flag in argv:
        argv[argv.index(flag) + 1] = str(bad)
    else:
        argv += [flag, str(bad)]
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith(f"ciderlab {command}: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert str(bad) in err, err
    for phrase in expected:
        assert phrase in err, err
    assert not out.exists()
