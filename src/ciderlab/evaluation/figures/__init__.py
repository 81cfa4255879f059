"""One ``fig_*`` function per book figure. Each reads results (tables, dicts, arrays) and returns
a matplotlib Figure; none reads files or trains anything, so restyling never recomputes.

Figures are built with the object-oriented API (no pyplot state): a notebook cell that
returns one shows it exactly once, and nothing needs a display. Statistical plots (annotated
heatmaps, distributions by class, residual distributions) are seaborn's axes-level functions,
always handed an axes of our Figure; seaborn's global theme is never set.
"""

from ciderlab.evaluation.figures.classification import (fig_accuracy_vs, fig_confusion_matrix,
                                                        fig_paired_differences, fig_roc,
                                                        fig_training_curves)
from ciderlab.evaluation.figures.classified import fig_classified_spectrum
from ciderlab.evaluation.figures.comparison import (fig_disagreements, fig_method_confusion,
                                                    fig_method_redshift, fig_spectral_branches)
from ciderlab.evaluation.figures.data import (fig_continuum_draws, fig_distributions,
                                              fig_preprocessing)
from ciderlab.evaluation.figures.redshift import fig_redshift, fig_redshift_training

__all__ = [
    "fig_accuracy_vs", "fig_classified_spectrum", "fig_confusion_matrix",
    "fig_continuum_draws", "fig_disagreements",
    "fig_distributions", "fig_method_confusion", "fig_method_redshift", "fig_preprocessing",
    "fig_redshift", "fig_redshift_training", "fig_roc", "fig_spectral_branches",
    "fig_training_curves",
    "fig_paired_differences",
]
