import numpy as np
import pytest
import torch

from recipes import preprocess_config, recipe
from ciderlab.training.heads import CLASSIFIER
from ciderlab.applecider.galspecnet import GalSpecNet, GalSpecNetConfig
from ciderlab.applecider.galspecnet_input import GalSpecInputConfig, GalSpecInputs
from ciderlab.training.folds import cross_validate

from test_crossval import TINY, toy_set


@pytest.mark.parametrize("channels, kernel, pool", [((8, 16, 32, 32), 5, 4), ((4,), 3, 2),
                                                    ((4, 8), 7, 8)])
def test_logits_per_class_for_a_batch_of_1a_spectra(channels, kernel, pool):
    config = GalSpecNetConfig(n_bins=3481, n_outputs=6, channels=channels, kernel_size=kernel,
                              pool_size=pool, dropout=0.1)
    model = GalSpecNet(config).eval()
    assert model(torch.randn(3, 3481)).shape == (3, 6)
    # the flattened length it was built for is the length the blocks really leave
    assert model.features(torch.randn(1, 1, 3481)).shape[-1] == config.feature_length()


def test_an_input_too_short_for_the_blocks_is_refused():
    with pytest.raises(ValueError, match="too few"):
        GalSpecNetConfig(n_bins=40, channels=(4, 4, 4), kernel_size=5, pool_size=4)


def test_cross_validated_on_the_same_rows_and_folds_as_spectranet(tmp_path):
    meta, folds, flux, target = toy_set()
    rng = np.random.default_rng(3)
    wave_obs = preprocess_config(n_bins=64).wave_obs_aa
    raw = 1.0 + rng.random((len(meta), 64))
    raw[meta["label"].to_numpy() == "TDE", 20:30] += 3.0  # a broad bump the CNN can find
    inputs = GalSpecInputs(raw, np.ones(raw.shape, bool), wave_obs,
                           GalSpecInputConfig(5000.0, 6000.0, 4.0))
    config = GalSpecNetConfig(n_bins=inputs.shape[1], n_outputs=2, channels=(4, 4),
                              kernel_size=5, pool_size=4, dropout=0.0)
    cfg = recipe(seed=1, lr=3e-3, batch_size=16, max_epochs=2, warmup_epochs=0,
                         patience=2, edge_mask_max_fraction=0.0)
    galspec = cross_validate(CLASSIFIER, inputs, target, meta, folds, 0.2, "salt", 2, config,
                             cfg, "toy", state_dir=tmp_path, progress=False,
                             build_model=GalSpecNet, name="galspecnet")
    spectranet = cross_validate(CLASSIFIER, flux, target, meta, folds, 0.2, "salt", 2, TINY,
                                cfg, "toy", progress=False)
    assert galspec[["row", "fold"]].equals(spectranet[["row", "fold"]])
    assert (galspec["best_epoch"] >= 1).all()
    assert np.allclose(galspec[["p_0", "p_1"]].sum(axis=1), 1.0, atol=1e-5)
    assert not list(tmp_path.glob("cv_galspecnet_fold*.pt"))  # cleaned up once all folds ran
