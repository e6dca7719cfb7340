"""Multiple-primary rules: are two tumors of one patient one primary or two?

Covers the SEER Solid Tumor Rules (2018+ with their updates), the MP/H rules (2007-2017), the 2004 rules
before 2007 and the Hematopoietic and Lymphoid rules. The steps are data (``staging_tables/mp_*.csv``);
the checks they name are in :mod:`.checks`, :mod:`.site_checks` and :mod:`.hematopoietic`.
"""
from .checks import MULTIPLE, QUESTIONABLE, SINGLE, Tumor
from .engine import Engine, InvalidTumor, Verdict, compare, engine, tumor

__all__ = ["MULTIPLE", "QUESTIONABLE", "SINGLE", "Engine", "InvalidTumor", "Tumor", "Verdict", "compare",
           "engine", "tumor"]
