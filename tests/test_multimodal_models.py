import pytest
import torch

from ciderlab.applecider.astrominn import AstroMiNN, AstroMiNNConfig, top_k_routing
from ciderlab.applecider.fusion import MODES, FusionClassifier, FusionConfig, fusion_config
from ciderlab.applecider.photometry_transformer import (EVENT_CHANNELS, PhotometryTransformer,
                                                    PhotometryTransformerConfig, Time2Vec,
                                                    masked_event_loss)
from ciderlab.spectranet.model import SpectraNetConfig

PHOTOMETRY = PhotometryTransformerConfig(n_classes=3, d_model=16, n_heads=2, n_layers=2,
                                         ff_multiplier=2, dropout=0.1, pretrain_head=True)
TOWERS = {"psf": 6, "neighbour": 4}
ASTROMINN = AstroMiNNConfig(n_classes=3, tower_sizes=TOWERS, image_channels=(4, 8),
                            tower_hidden=8, tower_out=8, expert_hidden=16, embedding_dim=16)
SPECTRANET = SpectraNetConfig(n_bins=64, channels=(4, 8), kernels=((3, 5, 7), (3, 3, 3)),
                              hidden=12, conv="direct")


def events_batch(batch=3, length=10, n_real=(10, 6, 3), seed=0):
    generator = torch.Generator().manual_seed(seed)
    events = torch.randn(batch, length, len(EVENT_CHANNELS), generator=generator)
    padding = torch.arange(length)[None, :] >= torch.tensor(n_real)[:, None]  # (B, T)
    return events, padding


def inputs(batch=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    events, padding = events_batch(batch, seed=seed)
    return {"events": events, "padding": padding,
            "cutouts": torch.randn(batch, 3, 63, 63, generator=generator),
            "metadata": {name: torch.randn(batch, n, generator=generator)
                         for name, n in TOWERS.items()},
            "spectra": torch.randn(batch, 64, generator=generator),
            "has_spectrum": torch.tensor([True, False, True][:batch])}


def test_photometry_transformer_shapes():
    model = PhotometryTransformer(PHOTOMETRY).eval()
    out = model(*events_batch())
    assert out["embedding"].shape == (3, 16)
    assert out["logits"].shape == (3, 3)


def test_padded_events_do_not_change_the_output():
    torch.manual_seed(0)
    model = PhotometryTransformer(PHOTOMETRY).eval()
    events, padding = events_batch()
    changed = events.clone()
    changed[padding] = 1e3 * torch.randn(int(padding.sum()), len(EVENT_CHANNELS))
    with torch.no_grad():
        before, after = model(events, padding), model(changed, padding)
    assert torch.allclose(before["logits"], after["logits"], atol=1e-5)
    # ...while a real event does change it (so the comparison above can fail)
    changed[0, 0] += 1.0
    with torch.no_grad():
        assert not torch.allclose(model(changed, padding)["logits"][0], before["logits"][0])


def test_time2vec_has_one_linear_and_dim_minus_one_periodic_features():
    layer = Time2Vec(8)
    t = torch.linspace(-2, 2, 5).reshape(1, 5)
    out = layer(t)
    assert out.shape == (1, 5, 8)
    linear = out[0, :, 0]
    assert torch.allclose(linear[1:] - linear[:-1], (linear[1] - linear[0]).expand(4), atol=1e-6)
    assert out[..., 1:].abs().max() <= 1.0


def test_masked_event_loss_is_finite_and_trains_the_encoder():
    torch.manual_seed(0)
    model = PhotometryTransformer(PHOTOMETRY)
    events, padding = events_batch()
    events[..., 4:7] = torch.nn.functional.one_hot(torch.randint(0, 3, (3, 10)), 3).float()
    loss = masked_event_loss(model, events, padding, torch.Generator().manual_seed(1))
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    assert model.project.weight.grad.abs().sum() > 0
    assert model.mask_token.grad.abs().sum() > 0
    plain = PhotometryTransformer(PhotometryTransformerConfig(d_model=16, n_heads=2, n_layers=1))
    with pytest.raises(ValueError, match="pretrain_head"):
        masked_event_loss(plain, events, padding, torch.Generator())


def test_router_keeps_exactly_the_top_two_weights_renormalised():
    logits = torch.randn(50, 4, generator=torch.Generator().manual_seed(3))
    weights = top_k_routing(logits, 2)
    assert ((weights > 0).sum(dim=1) == 2).all()
    assert torch.allclose(weights.sum(dim=1), torch.ones(50))
    top = logits.topk(2, dim=1).indices
    assert (weights.gather(1, top) > 0).all()
    # renormalised softmax of the two kept logits
    soft = torch.softmax(logits.gather(1, top), dim=1)
    assert torch.allclose(weights.gather(1, top), soft, atol=1e-6)


def test_astrominn_shapes_and_routing():
    model = AstroMiNN(ASTROMINN).eval()
    batch = inputs()
    out = model(batch["cutouts"], batch["metadata"])
    assert out["embedding"].shape == (3, 16) and out["logits"].shape == (3, 3)
    assert out["routing"].shape == (3, 4)
    assert ((out["routing"] > 0).sum(dim=1) == 2).all()
    assert torch.allclose(out["routing"].sum(dim=1), torch.ones(3))


def test_astrominn_needs_its_towers_by_name():
    model = AstroMiNN(ASTROMINN)
    batch = inputs()
    with pytest.raises(ValueError, match="'neighbour'"):
        model(batch["cutouts"], {"psf": batch["metadata"]["psf"]})
    with pytest.raises(ValueError, match="image tower or at least one"):
        AstroMiNNConfig(use_image=False, tower_sizes={})


@pytest.mark.parametrize("mode", list(MODES))
def test_fusion_modes_output_shapes(mode):
    torch.manual_seed(0)
    model = FusionClassifier(fusion_config(mode, 3, PHOTOMETRY, ASTROMINN, SPECTRANET)).eval()
    out = model(inputs())
    assert out["logits"].shape == (3, 3)
    uses_astrominn = {"image", "metadata"} & set(MODES[mode])
    assert (out["routing"] is None) == (not uses_astrominn)
    for embedding in out["embeddings"].values():
        assert embedding.shape[0] == 3


def test_fusion_reads_only_the_inputs_of_its_mode():
    torch.manual_seed(0)
    model = FusionClassifier(fusion_config("meta", 3, PHOTOMETRY, ASTROMINN)).eval()
    batch = inputs()
    other = {**inputs(seed=1), "metadata": batch["metadata"]}  # new events, stamps, spectra
    with torch.no_grad():
        assert torch.allclose(model(batch)["logits"], model(other)["logits"])


def test_a_source_without_a_spectrum_ignores_the_spectra_input():
    torch.manual_seed(0)
    model = FusionClassifier(fusion_config("all", 3, PHOTOMETRY, ASTROMINN, SPECTRANET)).eval()
    batch = inputs()
    changed = {**batch, "spectra": batch["spectra"] + 5 * torch.randn(3, 64)}
    with torch.no_grad():
        before, after = model(batch)["logits"], model(changed)["logits"]
    assert torch.allclose(before[1], after[1])       # has_spectrum False
    assert not torch.allclose(before[0], after[0])   # has_spectrum True


def test_fusion_config_checks_the_mode_and_round_trips_as_a_dict():
    with pytest.raises(ValueError, match="unknown mode"):
        FusionConfig(mode="radio")
    with pytest.raises(ValueError, match="needs a photometry config"):
        FusionConfig(mode="photo")
    config = fusion_config("ztf", 3, PHOTOMETRY, ASTROMINN)
    again = FusionConfig(**config.to_dict())
    assert again == config
    assert FusionClassifier(again).load_state_dict(FusionClassifier(config).state_dict())
