import numpy as np
import pytest
import torch

from ciderlab.model import SpectraNet, SpectraNetConfig
from ciderlab.train import TrainConfig, classifier_objective, edge_mask, fit, make_scheduler

TINY = dict(n_bins=64, n_outputs=3, channels=(4, 4, 8, 8, 8),
            kernels=((3, 5, 9),) * 5, hidden=8, dropout=0.1)


def toy_data(n=96, seed=0):
    """Three classes told apart by where a bump sits; enough to learn in a few epochs."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = np.arange(64)
    flux = rng.normal(0, 0.3, (n, 64)) + np.exp(-0.5 * ((x[None] - (12 + 20 * labels[:, None])) / 3) ** 2)
    return torch.tensor(flux, dtype=torch.float32), torch.tensor(labels)


def run(cfg, state_path=None, run_id="toy"):
    torch.manual_seed(cfg.seed)
    model = SpectraNet(SpectraNetConfig(**TINY))
    flux, labels = toy_data()
    flux_val, labels_val = toy_data(48, seed=1)
    loss_fn, score_fn = classifier_objective(labels, 3, cfg)
    return fit(model, flux, labels, flux_val, labels_val, cfg, loss_fn, score_fn,
               state_path=state_path, run_id=run_id, progress=False)


CFG = TrainConfig(seed=3, lr=3e-3, batch_size=16, max_epochs=4, warmup_epochs=1, patience=10)


def test_training_learns_the_toy_problem():
    result = run(TrainConfig(seed=3, lr=3e-3, batch_size=16, max_epochs=8, warmup_epochs=1,
                             patience=10, ema_decay=0.9))
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
    result = run(TrainConfig(seed=3, lr=0.0, batch_size=16, max_epochs=20, warmup_epochs=0,
                             patience=2, ema_decay=0.0))
    # lr 0: the score never improves after epoch 1, so epochs 2 and 3 are stale and it stops
    assert len(result["history"]) == 3 and result["best_epoch"] == 1


def test_edge_mask_zeroes_only_the_ends_of_the_covered_span():
    flux = torch.zeros(200, 100)
    flux[:, 10:90] = 1.0
    masked = edge_mask(flux, 0.25, torch.Generator().manual_seed(0))
    assert torch.all(masked[:, :10] == 0) and torch.all(masked[:, 90:] == 0)
    kept = (masked != 0).sum(dim=1)
    assert kept.min() >= 80 * 0.5 - 2 and kept.max() <= 80
    assert (kept < 80).float().mean() > 0.9  # nearly every spectrum loses something
    # the kept part is one contiguous block in the middle
    for row in masked[:20]:
        nz = torch.nonzero(row).squeeze(1)
        assert nz[-1] - nz[0] + 1 == len(nz)
    assert torch.equal(edge_mask(flux, 0.0, torch.Generator()), flux)


def test_schedule_warms_up_then_restarts():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([param], lr=1.0)
    sched = make_scheduler(opt, TrainConfig(lr=1.0, warmup_epochs=3, restart_epochs=5, lr_min=0.0))
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
    loss_fn, score_fn = classifier_objective(labels, 3, cfg)

    def counting_loss(output, target):
        calls.append(len(target))
        return loss_fn(output, target)

    fit(model, flux, labels, flux[:16], labels[:16], cfg, counting_loss, score_fn, progress=False)
    # two epochs of 32 of the 96 training spectra: two batches of 16 each, no empty batches
    assert calls == [16, 16, 16, 16]
