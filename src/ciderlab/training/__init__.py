"""Training: the loop, the losses, and runs over seeds and cross-validation folds."""
