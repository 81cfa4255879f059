"""Tables for the book, built from results files' contents (never typed by hand), and
``show``, the one way the book displays them."""

from ciderlab.evaluation.tables.comparison import (LITERATURE_IA_ACCURACY, PAPER_REDSHIFT_RMS,
                                                   table_like_for_like, table_literature,
                                                   table_method_comparison,
                                                   table_paper_beside_us,
                                                   table_spectral_branches)
from ciderlab.evaluation.tables.data import (SPLITS, source_note, table_dataset, table_dropped_classes,
                                             table_dropped_templates, table_duplicates,
                                             table_folds, table_label_fixes)
from ciderlab.evaluation.tables.display import mean_std, show
from ciderlab.evaluation.tables.own_data import table_catalogue_classes, table_catalogue_starts
from ciderlab.evaluation.tables.reconstruction import table_reconstruction
from ciderlab.evaluation.tables.reliability import (table_domain_gap, table_interval_coverage,
                                                    table_none_of_these,
                                                    table_out_of_class_halvings,
                                                    table_real_answers,
                                                    table_real_per_class, table_real_set,
                                                    table_noise_texture, table_realism_switches,
                                                    table_redshift_averaging)
from ciderlab.evaluation.tables.results import (table_ablation, table_architecture,
                                                table_classification_report,
                                                table_cross_validation,
                                                table_cross_validation_classes,
                                                table_object_accuracy,
                                                table_preprocessing_options,
                                                table_redshift_metrics, table_scenarios,
                                                table_seed_report, table_seen_against_unseen,
                                                table_selection, table_top_confusions)

__all__ = [
    "source_note", "table_catalogue_classes", "table_catalogue_starts",
    "LITERATURE_IA_ACCURACY", "PAPER_REDSHIFT_RMS", "SPLITS", "mean_std", "show", "table_ablation", "table_architecture",
    "table_classification_report", "table_cross_validation", "table_cross_validation_classes",
    "table_dataset", "table_domain_gap", "table_dropped_classes", "table_dropped_templates", "table_duplicates",
    "table_folds", "table_interval_coverage", "table_label_fixes", "table_like_for_like", "table_literature", "table_method_comparison",
    "table_none_of_these", "table_object_accuracy", "table_paper_beside_us", "table_preprocessing_options", "table_redshift_averaging", "table_redshift_metrics",
    "table_real_answers", "table_real_per_class", "table_reconstruction", "table_real_set", "table_noise_texture", "table_realism_switches", "table_scenarios", "table_seed_report", "table_seen_against_unseen", "table_selection", "table_spectral_branches", "table_top_confusions",
]
