"""The class map: SNID-SAGE type/subtype -> our classes, the known label fixes, AppleCiDEr groups.

This is the one place labels are decided (SPEC §3.1, §4).
"""

from __future__ import annotations

import math
import re
from typing import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

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


# --- Type strings of TNS, WISeREP and Fritz (catalogues of labelled spectra) ---------------------
# Strings are compared as keys: lower case, single spaces, a leading "SN " dropped ("SN Ia-pec",
# "sn  ia-pec" and "Ia-pec" are one key). A key is looked up as a paper class name, then here,
# then as a SNID-SAGE subtype, so SUBTYPE_TO_CLASS decides every type the bank also has.
# A value None is a decision: the type is known and belongs to none of the trained classes, so a
# catalogue row with it is reported as "not one of the classes" instead of being guessed.
TYPE_STRING_TO_SUBTYPE = {  # TNS/WISeREP spelling -> the SNID-SAGE subtype it names
    "ia-91t-like": "Ia-91T", "ia-91bg-like": "Ia-91bg", "ia-02es-like": "Ia-02es",
    "iax[02cx-like]": "Ia-02cx", "iax": "Ia-02cx", "ia-sc": "Ia-03fg",  # super-Chandra
    # A generic "SN II" is an H-rich SN not divided into P and L; SUBTYPE_TO_CLASS already
    # folds IIL into SN IIP, so the generic type joins it too.
    "ii": "IIP", "ii-p": "IIP", "ii-l": "IIL",
    "ic-bl": "Ic-broad", "tde-h+he": "TDE-H-He", "tde-featureless": "TDE-Ftless",
}
TYPE_STRING_TO_CLASS = {  # types with no SNID-SAGE subtype, or a decision made here
    "tde": "TDE", "tidal disruption event": "TDE",
    "seyfert": "AGN", "seyfert 1": "AGN", "blazar": None,  # a blazar's spectrum is featureless
    "cv": "CV", "cataclysmic": "CV", "cataclysmic variable": "CV",
    # real_spectra/ files classical novae under CV (flagged uncertain there); the same here.
    "nova": "CV", "dwarf nova": "CV",
    "ic-pec": "SN Ic",  # as Ia-pec -> SN Ia and Ib-pec -> SN Ib
    # Not trained classes: Ib/c does not say which of SN Ib or SN Ic; Ibn, Icn (interacting
    # stripped SNe), II-pec (1987A-like: SUBTYPE_TO_CLASS leaves it out too), SLSN-II, LBV and
    # ILRT (SN impostors) have no paper class; SLSN-I is a class of EXTENDED_CLASSES only (via
    # SUBTYPE_TO_CLASS); "Varstar", "Other" and "Galaxy" say nothing the classes can use.
    "ib/c": None, "ibc": None, "ibn": None, "icn": None, "ii-pec": None, "slsn-ii": None,
    "lbv": None, "ilrt": None, "varstar": None, "other": None, "galaxy": None,
}
_SN_PREFIX = re.compile(r"^sn\s*(?=i)")


def _type_key(text: str) -> str:
    return _SN_PREFIX.sub("", " ".join(str(text).split()).lower())


_PAPER_CLASS_KEYS = {_type_key(c): c for c in EXTENDED_CLASSES}
_SUBTYPE_KEYS = {_type_key(s): s for s in SUBTYPE_TO_CLASS}


def class_of_type_string(text: str | None, classes: Sequence[str] = PAPER_CLASSES) -> str | None:
    """Our class for a TNS, WISeREP or Fritz type string, or None if it is not one of ``classes``.

    Parameters
    ----------
    text : str or None
        e.g. ``"SN Ia-91T-like"``, ``"SN IIP"``, ``"TDE-H-He"``, ``"QSO"``, or a paper class
        name; case and spacing do not matter. None, NaN and "" give None.
    classes : sequence of str
        The trained classes (default: the paper's nine).

    Returns
    -------
    str or None
        The class, or None where the type is unknown or belongs to none of ``classes`` (see
        TYPE_STRING_TO_CLASS for the decided cases).
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    key = _type_key(text)
    if key in _PAPER_CLASS_KEYS:
        label = _PAPER_CLASS_KEYS[key]
    elif key in TYPE_STRING_TO_CLASS:
        label = TYPE_STRING_TO_CLASS[key]
    else:
        subtype = TYPE_STRING_TO_SUBTYPE.get(key) or _SUBTYPE_KEYS.get(key)
        label = SUBTYPE_TO_CLASS.get(subtype)
    return label if label in classes else None


# --- ZTF alerts: SIMBAD cross-match types (SPEC §3.2) --------------------------------------------
# The alert archive's only labels are Fink's SIMBAD cross-match (`cdsxmatch`), not the paper's
# classes. SIMBAD types are grouped by their place in the SIMBAD object-type hierarchy
# (https://simbad.cds.unistra.fr/guide/otypes.htx); a "Candidate_X" type joins the group of X.
# Types that say nothing about what varies (a detection at some wavelength, "Unknown", "Fail",
# a cluster) are unlabelled. Measured on the 303 typed objects of
# CTAO_blazar_datatest_v20-12-24.parquet (objects): AGN-like 104, star 70, variable star 48,
# YSO 11, galaxy 6, CV/nova 6, SN 4, unlabelled 54 (22 of them "Unknown"). Groups with fewer
# objects than params.yaml alerts.min_objects_per_class stay labelled but are not trained on.
UNLABELLED = "unlabelled"
ALERT_CLASSES = ("AGN-like", "variable star", "star", "YSO", "galaxy", "CV/nova", "SN")
_SIMBAD_TYPES_BY_GROUP = {
    "AGN-like": ("BLLac", "Blazar", "Blazar_Candidate", "QSO", "QSO_Candidate", "AGN",
                 "AGN_Candidate", "Seyfert", "Seyfert_1", "Seyfert_2", "LINER",
                 "RadioG"),  # a radio galaxy shines by its nucleus
    "variable star": ("V*", "V*?", "Irregular_V*", "PulsV*", "PulsV*delSct", "PulsV*WVir",
                      "PulsV*RVTau", "PulsV*bCep", "pulsV*SX", "gammaDor", "RRLyr",
                      "Candidate_RRLyr", "Cepheid", "deltaCep", "Mira", "Candidate_Mi*", "LPV*",
                      "Candidate_LP*", "EB*", "Candidate_EB*", "EllipVar", "RotV*", "BYDra",
                      "RSCVn", "RSCVnV*", "Eruptive*", "Erupt*RCrB"),
    "star": ("Star", "low-mass*", "brownD*", "WD*", "Candidate_WD*", "WhiteDwarf_Candidate",
             "HotSubdwarf", "Candidate_Hsd", "SG*", "BlueSG*", "YellowSG*", "RedSG*",
             "Candidate_RSG*", "Candidate_BSG*", "RGB*", "HB*", "Candidate_HB*", "AGB*",
             "Candidate_AGB*", "post-AGB*", "C*", "Candidate_C*", "S*", "WR*", "PM*", "Pec*",
             "Em*", "Be*", "**", "SB*", "Symbiotic*", "HMXB", "XB", "Pulsar", "PN", "PN?",
             "OH/IR"),
    "YSO": ("YSO", "Candidate_YSO", "TTau*", "Candidate_TTau*", "Ae*", "Orion_V*"),
    "galaxy": ("Galaxy", "GinCl", "GinGroup", "GinPair", "HII_G"),
    "CV/nova": ("CataclyV*", "Candidate_CV*", "Nova"),
    "SN": ("SN", "Candidate_SN*"),
}
SIMBAD_GROUPS = {otype: group for group, types in _SIMBAD_TYPES_BY_GROUP.items()
                 for otype in types}
# The paper's five grouped classes, for SIMBAD types that determine one unambiguously (a SIMBAD
# "SN" does not say SN I or SN II); data with spectroscopic classes need their own map (issue: the papers' own data).
PAPER_ALERT_GROUPS = ("SN I", "SN II", "CV", "AGN", "TDE")
_PAPER_GROUP_OF_ALERT_CLASS = {"AGN-like": "AGN", "CV/nova": "CV"}


def alert_class_of_simbad(otype: str | None) -> str:
    """The alert class of a SIMBAD type (``cdsxmatch``), or ``UNLABELLED``.

    Types not listed in SIMBAD_GROUPS (including "Unknown", "Fail", wavelength-only types such as
    "Radio" or "X", and a missing match) are unlabelled and kept out of training.
    """
    if otype is None:
        return UNLABELLED
    return SIMBAD_GROUPS.get(str(otype).strip(), UNLABELLED)


def paper_group_of_alert_class(label: str) -> str | None:
    """The paper's grouped class (PAPER_ALERT_GROUPS) for an alert class, where one is implied."""
    return _PAPER_GROUP_OF_ALERT_CLASS.get(label)


# Spectroscopic types (the Bright Transient Survey's, TNS's, Fritz's) -> the paper's five
# groups. A type naming one of SpectraNet's classes goes through class_of_type_string; the
# stripped-envelope types it leaves out as neither SN Ib nor SN Ic are still SN I here, and
# 1987A-like SNe still SN II. SLSNe, LBVs, ILRTs and the like are in none of the five groups.
_PAPER_GROUP_OF_CLASS = {"SN Ia": "SN I", "SN Ib": "SN I", "SN Ic": "SN I", "SN IIP": "SN II",
                         "SN IIb": "SN II", "SN IIn": "SN II", "CV": "CV", "AGN": "AGN",
                         "TDE": "TDE"}
_PAPER_GROUP_OF_TYPE_KEY = {"i": "SN I", "ib/c": "SN I", "ibc": "SN I", "ibn": "SN I",
                            "icn": "SN I", "ii-pec": "SN II", "blazar": "AGN"}


def paper_group_of_type_string(text: str | None) -> str | None:
    """The paper's grouped class (PAPER_ALERT_GROUPS) of a spectroscopic type string such as
    the Bright Transient Survey's ``SN Ia``, ``SN Ib/c``, ``SN IIn``, ``TDE``, ``CV``; None for
    an unclassified (``-``, empty) or ungrouped type."""
    label = class_of_type_string(text)
    if label is not None:
        return _PAPER_GROUP_OF_CLASS.get(label)
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    return _PAPER_GROUP_OF_TYPE_KEY.get(_type_key(text))


def class_indices(labels: pd.Series, classes: Sequence[str]) -> np.ndarray:
    """Integer class indices (int64) for a column of class names; unknown names are an error."""
    index = labels.map({c: k for k, c in enumerate(classes)})
    if index.isna().any():
        unknown = sorted(set(labels[index.isna()]))
        raise ValueError(f"labels not among the classes {list(classes)}: {unknown}")
    return index.to_numpy(dtype=np.int64, copy=True)
