"""Stage coding for demo tumors the way a registrar does it: EOD items and staging SSDIs that derive the
tumor's intended Summary Stage 2018 [764] in the installed SEER algorithm.

Nothing here names a site or a code. For each schema the codes are found by trying the algorithm itself: every
code of the tumor part (EOD Primary Tumor [772], and EOD Prostate Pathologic Extension [3919] where the schema
has it) is staged to learn which stage it derives alone, then nodes and mets codes are tried on a localized
tumor; the recipes of :data:`registry.demo_profiles.STAGE_RECIPES` combine them and each combination is kept only
when staging it gives the intended stage. Finally every tumor is staged exactly as the product stages an
abstract on save (``derive.stage_tumor``), so the coded Summary Stage 2018 is the derived one and the derived
columns go in with the row, as if each abstract had been saved.
"""
from __future__ import annotations

import itertools
import logging
import random
from types import SimpleNamespace
from typing import Any

from registry.demo_profiles import NO_RESECTION_CODES, STAGE_FALLBACKS, STAGE_RECIPES, STAGE_ROLES
from staging_tables.staging.bundle import Schema
from staging_tables.staging.derive import SaveRule, input_source, save_algorithm, stage_tumor, tumor_inputs
from staging_tables.staging.engine import STAGED, Algorithm
from staging_tables.staging.reference import INSTALL_HINT, algorithm_for
from staging_tables.surgery import surgery_performed

log = logging.getLogger(__name__)

DERIVED_STAGE_ITEM = "derivedSummaryStage2018"
#: Summary Stage 2018 [764] as coded: set from what the codes derive, so it is not an input to the search.
CODED_STAGE_ITEM = "summaryStage2018"
GRADE_ITEMS = {"gradeClinical", "gradePathological"}
#: Behavior Code ICD-O-3 [523] 2: a tumor extent that derives in situ for it is an in situ extent.
IN_SITU = {"behavior": "2"}
#: Products of codes larger than this are thinned before they are staged (enough variety, bounded time).
MAX_CODES_PER_PART = 6
INVALID = ("INVALID_REQUIRED_INPUT", "INVALID_NON_REQUIRED_INPUT")


def _concrete(cell: str) -> list[str]:
    """The codes one validation-table cell stands for: a list's members, a range's first value."""
    return [part.split("-")[0].strip() for part in cell.split(",") if part.strip()]


def _thin(values: list, limit: int = MAX_CODES_PER_PART) -> list:
    if len(values) <= limit:
        return values
    step = len(values) / limit
    return [values[int(i * step)] for i in range(limit)]


def view(tumor: dict[str, Any], patient: dict[str, Any], treatment: dict[str, Any]) -> SimpleNamespace:
    """The generator's row dicts seen as an abstract (tumor with ``patient`` and ``treatment``) for staging."""
    return SimpleNamespace(**tumor, patient=SimpleNamespace(**patient), treatment=SimpleNamespace(**treatment))


def resected(treatment: dict[str, Any]) -> bool:
    """Surgery of the primary site done ([1290] or [1291], the rule of surgery_codes.csv), so the pathological
    items describe a specimen."""
    return surgery_performed(treatment.get("surgery_of_primary_site"), treatment.get("surgery_of_primary_site_2023"))


class StageCoder:
    """Codes stage items on demo tumor rows from one installed algorithm (with the save rule that derives)."""

    def __init__(self, algorithm: Algorithm, rule: SaveRule):
        self.algorithm = algorithm
        self.rule = rule
        #: (schema, site, histology, behavior, resected) -> {stage: input combinations that derive it, checked}
        self._codes: dict[tuple, dict[str, list[dict[str, str]]]] = {}

    # ----- what the schema allows ----------------------------------------------------------------------------
    def _valid(self, schema: Schema, key: str) -> list[str]:
        codes = [c for cell, _ in self.algorithm.valid_codes(schema.id, key) for c in _concrete(cell)]
        return list(dict.fromkeys(c for c in codes if self.algorithm.is_code_valid(schema.id, key, c)))

    def _stage_inputs(self, schema: Schema, base: dict[str, str]) -> list[str]:
        """Inputs used for staging that the abstract does not already carry (site, histology, grades …)."""
        skip = {"site", "hist", *self.algorithm.selection_keys}
        return [i.key for i in schema.inputs if i.used_for_staging and i.table and i.key not in skip
                and i.key not in base and i.naaccr_xml_id not in GRADE_ITEMS]

    def _no_resection_code(self, schema: Schema, key: str) -> str | None:
        code = NO_RESECTION_CODES.get(schema.input_map[key].naaccr_xml_id or "")
        return schema.input_map[key].default if code == "default" else code

    def _derive(self, schema: Schema, context: dict[str, str]) -> str | None:
        result = self.algorithm.stage_with_schema(schema, context)
        if result.status != STAGED or any(e.type in INVALID for e in result.errors):
            return None
        key = next(o.key for o in schema.outputs if o.naaccr_xml_id == DERIVED_STAGE_ITEM)
        return result.outputs.get(key) or None

    # ----- finding the codes ---------------------------------------------------------------------------------
    def _schema_codes(self, schema: Schema, base: dict[str, str], is_resected: bool
                      ) -> dict[str, list[dict[str, str]]]:
        cache_key = (schema.id, base.get("site"), base.get("hist"), base.get("behavior"), is_resected)
        found = self._codes.get(cache_key)
        if found is None:
            found = self._codes[cache_key] = self._search(schema, base, is_resected)
        return found

    def _search(self, schema: Schema, base: dict[str, str], is_resected: bool) -> dict[str, list[dict[str, str]]]:
        """Stage -> combinations of the schema's staging inputs that derive it, each checked by staging it.

        Tumor codes are classed by the stage they derive with nodes and mets at the first code of their tables
        (none, or not applicable), leaving out in situ extents for an invasive tumor; nodes and mets codes by the stage they derive on a localized tumor, "-" for
        that first code. Other staging inputs get their first code that leaves the stage alone.
        """
        keys = self._stage_inputs(schema, base)
        codes: dict[str, list[str]] = {}
        for key in keys:
            codes[key] = self._valid(schema, key)
            absent = self._no_resection_code(schema, key)
            if absent is not None:
                codes[key] = [absent] if not is_resected else [c for c in codes[key] if c != absent]
        if not keys or any(not codes[k] for k in keys):
            return {}
        role = {k: STAGE_ROLES.get(schema.input_map[k].naaccr_item or 0, "other") for k in keys}
        baseline = {k: codes[k][0] for k in keys}
        tumor_keys = [k for k in keys if role[k] == "tumor"]
        parts: dict[str, dict[str, list[dict[str, str]]]] = {"tumor": {}}
        for combo in itertools.product(*(codes[k] for k in tumor_keys)):
            part = dict(zip(tumor_keys, combo))
            stage = self._derive(schema, base | baseline | part)
            if stage and stage != "0" and self._derive(schema, base | baseline | part | IN_SITU) == "0":
                continue  # an in situ extent (Paget disease of the nipple alone …) does not describe invasion
            if stage:
                parts["tumor"].setdefault(stage, []).append(part)
        local = next((parts["tumor"][s][0] for s in "12340" if s in parts["tumor"]), {})
        reference = self._derive(schema, base | baseline | local)
        for k in keys:
            if role[k] == "tumor":
                continue
            derived = {code: self._derive(schema, base | baseline | local | {k: code}) for code in codes[k]}
            if role[k] == "other":
                baseline[k] = next((c for c, stage in derived.items() if stage == reference), baseline[k])
                continue
            by_stage = parts.setdefault(role[k], {})
            for code, stage in derived.items():
                if code == baseline[k] and stage == reference:
                    by_stage.setdefault("-", []).append({k: code})
                elif stage and stage != reference:
                    by_stage.setdefault(stage, []).append({k: code})
        found: dict[str, list[dict[str, str]]] = {}
        for wanted, recipes in STAGE_RECIPES.items():
            for recipe in recipes:
                choices = []
                for part_name, stages in zip(("tumor", "nodes", "mets"), recipe):
                    options = parts.get(part_name)
                    # a schema without such an input (no mets item) has nothing to code for that part
                    choices.append(_thin([v for s in stages for v in options.get(s, [])]) if options else [{}])
                for tumor, nodes, mets in itertools.product(*choices):
                    combo = baseline | tumor | nodes | mets
                    if self._derive(schema, base | combo) == wanted:
                        found.setdefault(wanted, []).append(combo)
        return found

    # ----- coding one tumor ----------------------------------------------------------------------------------
    def _write(self, tumor: dict[str, Any], key: str, value: str | None) -> None:
        source = input_source(self.algorithm, key)
        if source is None:
            return
        if source.level == "tumor":
            tumor[source.attribute] = value
        elif source.level in ("site_specific_items", "extra_items") and value is not None:
            tumor[source.level] = {**tumor[source.level], source.attribute: value}

    def _choose_schema(self, rng: random.Random, tumor: dict[str, Any], patient: dict[str, Any],
                       treatment: dict[str, Any]) -> Schema | None:
        """The tumor's schema; where a discriminator is needed, an answer the registrar could have found."""
        for _ in range(4):
            selection, _ = tumor_inputs(view(tumor, patient, treatment), self.algorithm,
                                        ("site", "hist", *self.algorithm.selection_keys))
            lookup = self.algorithm.lookup_schema(selection.pop("site", None), selection.pop("hist", None),
                                                  **selection)
            if lookup.schema is not None or not lookup.questions:
                return lookup.schema
            question = lookup.questions[0]
            answers = [c for cell, _ in question.codes for c in _concrete(cell)]
            answers = [a for a in answers if self.algorithm.lookup_schema(
                tumor["primary_site"], tumor["histology"], **selection, **{question.key: a}).schemas]
            if not answers:
                return None
            self._write(tumor, question.key, rng.choice(answers))
        return None

    def _grades(self, rng: random.Random, schema: Schema, tumor: dict[str, Any], grades: str,
                is_resected: bool) -> None:
        """Grade Clinical [3843] and Grade Pathological [3844]: the drawn grade when the schema accepts it, else
        one of the site's grades it accepts (else its default); pathological only from a resected specimen."""
        for inp in schema.inputs:
            source = input_source(self.algorithm, inp.key)
            if inp.naaccr_xml_id not in GRADE_ITEMS or source is None:
                continue
            code = tumor.get(source.attribute)
            if not code or not self.algorithm.is_code_valid(schema.id, inp.key, code):
                allowed = [g for g in grades if self.algorithm.is_code_valid(schema.id, inp.key, g)]
                code = rng.choice(allowed) if allowed else (inp.default or "9")
            if not is_resected:
                code = self._no_resection_code(schema, inp.key) or code
            self._write(tumor, inp.key, code)

    def code(self, rng: random.Random, tumor: dict[str, Any], patient: dict[str, Any],
             treatment: dict[str, Any], grades: str) -> None:
        """Code the stage items of a 2018+ tumor row for its intended stage; store what the product derives."""
        year = (tumor.get("date_of_diagnosis") or "")[:4]
        if not year.isdigit() or int(year) < self.rule.first_year or not tumor.get("summary_stage_2018"):
            return
        schema = self._choose_schema(rng, tumor, patient, treatment)
        if schema is None:
            return
        is_resected = resected(treatment)
        self._grades(rng, schema, tumor, grades, is_resected)
        inputs, _ = tumor_inputs(view(tumor, patient, treatment), self.algorithm, schema.input_map)
        base = {k: v for k, v in inputs.items() if schema.input_map[k].naaccr_xml_id != CODED_STAGE_ITEM}
        found = self._schema_codes(schema, base, is_resected)
        intended = tumor["summary_stage_2018"]
        for stage in (intended, *STAGE_FALLBACKS.get(intended, ""), "9"):
            if stage in found:
                for key, value in rng.choice(found[stage]).items():
                    self._write(tumor, key, value)
                tumor["summary_stage_2018"] = stage
                break
        staging = stage_tumor(view(tumor, patient, treatment), self.algorithm, self.rule)
        derived = staging.values.get("derived_summary_stage_2018")
        if derived and derived != tumor["summary_stage_2018"]:  # a code outside the search decided otherwise
            tumor["summary_stage_2018"] = derived
            staging = stage_tumor(view(tumor, patient, treatment), self.algorithm, self.rule)
        if staging.label is None:
            return
        tumor.update(staging.values)
        tumor["staging_algorithm"] = staging.label
        tumor["staged_at"] = tumor.get("abstracted_at")


def installed_coder() -> StageCoder | None:
    """A coder for the algorithm that derives on save, or None (with a warning) when none is installed."""
    chosen = save_algorithm()
    if chosen is None:
        log.warning("no EOD staging algorithm is installed: demo tumors get Summary Stage 2018 [764] only, no EOD "
                    "items or SSDIs; install one with %s", INSTALL_HINT)
        return None
    rule, record = chosen
    return StageCoder(algorithm_for(record), rule)
