"""Schema selection and the mapping walk over a loaded bundle.

Behaviour mirrors SEER's published decision engine so that results agree with the official test files:
inputs are trimmed, defaulted and validated, outputs start at their defaults, then each involved mapping
runs its table paths in order; every failure is recorded as an error with its table and key rather than raised.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .bundle import Bundle, MappingDef, Schema, Table, TablePath, load_bundle, translate

STAGED = "STAGED"
FAILED_MISSING_SITE_OR_HISTOLOGY = "FAILED_MISSING_SITE_OR_HISTOLOGY"
FAILED_NO_MATCHING_SCHEMA = "FAILED_NO_MATCHING_SCHEMA"
FAILED_MULTIPLE_MATCHING_SCHEMAS = "FAILED_MULTIPLE_MATCHING_SCHEMAS"
FAILED_INVALID_YEAR_DX = "FAILED_INVALID_YEAR_DX"
FAILED_INVALID_INPUT = "FAILED_INVALID_INPUT"

BLANK = "<blank>"
_ABSENT = object()


@dataclass(frozen=True)
class StagingError:
    """One problem found while staging; ``table`` and ``key`` say where, ``columns`` the outputs affected."""

    type: str
    message: str
    key: str | None = None
    table: str | None = None
    columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = self.table or self.key
        return f"{where}: {self.message}" if where else self.message


@dataclass
class StagingResult:
    """Outcome of staging one case; ``outputs`` holds every output key of the schema (blank when not derived)."""

    status: str
    algorithm: str
    version: str
    schema_id: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    errors: list[StagingError] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    candidate_schemas: list[str] = field(default_factory=list)

    @property
    def staged(self) -> bool:
        return self.status == STAGED


@dataclass
class Question:
    """An input the user must answer to choose between schemas (e.g. ``discriminator_1``), with its valid codes."""

    key: str
    name: str
    table: str | None
    codes: list[tuple[str, str]]


@dataclass
class SchemaLookupResult:
    """Schemas matching a site/histology (plus any discriminators given), and the questions that would narrow them."""

    schemas: list[Schema]
    questions: list[Question] = field(default_factory=list)

    @property
    def schema(self) -> Schema | None:
        return self.schemas[0] if len(self.schemas) == 1 else None

    @property
    def status(self) -> str:
        if len(self.schemas) == 1:
            return "MATCH"
        return "NO_MATCH" if not self.schemas else "MULTIPLE_MATCHES"


class Algorithm:
    """A loaded staging algorithm (one bundle): look up schemas and stage cases."""

    def __init__(self, bundle: Bundle, year_current: int | None = None):
        self.bundle = bundle
        self.name = bundle.algorithm
        self.version = bundle.version
        self.schemas = bundle.schemas
        self.tables = bundle.tables
        self.year_current = str(year_current or _dt.date.today().year)
        self._selection: list[tuple[Schema, Table]] = []
        keys: dict[str, None] = {}
        for schema in sorted(self.schemas.values(), key=lambda s: s.id):
            table = self.tables.get(schema.selection_table or "")
            if table is not None:
                self._selection.append((schema, table))
                keys.update(dict.fromkeys(table.input_keys))
        self.selection_keys: tuple[str, ...] = tuple(keys)
        self._lookup_cache: dict[tuple, tuple[Schema, ...]] = {}
        self._valid: dict[str, set[str] | None] = {}
        self._plans: dict[str, tuple] = {}
        self._by_site: dict[str, list[tuple[Schema, Table]]] = {}
        self.input_keys: list[str] = list(dict.fromkeys(
            i.key for s in sorted(self.schemas.values(), key=lambda s: s.id) for i in s.inputs))
        self.output_keys: list[str] = list(dict.fromkeys(
            o.key for s in sorted(self.schemas.values(), key=lambda s: s.id) for o in s.outputs))

    def __repr__(self) -> str:
        return f"<Algorithm {self.name} {self.version}: {len(self.schemas)} schemas>"

    # ----- code validity -------------------------------------------------------------------------------------
    def _valid_code(self, table_id: str, key: str, value: str) -> bool:
        if table_id not in self._valid:
            table = self.tables.get(table_id)
            self._valid[table_id] = table.input_values() if table is not None else set()
        values = self._valid[table_id]
        if values is not None:
            return value in values
        return self.tables[table_id].find_row({key: value}) is not None

    def is_valid_site(self, site: str | None) -> bool:
        return site is not None and self._valid_code("primary_site", "site", site)

    def is_valid_histology(self, hist: str | None) -> bool:
        return hist is not None and self._valid_code("histology", "hist", hist)

    def is_code_valid(self, schema_id: str, key: str, value: str, context: Mapping[str, str] | None = None) -> bool:
        """Whether ``value`` is a valid code for input ``key`` of the schema (other context keys may be needed)."""
        schema = self.schemas.get(schema_id)
        if schema is None or key not in schema.input_map:
            return False
        inp = schema.input_map[key]
        if inp.table is None:
            return True
        table = self.tables.get(inp.table)
        if table is None:
            return False
        ctx = {k: (v or "").strip() for k, v in (context or {}).items()}
        ctx[key] = (value or "").strip()
        ctx.update(self._context_keys())
        return table.find_row(ctx) is not None

    def valid_codes(self, schema_id: str, key: str) -> list[tuple[str, str]]:
        """(code, description) pairs of an input's validation table, for showing on a form."""
        schema = self.schemas[schema_id]
        inp = schema.input_map[key]
        return self._codes(inp.table, key)

    def _codes(self, table_id: str | None, key: str) -> list[tuple[str, str]]:
        table = self.tables.get(table_id or "")
        if table is None:
            return []
        desc = next((c["key"] for c in table.definition if c.get("type") == "DESCRIPTION"), None)
        return [(r.get(key, ""), r.get(desc, "") if desc else "") for r in table.rows_with_descriptions()]

    # ----- schema lookup -------------------------------------------------------------------------------------
    def lookup_schema(self, site: str | None = None, hist: str | None = None, **discriminators: str | None
                      ) -> SchemaLookupResult:
        """Schemas whose selection table matches site, histology and any discriminators supplied.

        Several matches mean a discriminator is needed; the result then lists the questions to ask.
        """
        lookup: dict[str, str] = {}
        if site:
            lookup["site"] = site.strip()
        if hist:
            lookup["hist"] = hist.strip()
        for k, v in discriminators.items():
            if v is not None:
                lookup[k] = v.strip()
        schemas = list(self._lookup(lookup))
        questions: list[Question] = []
        if len(schemas) > 1:
            asked = dict.fromkeys(k for s in schemas for k in s.discriminators if k not in lookup)
            for key in asked:
                inp = next((s.input_map[key] for s in schemas if key in s.input_map), None)
                if inp is None:
                    questions.append(Question(key, key, None, []))
                else:
                    questions.append(Question(key, inp.name, inp.table, self._codes(inp.table, key)))
        return SchemaLookupResult(schemas, questions)

    def _lookup(self, lookup: Mapping[str, str]) -> tuple[Schema, ...]:
        site = lookup.get("site")
        hist = lookup.get("hist")
        if site is None and hist is None:
            return ()
        ckey = tuple(lookup.get(k, _ABSENT) for k in ("site", "hist", *self.selection_keys))
        has_disc = any(v for k, v in lookup.items() if k not in ("site", "hist"))
        ckey += (has_disc,)
        hit = self._lookup_cache.get(ckey)
        if hit is not None:
            return hit
        found: tuple[Schema, ...] = ()
        if not ((site is not None and not self.is_valid_site(site))
                or (hist is not None and not self.is_valid_histology(hist))
                or (has_disc and not (site and hist))):
            keys = set(lookup)
            found = tuple(s for s, t in self._selection_for_site(site)
                          if t.find_row_partial(lookup, keys) is not None)
        if len(self._lookup_cache) > 100_000:
            self._lookup_cache.clear()
        self._lookup_cache[ckey] = found
        return found

    def _selection_for_site(self, site: str | None) -> list[tuple[Schema, Table]]:
        """Selection tables that have a row for this site; a full match needs one, so the rest can be skipped."""
        if site is None:
            return self._selection
        hit = self._by_site.get(site)
        if hit is None:
            ctx = {"site": site}
            hit = self._by_site[site] = [(s, t) for s, t in self._selection
                                         if t.find_row_partial(ctx, ("site",)) is not None]
        return hit

    # ----- staging -------------------------------------------------------------------------------------------
    def _context_keys(self) -> dict[str, str]:
        return {"ctx_alg_version": self.version, "ctx_year_current": self.year_current}

    def stage(self, inputs: Mapping[str, Any]) -> StagingResult:
        """Select the schema for the case and derive its outputs; never raises for bad data."""
        data = {k: str(v).strip() for k, v in inputs.items() if v is not None}
        res = StagingResult(FAILED_MISSING_SITE_OR_HISTOLOGY, self.name, self.version)
        if "site" not in data or "hist" not in data:
            res.errors.append(StagingError("MISSING_SITE_OR_HISTOLOGY", "Primary site and histology are required"))
            return res
        lookup = {k: data[k] for k in self.selection_keys if k in data}
        lookup["site"], lookup["hist"] = data["site"], data["hist"]
        schemas = self._lookup(lookup)
        if len(schemas) != 1:
            res.candidate_schemas = [s.id for s in schemas]
            if schemas:
                res.status = FAILED_MULTIPLE_MATCHING_SCHEMAS
                res.errors.append(StagingError(
                    "MULTIPLE_MATCHING_SCHEMAS",
                    f"Several schemas match site {data['site']}, histology {data['hist']}; a discriminator is needed"))
            else:
                res.status = FAILED_NO_MATCHING_SCHEMA
                res.errors.append(StagingError("NO_MATCHING_SCHEMA",
                                               f"No schema matches site {data['site']}, histology {data['hist']}"))
            return res
        schema = schemas[0]
        return self.stage_with_schema(schema, data, _trimmed=True)

    def stage_with_schema(self, schema: Schema | str, inputs: Mapping[str, Any], _trimmed: bool = False
                          ) -> StagingResult:
        """Stage with a known schema (e.g. chosen by the user after answering the discriminator questions)."""
        if isinstance(schema, str):
            schema = self.schemas[schema]
        data = inputs if _trimmed else {k: str(v).strip() for k, v in inputs.items() if v is not None}
        res = StagingResult(FAILED_INVALID_INPUT, self.name, self.version, schema.id,
                            outputs={o.key: "" for o in schema.outputs})
        input_map = schema.input_map
        for k, v in data.items():
            if k not in input_map and v:
                res.errors.append(StagingError("UNKNOWN_INPUT", f"Unknown input key supplied: {k}", key=k))
        if res.errors:
            return res
        ctx = {k: v for k, v in data.items() if k in input_map}
        ctx["ctx_alg_version"] = self.version
        ctx["ctx_year_current"] = self.year_current
        year = input_map.get("year_dx")
        if year is not None and year.table is not None:
            table = self.tables.get(year.table)
            if table is None or table.find_row(ctx) is None:
                res.status = FAILED_INVALID_YEAR_DX
                res.errors.append(StagingError("INVALID_YEAR_DX", f"Invalid 'year_dx' value ({ctx.get('year_dx', '')})",
                                               key="year_dx", table=year.table))
                return res
        if self._process(schema, ctx, res):
            res.status = STAGED
            res.outputs = {o.key: ctx.get(o.key) or "" for o in schema.outputs}
        return res

    def _plan(self, schema: Schema) -> tuple:
        """Per-schema lists prepared once: inputs with their table objects, constant and templated output defaults."""
        plan = self._plans.get(schema.id)
        if plan is None:
            inputs = []
            for i in schema.inputs:
                table = self.tables.get(i.table) if i.table else None
                # a table that depends on this input alone can be answered straight from its cache
                direct = table.cache if table is not None and table.depends_on == (i.key,) else None
                inputs.append((i.key, i.default, i.table, table, i.used_for_staging, direct))
            fixed = {o.key: o.default or "" for o in schema.outputs if not (o.default or "").startswith("{{")}
            templated = [(o.key, o.default) for o in schema.outputs if (o.default or "").startswith("{{")]
            mappings = [(m, bool(m.inclusion or m.exclusion)) for m in schema.mappings]
            plan = self._plans[schema.id] = (inputs, fixed, templated, mappings)
        return plan

    def _process(self, schema: Schema, ctx: dict[str, str], res: StagingResult) -> bool:
        errors = res.errors
        inputs, fixed_outputs, templated_outputs, mappings = self._plan(schema)
        stop = False
        for key, default, table_id, table, used, direct in inputs:
            value = ctx.get(key)
            if value is None:
                value = ctx[key] = (translate(default, ctx) or "") if default is not None else ""
            if value and table_id is not None:
                if table is None:
                    errors.append(StagingError("UNKNOWN_TABLE", f"Input table does not exist: {table_id}", key=key))
                    continue
                row = direct.get(value, _ABSENT) if direct is not None else _ABSENT
                if row is _ABSENT:
                    row = table.find_row(ctx)
                if row is None:
                    errors.append(StagingError(
                        "INVALID_REQUIRED_INPUT" if used else "INVALID_NON_REQUIRED_INPUT",
                        f"Invalid '{key}' value ({value})", key=key, table=table_id))
                    if schema.on_invalid_input == "FAIL" or (
                            used and schema.on_invalid_input == "FAIL_WHEN_USED_FOR_STAGING"):
                        stop = True
        if stop:
            return False
        ctx.update(fixed_outputs)
        for key, default in templated_outputs:
            ctx[key] = translate(default, ctx) or ""
        for k, v in schema.initial_context.items():
            ctx[k] = translate(v, ctx) or ""
        path_log = res.path
        for mapping, conditional in mappings:
            if conditional:
                if not self._involved(mapping, ctx, errors):
                    continue
                for p in mapping.inclusion:
                    path_log.append(f"{mapping.id}:{p.table_id}")
                for p in mapping.exclusion:
                    path_log.append(f"{mapping.id}:{p.table_id}")
            if mapping.initial_context:
                ctx.update(mapping.initial_context)
            for path in mapping.paths:
                for src, dst in path.input_mapping:
                    if src in ctx:
                        ctx[dst] = ctx[src]
                    else:
                        errors.append(StagingError("UNKNOWN_INPUT_MAPPING",
                                                   f"Input mapping '{src}' does not exist for table '{path.table_id}'",
                                                   key=src, table=path.table_id))
                go_on = self._run_table(mapping.id, path.table_id, path, ctx, res, [])
                for _, dst in path.input_mapping:
                    ctx.pop(dst, None)
                if not go_on:
                    break
        for out in schema.outputs:
            if out.table is not None and out.key in ctx:
                table = self.tables.get(out.table)
                if table is None:
                    errors.append(StagingError("UNKNOWN_TABLE", f"Output table does not exist: {out.table}",
                                               key=out.key))
                elif table.find_row(ctx) is None:
                    errors.append(StagingError("INVALID_OUTPUT",
                                               f"Invalid '{out.key}' value ({ctx[out.key] or BLANK})",
                                               key=out.key, table=out.table))
        return True

    def _involved(self, mapping: MappingDef, ctx: dict[str, str], errors: list[StagingError]) -> bool:
        for p in mapping.inclusion:
            if self._path_match(p, ctx, errors) is None:
                return False
        for p in mapping.exclusion:
            if self._path_match(p, ctx, errors) is not None:
                return False
        return True

    def _path_match(self, path: TablePath, ctx: dict[str, str], errors: list[StagingError]) -> int | None:
        table = self.tables.get(path.table_id)
        if table is None:
            errors.append(StagingError("UNKNOWN_TABLE", f"Inclusion/exclusion table '{path.table_id}' does not exist",
                                       table=path.table_id))
            return None
        if not path.input_mapping:
            return table.find_row(ctx)
        pctx = dict(ctx)
        for src, dst in path.input_mapping:
            if src in pctx:
                pctx[dst] = pctx[src]
        return table.find_row(pctx)

    def _run_table(self, mapping_id: str, table_id: str, path: TablePath, ctx: dict[str, str],
                   res: StagingResult, stack: list[str]) -> bool:
        table = self.tables.get(table_id)
        if table is None:
            res.errors.append(StagingError("UNKNOWN_TABLE", f"The processing of '{path.table_id}' contains a reference "
                                           f"to an unknown table: '{table_id}'", table=table_id))
            return True
        if table_id in stack:
            res.errors.append(StagingError(
                "INFINITE_LOOP", f"The processing of '{path.table_id}' has entered an infinite recursive state.  "
                f"Table '{table_id}' was accessed multiple times.", table=table_id))
            return True
        label = path.labels.get(table_id)
        if label is None:
            label = path.labels[table_id] = f"{mapping_id}:{table_id}"
        res.path.append(label)
        row = table.find_row(ctx)
        if row is None:
            res.errors.append(StagingError("MATCH_NOT_FOUND",
                                           f"Match not found in table '{table_id}' ({_inputs_text(table, ctx)})",
                                           table=table_id, columns=tuple(table.endpoint_keys)))
            return True
        actions = path.actions.get((table_id, row))
        if actions is None:
            actions = path.actions[(table_id, row)] = _compile_row(table.endpoints[row], path)
        go_on = True
        stack.append(table_id)
        for op, arg in actions:
            if op == 0:
                ctx.update(arg)
            elif op == 1:
                key, value = arg
                ctx[key] = translate(value, ctx) or ""
            elif op == 2:
                ctx.pop(arg, None)
            elif op == 3:
                go_on = self._run_table(mapping_id, arg, path, ctx, res, stack)
            elif op == 4:
                column, message = arg
                if not message:
                    message = (f"Matching resulted in an error in table '{table_id}' for column '{column}' "
                               f"({_inputs_text(table, ctx)})")
                res.errors.append(StagingError("STAGING_ERROR", message, table=table_id, columns=(column,)))
            elif op == 5:
                go_on = False
        stack.pop()
        return go_on


def _compile_row(endpoints: tuple, path: TablePath) -> tuple[tuple[int, Any], ...]:
    """Turn a row's endpoints into ops for this table path (output renames applied, constant VALUEs merged)."""
    ops: list[tuple[int, Any]] = []
    pending: dict[str, str] = {}

    def flush() -> None:
        if pending:
            ops.append((0, dict(pending)))
            pending.clear()

    for ep in endpoints:
        if ep.type == "VALUE":
            for key in path.output_mapping.get(ep.key, (ep.key,)):
                if ep.value is None:
                    flush()
                    ops.append((2, key))
                elif ep.value.startswith("{{"):
                    flush()
                    ops.append((1, (key, ep.value)))
                else:
                    pending.pop(key, None)
                    pending[key] = ep.value
        elif ep.type == "MATCH":
            continue
        else:
            flush()
            if ep.type == "JUMP":
                ops.append((3, ep.value))
            elif ep.type == "ERROR":
                ops.append((4, (ep.key, ep.value)))
            elif ep.type == "STOP":
                ops.append((5, None))
    flush()
    return tuple(ops)


def _inputs_text(table: Table, ctx: Mapping[str, str]) -> str:
    return ",".join((ctx.get(k) or "").strip() or BLANK for k in table.input_keys)


def load_algorithm(path: str | Path, year_current: int | None = None) -> Algorithm:
    """Load a SEER staging bundle (zip or unpacked folder) unchanged.

    ``year_current`` fixes the value of ``ctx_year_current`` (default: this year) so results are reproducible.
    """
    return Algorithm(load_bundle(path), year_current=year_current)
