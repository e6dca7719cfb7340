"""Reading SEER staging bundles (zip or unpacked folder) into indexed tables and schemas.

The JSON files are used exactly as SEER ships them, so a new algorithm version needs no code change.
Cell syntax and matching follow the published engine rules (see docs/staging.md).
"""
from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

_NUMERIC = re.compile(r"-?[0-9]*\.?[0-9]+")
_REFERENCE = re.compile(r"\{\{(.*?)\}\}")
_CACHE_LIMIT = 50_000
_MATCHERS: dict[str, "CellMatcher"] = {}  # parsed cells are immutable, so identical cells share one matcher


class BundleError(ValueError):
    """The bundle is missing, unreadable or structurally invalid."""


def is_numeric(value: str) -> bool:
    """Same notion of "a number" as the reference engine: optional minus, digits, at most one dot, no trailing dot."""
    return _NUMERIC.fullmatch(value) is not None


def is_reference(value: str | None) -> bool:
    return value is not None and value.startswith("{{") and value.endswith("}}")


def translate(value: str | None, context: Mapping[str, str]) -> str | None:
    """Replace a whole-value ``{{key}}`` with the context value (blank when the key is absent)."""
    if value is not None and value.startswith("{{"):
        m = _REFERENCE.fullmatch(value)
        if m:
            return context.get(m.group(1)) or ""
    return value


def _range_contains(low: str, high: str, value: str) -> bool:
    """Numeric comparison when both bounds are different numbers, else equal-length string comparison."""
    if low != high and is_numeric(low) and is_numeric(high):
        if not is_numeric(value):
            return False
        if "." in value and "." not in low and "." not in high:
            return False
        v = float(value)
        return float(low) <= v <= float(high)
    if len(low) != len(high) or len(low) != len(value):
        return False
    return low <= value <= high


class CellMatcher:
    """One INPUT cell: a set of exact values plus ranges; ranges may refer to context keys."""

    __slots__ = ("exact", "numeric", "strings", "dynamic", "refs")

    def __init__(self, cell: str):
        self.exact: set[str] = set()
        self.numeric: list[tuple[float, float, bool, int]] = []
        self.strings: list[tuple[str, str]] = []
        self.dynamic: list[tuple[str, str]] = []
        self.refs: set[str] = set()
        if "-" not in cell and "{" not in cell:
            self.exact = {part.strip() for part in cell.split(",")}
            return
        for part in cell.split(","):
            pieces = part.split("-")
            while len(pieces) > 1 and pieces[-1] == "":
                pieces.pop()
            if len(pieces) == 2:
                low, high = pieces[0].strip(), pieces[1].strip()
                if (len(low) == len(high) or (is_numeric(low) and is_numeric(high))
                        or is_reference(low) or is_reference(high)):
                    self._add_range(low, high)
                    continue
            value = part.strip()
            self._add_range(value, value)

    def _add_range(self, low: str, high: str) -> None:
        if is_reference(low) or is_reference(high):
            self.dynamic.append((low, high))
            for bound in (low, high):
                if is_reference(bound):
                    self.refs.add(bound[2:-2])
        elif low == high:
            self.exact.add(low)
        elif is_numeric(low) and is_numeric(high):
            self.numeric.append((float(low), float(high), "." in low or "." in high, len(low)))
        else:
            self.strings.append((low, high))

    @property
    def only_exact(self) -> bool:
        return not (self.numeric or self.strings or self.dynamic)

    def matches(self, value: str | None, context: Mapping[str, str]) -> bool:
        if value is None:
            value = ""
        if value in self.exact:
            return True
        if self.numeric and is_numeric(value):
            if "." in value:
                v = float(value)
                for low, high, decimals, _ in self.numeric:
                    if decimals and low <= v <= high:
                        return True
            else:
                v = float(value)
                for low, high, _, _ in self.numeric:
                    if low <= v <= high:
                        return True
        for low, high in self.strings:
            if len(low) == len(value) and low <= value <= high:
                return True
        for low, high in self.dynamic:
            if _range_contains(translate(low, context), translate(high, context), value):
                return True
        return False


@dataclass(frozen=True)
class Endpoint:
    type: str  # VALUE, MATCH, JUMP, ERROR, STOP
    key: str  # the ENDPOINT column key
    value: str | None


def parse_endpoint(cell: str, key: str, table_id: str) -> Endpoint:
    kind, sep, value = cell.partition(":")
    kind = kind.strip()
    if kind not in ("VALUE", "MATCH", "JUMP", "ERROR", "STOP"):
        raise BundleError(f"table {table_id!r}: invalid endpoint {cell!r}")
    val = value.strip() if sep else None
    if kind == "JUMP" and not val:
        raise BundleError(f"table {table_id!r}: JUMP without a table id")
    return Endpoint(kind, key, val)


class Table:
    """A lookup table with rows parsed once and an index on its most selective INPUT column.

    ``find_row`` memoizes results per tuple of the values it depends on, because registry data repeats the
    same codes over and over and a dictionary hit is far cheaper than testing ranges row by row.
    """

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self.id: str = raw["id"]
        self.definition: list[dict] = list(raw.get("definition") or [])
        self.input_keys: list[str] = [c["key"] for c in self.definition if c.get("type") == "INPUT"]
        self.endpoint_keys: list[str] = [c["key"] for c in self.definition if c.get("type") == "ENDPOINT"]
        self.raw_rows: list[list[str]] = list(raw.get("rows") or [])
        self.rows: list[list[tuple[str, CellMatcher]]] = []
        self.endpoints: list[tuple[Endpoint, ...]] = []
        refs: set[str] = set()
        ncols = len(self.definition)
        for row in self.raw_rows:
            if len(row) != ncols:
                raise BundleError(f"table {self.id!r} has a row with {len(row)} values but {ncols} columns: {row}")
            cells: list[tuple[str, CellMatcher]] = []
            ends: list[Endpoint] = []
            for col, cell in zip(self.definition, row):
                ctype = col.get("type")
                if ctype == "INPUT":
                    if cell is None or cell == "*":
                        continue
                    matcher = _MATCHERS.get(cell)
                    if matcher is None:
                        matcher = _MATCHERS[cell] = CellMatcher(cell)
                    refs |= matcher.refs
                    cells.append((col["key"], matcher))
                elif ctype == "ENDPOINT":
                    ends.append(parse_endpoint(cell or "", col["key"], self.id))
                elif ctype != "DESCRIPTION":
                    raise BundleError(f"table {self.id!r}: unknown column type {ctype!r}")
            self.rows.append(cells)
            self.endpoints.append(tuple(ends))
        self.refs = refs
        self.depends_on: tuple[str, ...] = tuple(dict.fromkeys([*self.input_keys, *sorted(refs)]))
        self._single = self.depends_on[0] if len(self.depends_on) == 1 else None
        self.cache: dict[Any, int | None] = {}
        self._build_index()

    def _build_index(self) -> None:
        """Index exact values of the INPUT column that leaves the fewest rows needing a generic test."""
        best: tuple[int, str] | None = None
        for key in self.input_keys:
            generic = 0
            for cells in self.rows:
                m = next((m for k, m in cells if k == key), None)
                if m is None or not m.only_exact:
                    generic += 1
            if best is None or generic < best[0]:
                best = (generic, key)
        self._index_key = best[1] if best else None
        self._exact: dict[str, list[int]] = {}
        self._generic: list[int] = []
        if self._index_key is None:
            self._generic = list(range(len(self.rows)))
            return
        for i, cells in enumerate(self.rows):
            m = next((m for k, m in cells if k == self._index_key), None)
            if m is None or not m.only_exact:
                self._generic.append(i)
            else:
                for v in m.exact:
                    self._exact.setdefault(v, []).append(i)

    def _scan(self, context: Mapping[str, str]) -> int | None:
        if self._index_key is None:
            candidates: Iterable[int] = self._generic
        else:
            exact = self._exact.get(context.get(self._index_key) or "")
            candidates = sorted(exact + self._generic) if exact else self._generic
        for i in candidates:
            for key, matcher in self.rows[i]:
                if not matcher.matches(context.get(key), context):
                    break
            else:
                return i
        return None

    def find_row(self, context: Mapping[str, str]) -> int | None:
        """Index of the first row whose INPUT cells all match the context, or None."""
        if self._single is not None:
            ckey: Any = context.get(self._single)
        else:
            ckey = tuple(map(context.get, self.depends_on))
        try:
            return self.cache[ckey]
        except KeyError:
            pass
        found = self._scan(context)
        if len(self.cache) >= _CACHE_LIMIT:
            self.cache.clear()
        self.cache[ckey] = found
        return found

    def find_row_partial(self, context: Mapping[str, str], keys: Iterable[str]) -> int | None:
        """First matching row testing only the INPUT columns whose key is in ``keys`` (used for schema lookup)."""
        keys = set(keys)
        for i, cells in enumerate(self.rows):
            for key, matcher in cells:
                if key in keys and not matcher.matches(context.get(key), context):
                    break
            else:
                return i
        return None

    def input_values(self) -> set[str] | None:
        """All values of a single-INPUT table, numeric ranges expanded and zero-padded; None when not enumerable."""
        if len(self.input_keys) != 1:
            return None
        values: set[str] = set()
        for cells in self.rows:
            if not cells:
                return None
            for _, m in cells:
                if m.strings or m.dynamic or any(decimals for _, _, decimals, _ in m.numeric):
                    return None
                values |= m.exact
                for low, high, _, width in m.numeric:
                    values.update(str(n).zfill(width) for n in range(int(low), int(high) + 1))
        return values

    def rows_with_descriptions(self) -> list[dict[str, str]]:
        """Rows as ``{column key: cell}`` dictionaries, for showing valid codes and their labels."""
        keys = [c["key"] for c in self.definition]
        return [dict(zip(keys, row)) for row in self.raw_rows]


@dataclass
class TablePath:
    table_id: str
    input_mapping: tuple[tuple[str, str], ...] = ()
    output_mapping: dict[str, tuple[str, ...]] = field(default_factory=dict)
    actions: dict[tuple[str, int], tuple] = field(default_factory=dict, repr=False)
    labels: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> "TablePath":
        out: dict[str, list[str]] = {}
        for m in raw.get("output_mapping") or []:
            out.setdefault(m["from"], []).append(m["to"])
        return cls(raw["id"], tuple((m["from"], m["to"]) for m in raw.get("input_mapping") or []),
                   {k: tuple(v) for k, v in out.items()})


@dataclass
class MappingDef:
    id: str
    name: str
    initial_context: dict[str, str]
    inclusion: list[TablePath]
    exclusion: list[TablePath]
    paths: list[TablePath]


@dataclass
class InputDef:
    key: str
    name: str
    table: str | None
    default: str | None
    used_for_staging: bool
    naaccr_item: int | None
    naaccr_xml_id: str | None
    raw: dict


@dataclass
class OutputDef:
    key: str
    name: str
    table: str | None
    default: str | None
    naaccr_item: int | None
    naaccr_xml_id: str | None
    raw: dict


class Schema:
    """A staging schema: its inputs, outputs and ordered mappings."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self.id: str = raw["id"]
        self.name: str = raw.get("name") or self.id
        self.title: str = raw.get("title") or ""
        self.selection_table: str | None = raw.get("schema_selection_table")
        self.discriminators: list[str] = list(raw.get("schema_discriminators") or [])
        self.on_invalid_input: str = raw.get("on_invalid_input") or "CONTINUE"
        self.inputs = [InputDef(i["key"], i.get("name") or i["key"], i.get("table"), i.get("default"),
                                bool(i.get("used_for_staging")), i.get("naaccr_item"), i.get("naaccr_xml_id"), i)
                       for i in raw.get("inputs") or []]
        self.outputs = [OutputDef(o["key"], o.get("name") or o["key"], o.get("table"), o.get("default"),
                                  o.get("naaccr_item"), o.get("naaccr_xml_id"), o)
                        for o in raw.get("outputs") or []]
        self.input_map = {i.key: i for i in self.inputs}
        self.output_map = {o.key: o for o in self.outputs}
        self.initial_context = {kv["key"]: kv.get("value") for kv in raw.get("initial_context") or []}
        self.mappings: list[MappingDef] = []
        for m in raw.get("mappings") or []:
            init = {kv["key"]: kv.get("value") or "" for kv in m.get("initial_context") or []}
            clash = set(init) & set(self.input_map)
            if clash:
                raise BundleError(f"schema {self.id!r}: mapping {m.get('id')!r} sets input keys {sorted(clash)}")
            self.mappings.append(MappingDef(
                m.get("id") or "", m.get("name") or "", init,
                [TablePath.from_raw(t) for t in m.get("inclusion_tables") or []],
                [TablePath.from_raw(t) for t in m.get("exclusion_tables") or []],
                [TablePath.from_raw(t) for t in m.get("tables") or []]))


@dataclass
class Bundle:
    algorithm: str
    version: str
    schemas: dict[str, Schema]
    tables: dict[str, Table]
    source: str


def _read_files(path: Path) -> dict[str, bytes]:
    """Return {"schemas/x.json": bytes, "tables/y.json": bytes} from a zip or a folder (nested top folder allowed)."""
    files: dict[str, bytes] = {}
    if path.is_dir():
        for p in path.rglob("*.json"):
            if p.parent.name in ("schemas", "tables"):
                files[f"{p.parent.name}/{p.name}"] = p.read_bytes()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                parts = name.split("/")
                if len(parts) >= 2 and parts[-2] in ("schemas", "tables") and parts[-1].endswith(".json"):
                    files[f"{parts[-2]}/{parts[-1]}"] = zf.read(name)
    else:
        raise BundleError(f"{path}: not a zip file or folder")
    return files


def load_bundle(path: str | Path) -> Bundle:
    """Parse every schema and table of a bundle; raises BundleError with the offending file on bad content."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"{path}: no such file or folder")
    files = _read_files(path)
    schemas: dict[str, Schema] = {}
    tables: dict[str, Table] = {}
    for name, data in sorted(files.items()):
        try:
            raw = json.loads(data)
            if name.startswith("schemas/"):
                schema = Schema(raw)
                schemas[schema.id] = schema
            else:
                table = Table(raw)
                tables[table.id] = table
        except BundleError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleError(f"{path}!{name}: {exc}") from exc
    if not schemas:
        raise BundleError(f"{path}: no schemas/*.json found")
    algs = {(s.raw.get("algorithm"), s.raw.get("version")) for s in schemas.values()}
    if len(algs) != 1:
        raise BundleError(f"{path}: schemas disagree on algorithm/version: {sorted(map(str, algs))}")
    algorithm, version = algs.pop()
    for s in schemas.values():
        if s.selection_table is None:
            raise BundleError(f"schema {s.id!r} has no schema_selection_table")
    return Bundle(str(algorithm), str(version), schemas, tables, str(path))
