import math

import pytest
import torch
from torch.nn import functional as F

from ciderlab.training.losses import class_balanced_weights, focal_loss


def test_focal_loss_without_focus_or_weights_is_cross_entropy():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    target = torch.tensor([0, 2])
    assert focal_loss(logits, target, gamma=0.0) == pytest.approx(float(F.cross_entropy(logits, target)))


def test_focal_loss_hand_computed():
    # two classes, logits (0, ln 3): p = (0.25, 0.75)
    logits = torch.tensor([[0.0, math.log(3.0)]])
    loss = focal_loss(logits, torch.tensor([1]), gamma=2.0)
    assert float(loss) == pytest.approx(-(0.25 ** 2) * math.log(0.75), rel=1e-6)
    alpha = torch.tensor([0.9, 0.1])
    weighted = focal_loss(logits, torch.tensor([0]), alpha=alpha, gamma=2.0)
    assert float(weighted) == pytest.approx(-0.9 * 0.75 ** 2 * math.log(0.25), rel=1e-6)


def test_focal_loss_down_weights_easy_examples():
    easy = torch.tensor([[5.0, 0.0]])
    hard = torch.tensor([[0.2, 0.0]])
    target = torch.tensor([0])
    ratio_focal = focal_loss(easy, target, gamma=2) / focal_loss(hard, target, gamma=2)
    ratio_ce = focal_loss(easy, target, gamma=0) / focal_loss(hard, target, gamma=0)
    assert ratio_focal < ratio_ce


def test_class_balanced_weights_hand_computed():
    beta = 0.9
    weights = class_balanced_weights(torch.tensor([1, 2]), beta=beta)
    raw = torch.tensor([(1 - beta) / (1 - beta), (1 - beta) / (1 - beta ** 2)])
    assert torch.allclose(weights, raw / raw.sum())
    assert float(weights.sum()) == pytest.approx(1.0)


def test_rare_classes_weigh_more_and_empty_classes_nothing():
    weights = class_balanced_weights(torch.tensor([1000, 10, 0]), beta=0.9999)
    assert weights[1] > weights[0] > 0
    assert weights[2] == 0
    with pytest.raises(ValueError, match="no class"):
        class_balanced_weights(torch.tensor([0, 0]))
