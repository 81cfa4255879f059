import numpy as np
import pytest
import torch

from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.training.heads import CLASSIFIER, Objective
from ciderlab.training.loop import make_scheduler
from ciderlab.training.spectra_batches import edge_mask
from recipes import fit_arrays, recipe

TINY = dict(n_bins=64, n_outputs=3, channels=(4, 4, 8, 8, 8),
            kernels=((3, 5, 9),) * 5, hidden=8, dropout=0.1)


def toy_data(n=96, seed=0):
    """Three classes told apart by where a bump sits (inside the span edge masking keeps)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = np.arange(64)
    flux = rng.normal(0, 0.3, (n, 64)) + np.exp(-0.5 * ((x[None] - (20 + 12 * labels[:, None])) / 3) ** 2)
    # normalised per spectrum, as every model input is (the preprocessing's last step)
    flux = (flux - flux.mean(axis=1, keepdims=True)) / flux.std(axis=1, keepdims=True)
    return torch.tensor(flux, dtype=torch.float32), torch.tensor(labels)


def run(cfg, state_path=None, run_id="toy"):
    torch.manual_seed(cfg.seed)
    model = SpectraNet(SpectraNetConfig(**TINY))
    flux, labels = toy_data()
    flux_val, labels_val = toy_data(48, seed=1)
    return fit_arrays(model, flux, labels, flux_val, labels_val, cfg, state_path=state_path,
                      run_id=run_id, progress=False)


CFG = recipe(seed=3, lr=3e-3, batch_size=16, max_epochs=4, warmup_epochs=1, patience=10)


def test_training_learns_the_toy_problem():
    # The authors' focal loss: eight short epochs are enough with it on this toy problem.
    result = run(recipe(seed=3, lr=3e-3, batch_size=16, max_epochs=8, warmup_epochs=1,
                        patience=10, ema_decay=0.9, use_focal_loss=True))
    assert result["best_score"] > 0.8
    assert len(result["history"]) == 8


def test_same_seed_gives_identical_training_on_cpu():
    a, b = run(CFG), run(CFG)
    assert [h["val_macro_f1"] for h in a["history"]] == [h["val_macro_f1"] for h in b["history"]]
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key])


def test_interrupted_training_resumes_to_the_same_result(tmp_path):
    from dataclasses import replace

    state = tmp_path / "state.pt"
    run(replace(CFG, max_epochs=2), state_path=state)  # "killed" after two epochs
    assert state.exists()
    resumed = run(CFG, state_path=state)
    straight = run(CFG)
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3, 4]
    assert resumed["history"][-1]["train_loss"] == pytest.approx(straight["history"][-1]["train_loss"])
    for key in straight["state_dict"]:
        assert torch.allclose(resumed["state_dict"][key], straight["state_dict"][key])


def test_state_of_another_run_is_not_resumed(tmp_path):
    from dataclasses import replace

    state = tmp_path / "state.pt"
    run(replace(CFG, max_epochs=2), state_path=state, run_id="other")
    result = run(CFG, state_path=state, run_id="toy")
    assert [h["epoch"] for h in result["history"]] == [1, 2, 3, 4]


def test_early_stopping_stops_after_patience_epochs_without_gain():
    result = run(recipe(seed=3, lr=0.0, batch_size=16, max_epochs=20, warmup_epochs=0,
                             patience=2, ema_decay=0.0))
    # lr 0: the score never improves after epoch 1, so epochs 2 and 3 are stale and it stops
    assert len(result["history"]) == 3 and result["best_epoch"] == 1


def test_edge_mask_cuts_only_the_ends_of_the_covered_span_and_renormalises():
    generator = torch.Generator().manual_seed(0)
    flux = torch.zeros(200, 100)
    flux[:, 10:90] = torch.randn(200, 80, generator=generator) + 3.0
    masked = edge_mask(flux, 0.25, torch.Generator().manual_seed(0))
    assert torch.all(masked[:, :10] == 0) and torch.all(masked[:, 90:] == 0)
    kept = (masked != 0).sum(dim=1)
    assert kept.min() >= 80 * 0.5 - 2 and kept.max() <= 80
    assert (kept < 80).float().mean() > 0.9  # nearly every spectrum loses something
    for row, original in zip(masked[:20], flux[:20]):
        nz = torch.nonzero(row).squeeze(1)
        assert nz[-1] - nz[0] + 1 == len(nz)  # one contiguous block in the middle
        # the kept bins are re-normalised, as the preprocessing does to a short spectrum
        assert row[nz].mean().abs() < 1e-5 and (row[nz].std(unbiased=False) - 1).abs() < 1e-4
        expected = (original[nz] - original[nz].mean()) / original[nz].std(unbiased=False)
        assert torch.allclose(row[nz], expected, atol=1e-5)
    assert torch.equal(edge_mask(flux, 0.0, torch.Generator()), flux)


def test_schedule_warms_up_then_restarts():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([param], lr=1.0)
    sched = make_scheduler(opt, recipe(lr=1.0, warmup_epochs=3, restart_epochs=5, lr_min=0.0))
    lrs = []
    for _ in range(14):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] < lrs[1] < lrs[2] < lrs[3] == pytest.approx(1.0)
    assert lrs[4] < lrs[3]  # cosine decay
    assert lrs[8] == pytest.approx(1.0)  # warm restart after T_0 = 5 epochs


def test_samples_per_epoch_draws_a_fixed_number_each_epoch():
    from dataclasses import replace

    calls = []
    cfg = replace(CFG, samples_per_epoch=32, max_epochs=2)
    torch.manual_seed(cfg.seed)
    model = SpectraNet(SpectraNetConfig(**TINY))
    flux, labels = toy_data()
    objective = CLASSIFIER.objective(labels, 3, cfg)

    def counting_loss(network, inputs, target, epoch, generator):
        calls.append(len(target))
        return objective.loss(network, inputs, target, epoch, generator)

    fit_arrays(model, flux, labels, flux[:16], labels[:16], cfg,
               Objective(counting_loss, objective.score), progress=False)
    # two epochs of 32 of the 96 training spectra: two batches of 16 each, no empty batches
    assert calls == [16, 16, 16, 16]


# A training run in a child process, so that it can be killed for real (SIGKILL: no clean-up
# code runs) part-way through an epoch. ``kill_after`` counts loss evaluations (batches).
CHILD_RUN = """
import json, os, signal, sys
import torch
torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
from test_train import CFG, TINY, toy_data
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.training.heads import CLASSIFIER, Objective
from recipes import fit_arrays

kill_after = {kill_after}
torch.manual_seed(CFG.seed)
model = SpectraNet(SpectraNetConfig(**TINY))
flux, labels = toy_data()
flux_val, labels_val = toy_data(48, seed=1)
objective = CLASSIFIER.objective(labels, 3, CFG)
calls = []

def loss_that_dies(network, inputs, target, epoch, generator):
    calls.append(1)
    if kill_after and len(calls) > kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
    return objective.loss(network, inputs, target, epoch, generator)

result = fit_arrays(model, flux, labels, flux_val, labels_val, CFG,
                    Objective(loss_that_dies, objective.score), state_path={state!r},
                    run_id="toy", progress=True)
json.dump({{"history": result["history"],
           "weights": {{k: v.tolist() for k, v in result["state_dict"].items()}}}},
          open({out!r}, "w"))
"""


def run_child(tmp_path, state, kill_after, out):
    import subprocess
    import sys
    from pathlib import Path

    code = CHILD_RUN.format(tests=str(Path(__file__).parent), kill_after=kill_after,
                            state=str(state), out=str(out))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)


def test_training_killed_mid_epoch_resumes_and_matches_an_uninterrupted_run(tmp_path):
    import json
    import signal

    state = tmp_path / "state.pt"
    batches_per_epoch = 96 // CFG.batch_size
    # Killed in the middle of epoch 3: epochs 1-2 are saved, epoch 3's batches are lost.
    killed = run_child(tmp_path, state, 2 * batches_per_epoch + batches_per_epoch // 2,
                       tmp_path / "never.json")
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "never.json").exists()
    assert state.exists() and not list(tmp_path.glob(".*.part"))  # only whole state files
    resumed = run_child(tmp_path, state, 0, tmp_path / "resumed.json")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming toy after epoch 2" in resumed.stdout + resumed.stderr
    straight = run_child(tmp_path, tmp_path / "fresh.pt", 0, tmp_path / "straight.json")
    assert straight.returncode == 0, straight.stderr
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("resumed.json", "straight.json"))
    assert [h["epoch"] for h in a["history"]] == [1, 2, 3, 4]
    assert [h["val_macro_f1"] for h in a["history"]] == [h["val_macro_f1"] for h in b["history"]]
    assert a["weights"] == b["weights"]  # bit-identical on CPU with the same seed
