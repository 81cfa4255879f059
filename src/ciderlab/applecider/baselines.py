"""What AppleCiDEr's modes are measured against: chance and one simple model, on the same folds.

Each baseline sees exactly what a network of the same fold sees (its training alerts, their
labels and the scaled metadata) and answers every test alert with class probabilities:

* ``majority class``: always the training fold's most common class;
* ``stratified chance``: a class drawn at random with the training fold's class frequencies
  (seeded), the score of guessing;
* ``logistic regression (metadata)``: a linear model on the metadata features the ``meta``
  mode's towers read (scikit-learn, classes weighted by inverse frequency as the networks'
  loss is), the score a network has to beat to earn its complexity.
"""

from __future__ import annotations

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

BASELINES = ("majority class", "stratified chance", "logistic regression (metadata)")


def baseline_probabilities(name: str, train_x: np.ndarray, train_y: np.ndarray,
                           test_x: np.ndarray, n_classes: int, seed: int) -> np.ndarray:
    """(n_test, n_classes) probabilities of baseline ``name`` trained on one fold."""
    if name == "majority class":
        model = DummyClassifier(strategy="most_frequent")
    elif name == "stratified chance":
        model = DummyClassifier(strategy="stratified", random_state=seed)
    elif name == "logistic regression (metadata)":
        model = LogisticRegression(max_iter=5000, class_weight="balanced")
    else:
        raise ValueError(f"unknown baseline {name!r}; one of {BASELINES}")
    model.fit(train_x, train_y)
    proba = np.zeros((len(test_x), n_classes))
    proba[:, model.classes_] = model.predict_proba(test_x)
    return proba
