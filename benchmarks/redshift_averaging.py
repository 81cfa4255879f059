"""Classifying at the predicted redshift: one point, or class probabilities averaged across its
interval (what ``ciderlab classify`` does), measured on the fixed fold's validation objects.

    python benchmarks/redshift_averaging.py \
        --out benchmarks/results/redshift_averaging.jsonl

The shipped classifier and redshift model on the fixed fold's scored validation spectra, each
de-redshifted through the one preprocessing path (``rest_frame_inputs``) at the catalogue
redshift, at the predicted one, and at ``classify.interval_redshifts`` across the predicted one's
interval (the reliability stage's half-width for the spectrum's S/N; the realisation's S/N
stands in for ``classify``'s estimate), probabilities weighted as ``classify`` weights them
(the same function). One JSON line: accuracy and macro-F1 over the headline classes
for each. Validation objects only: test objects choose nothing. Needs a built pipeline.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from ciderlab.checkpoint import load_checkpoint
from ciderlab.evaluation import intervals
from ciderlab.io import load_json
from ciderlab.prediction import outputs, redshifts
from ciderlab.spectra.preprocess import PreprocessConfig, rest_frame_inputs
from ciderlab.spectranet.classify import interval_redshifts
from validation_set import begin, record_scores


def main() -> None:
    args, started, val = begin(__doc__)
    params, results = val.params, val.results
    flux_obs, covered, meta = val.spectra.flux_obs, val.spectra.covered_obs, val.spectra.meta
    classifier = load_checkpoint(results / "train_classifier/classifier.pt")[0]
    z_pred = redshifts(load_checkpoint(results / "train_redshift/redshift.pt")[0], flux_obs)
    reliability = load_json(results / "reliability/reliability.json")
    band, temperature = reliability["redshift_interval"], reliability["calibration"]["temperature"]
    edges = np.concatenate([[-np.inf], band["snr_inner_edges"], [np.inf]])
    half = intervals.halfwidth_for(meta["snr"].to_numpy(), edges, np.asarray(band["halfwidths"]))
    cfg = PreprocessConfig.from_resolved(params)

    def proba_at(z: np.ndarray) -> np.ndarray:
        logits = outputs(classifier, rest_frame_inputs(flux_obs, covered, z, cfg)).numpy()
        return softmax(logits / temperature, axis=1)  # tempered, as classify averages them

    points, weights = interval_redshifts(z_pred, half)
    averaged = sum(w * proba_at(points[:, j]) for j, w in enumerate(weights))
    conditions = {"catalogue redshift": proba_at(meta["redshift"].to_numpy(float)),
                  "predicted redshift, one point": proba_at(z_pred),
                  "predicted redshift, averaged over its interval": averaged}
    record_scores(args.out, val, conditions, started)


if __name__ == "__main__":
    main()
