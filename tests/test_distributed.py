"""Data-parallel training: two gloo processes under torchrun reproduce one process's run."""

import os
import runpy
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ciderlab.errors import InputError
from ciderlab.training.distributed import DistributedContext, context_from_env

# The worker trains with the library's own train_one and fit, once alone (imported here) and
# once per rank under torchrun. Dropout is off: each rank draws its own dropout masks.
WORKER = '''
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ciderlab.errors import InputError
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.training import distributed
from ciderlab.training.heads import CLASSIFIER
from ciderlab.training.runs import train_one

sys.path.insert(0, TESTS_DIR)  # the tests' recipes (params.yaml's, with a few values changed)
from recipes import fit_arrays, recipe  # noqa: E402

CONFIG = SpectraNetConfig(n_bins=32, n_outputs=3, channels=(4, 4, 4, 8, 8),
                          kernels=((3, 5, 9),) * 5, hidden=8, dropout=0.0)
CFG = recipe(seed=11, lr=3e-3, batch_size=16, max_epochs=3, warmup_epochs=1, patience=10,
                  ema_decay=0.9)
# 45 training spectra in batches of 16: the last global batch (13) splits 6 / 7 over 2 ranks.
TRAIN, VAL = np.arange(45), np.arange(45, 60)


def data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 60)
    x = np.arange(32)
    flux = rng.normal(0, 0.3, (60, 32)) + np.exp(-0.5 * ((x[None] - (8 + 8 * labels[:, None])) / 2) ** 2)
    flux = (flux - flux.mean(axis=1, keepdims=True)) / flux.std(axis=1, keepdims=True)
    return flux.astype(np.float32), torch.as_tensor(labels)


def train(state_dir):
    flux, labels = data()
    trained = train_one(CLASSIFIER, flux, labels, TRAIN, VAL, CONFIG, CFG, "toy",
                        state_path=None if state_dir is None else state_dir / "state.pt",
                        progress=False)
    return {"state_dict": trained.model.state_dict(), "history": trained.history}


def run_fit(cfg, state_path):
    flux, labels = data()
    flux = torch.from_numpy(flux)
    torch.manual_seed(cfg.seed)
    return fit_arrays(SpectraNet(CONFIG), flux[TRAIN], labels[TRAIN], flux[VAL], labels[VAL], cfg,
                      state_path=state_path, run_id="toy", progress=False)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    context = distributed.context_from_env()
    with distributed.process_group(context, torch.device("cpu")):
        mine = out / f"rank{context.rank}"  # each rank's own folder shows who wrote a state
        result = {"world_size": distributed.world_size(), "train": train(mine)}
        run_fit(replace(CFG, max_epochs=2), mine / "resume.pt")  # "killed" after two epochs
        result["resumed"] = run_fit(replace(CFG, max_epochs=4), mine / "resume.pt")
        try:
            distributed.check_batches(3, 2)  # a last batch of 1 for 2 processes
            result["refused"] = ""
        except InputError as error:
            result["refused"] = str(error)
    torch.save(result, out / f"rank{context.rank}.pt")
'''


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(single-process results, [rank 0's, rank 1's] results, output folder)."""
    out = tmp_path_factory.mktemp("ddp")
    script = out / "worker.py"
    script.write_text(WORKER.replace("TESTS_DIR", repr(str(Path(__file__).parent))))
    env = {k: v for k, v in os.environ.items()
           if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node", "2", str(script), str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    worker = runpy.run_path(str(script))
    single = {"train": worker["train"](None),
              "straight": worker["run_fit"](replace(worker["CFG"], max_epochs=4), None)}
    ranks = [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]
    return single, ranks, out


def assert_close_weights(a, b, atol=1e-5):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=atol, rtol=0), \
            f"{key}: max |diff| {(a[key] - b[key]).abs().max():.2e}"


def test_two_processes_reproduce_one_process_with_the_same_global_batch(runs):
    single, ranks, _ = runs
    assert [r["world_size"] for r in ranks] == [2, 2]  # really ran data-parallel
    for rank in ranks:
        assert_close_weights(rank["train"]["state_dict"], single["train"]["state_dict"])
        ddp, one = rank["train"]["history"], single["train"]["history"]
        assert [h["epoch"] for h in ddp] == [h["epoch"] for h in one] == [1, 2, 3]
        for key in ("train_loss", "val_loss", "val_macro_f1", "lr"):
            assert [h[key] for h in ddp] == pytest.approx([h[key] for h in one], rel=1e-5,
                                                          abs=1e-6), key


def test_every_rank_ends_with_the_same_weights(runs):
    _, (rank0, rank1), _ = runs
    for key, value in rank0["train"]["state_dict"].items():
        assert torch.equal(value, rank1["train"]["state_dict"][key]), key


def test_only_rank_0_writes_the_state_file(runs):
    _, _, out = runs
    assert (out / "rank0" / "state.pt").exists()
    assert not (out / "rank1").exists()


def test_an_interrupted_data_parallel_run_resumes_to_the_uninterrupted_result(runs):
    single, ranks, _ = runs
    for rank in ranks:  # rank 1 has no state file of its own: it resumes from rank 0's
        assert [h["epoch"] for h in rank["resumed"]["history"]] == [1, 2, 3, 4]
        assert_close_weights(rank["resumed"]["state_dict"], single["straight"]["state_dict"])


def test_a_batch_too_small_to_share_is_refused_with_what_to_change(runs):
    _, ranks, _ = runs
    for rank in ranks:
        assert "2 processes cannot share batches of 1" in rank["refused"]
        assert "--nproc-per-node" in rank["refused"]


def test_the_torchrun_environment_is_read_and_checked():
    assert context_from_env({}) == DistributedContext(1, 0, 0)
    assert not context_from_env({}).is_distributed
    context = context_from_env({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert context == DistributedContext(4, 3, 1) and context.is_distributed
    with pytest.raises(InputError, match="RANK 4 / LOCAL_RANK 0 do not fit WORLD_SIZE 4"):
        context_from_env({"WORLD_SIZE": "4", "RANK": "4", "LOCAL_RANK": "0"})
    with pytest.raises(InputError, match="not integers"):
        context_from_env({"WORLD_SIZE": "two"})
