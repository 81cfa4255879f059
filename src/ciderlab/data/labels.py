"""The class map: SNID-SAGE type/subtype -> our classes, the known label fixes, AppleCiDEr groups.

This is the one place labels are decided (SPEC §3.1, §4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# The SpectraNet paper's 9 classes, in the order used everywhere (confusion matrices, heads).
PAPER_CLASSES = ("AGN", "CV", "SN IIP", "SN IIb", "SN IIn", "SN Ia", "SN Ib", "SN Ic", "TDE")
# SLSN-I is the tenth class of the authors' earlier notebook; used only in the extended ablation.
EXTENDED_CLASSES = PAPER_CLASSES + ("SLSN-I",)

# SNID-SAGE subtype -> our class. Subtypes not listed (GAP, KN, LFBOT, Ibn, Icn, II-pec,
# II-flash, SLSN-II, stars, galaxies) belong to none of the paper's classes.
SUBTYPE_TO_CLASS = {
    "Ia-norm": "SN Ia", "Ia-91T": "SN Ia", "Ia-91bg": "SN Ia", "Ia-02cx": "SN Ia",
    "Ia-02es": "SN Ia", "Ia-03fg": "SN Ia", "Ia-csm": "SN Ia", "Ia-pec": "SN Ia",
    "Ia-Ca-rich": "SN Ia",
    "IIP": "SN IIP", "IIL": "SN IIP",  # the paper has no IIL class; IIL joins the H-rich SN II
    "IIb": "SN IIb",
    "IIn": "SN IIn", "IIn-pec": "SN IIn",
    "Ib-norm": "SN Ib", "Ib-pec": "SN Ib",
    "Ic": "SN Ic", "Ic-norm": "SN Ic", "Ic-broad": "SN Ic", "Ic-Ca-rich": "SN Ic",
    "TDE-H": "TDE", "TDE-He": "TDE", "TDE-H-He": "TDE", "TDE-Ftless": "TDE",
    "AGN-type1": "AGN", "QSO": "AGN",
    "SLSN-I": "SLSN-I",
}

# Known wrong labels in SNID-SAGE 0.9.0 (the project's review of the bank, ../shared/SPEC.md
# §3.1): name -> (corrected subtype, reason).
LABEL_FIXES = {
    "sn2018bsz": ("SLSN-I", "a superluminous SN (Anderson et al. 2018), filed as IIP in the bank"),
    "sn2016drl": ("IIP", "reviewed as a IIP; the bank files it as IIn"),
    "sn2019bao": ("IIb", "reviewed as a IIb; the bank files it as II-pec"),
    "LSQ15adm": ("Ia-csm", "reviewed as Ia-csm; the bank files it as a generic Ia-pec"),
    "sn2016ije": ("Ia-02es", "reviewed as 02es-like; the bank files it as 91bg-like"),
}
# Templates dropped whole: name -> reason.
DROPPED_OBJECTS = {
    "sn2017ben": "its template is at the wrong redshift, so its features are misplaced",
}
# Single spectra dropped: (name, age in days) -> reason.
DROPPED_SPECTRA = {
    ("iPTF13bvn", -12.7): "corrupt spectrum (mean -14, std 180 where a flattened one has ~0, ~0.1)",
}

# AppleCiDEr's coarse grouping of the fine classes.
APPLECIDER_GROUPS = {
    "SN Ia": "SN I", "SN Ib": "SN I", "SN Ic": "SN I",
    "SN IIP": "SN II", "SN IIn": "SN II", "SN IIb": "SN II",
    "CV": "CV", "AGN": "AGN", "TDE": "TDE",
}

_SURVEY_SUFFIX = re.compile(r"_(bsnip|cfa|csp|ucb|snf)$", re.IGNORECASE)
_IAU_PREFIX = re.compile(r"^(sn|at)(?=\d{4})", re.IGNORECASE)


def normalise_object_id(name: str) -> str:
    """Object id from a template name: lower case, no ``sn``/``at`` prefix, no survey suffix.

    ``sn2011fe`` and ``SN2011fe_bsnip`` are the same object and must land in the same split.
    """
    name = _SURVEY_SUFFIX.sub("", name.strip())
    return _IAU_PREFIX.sub("", name).lower()


@dataclass(frozen=True)
class LabelledName:
    """What the labels module says about one template name."""

    name: str
    object_id: str
    subtype: str
    fix_reason: str | None = None


def fix_label(name: str, subtype: str) -> LabelledName:
    """Apply LABEL_FIXES to one template's subtype."""
    labelled = LabelledName(name=name, object_id=normalise_object_id(name), subtype=subtype)
    if name in LABEL_FIXES:
        new_subtype, reason = LABEL_FIXES[name]
        labelled = replace(labelled, subtype=new_subtype, fix_reason=reason)
    return labelled


def drop_reason(name: str, age_days: float) -> str | None:
    """Why a template spectrum is dropped, or None to keep it."""
    if name in DROPPED_OBJECTS:
        return DROPPED_OBJECTS[name]
    for (bad_name, bad_age), reason in DROPPED_SPECTRA.items():
        if name == bad_name and abs(age_days - bad_age) < 0.05:
            return reason
    return None


def class_of_subtype(subtype: str, classes: tuple[str, ...] = PAPER_CLASSES) -> str | None:
    """Our class for a SNID-SAGE subtype, or None if it is not one of ``classes``."""
    label = SUBTYPE_TO_CLASS.get(subtype)
    return label if label in classes else None


def applecider_group(label: str) -> str:
    return APPLECIDER_GROUPS[label]
