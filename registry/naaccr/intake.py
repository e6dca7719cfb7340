"""The reading side of an import: records read, split into columns and checked, in batches.

Nothing here touches the database, so on a large file it runs in a helper process
(:func:`read_in_helper`) while the importer matches and writes the batch before: reading and
checking a record costs about as much as writing it, so two cores take nearly half the time.
A record is one ``Patient`` with its tumors; it is *accepted* when the reader found no problem
in it and every value passes the registry's own rules for its column (the same rules the
abstract forms apply), otherwise every reason is listed as a :class:`Rejection` with its line.
"""
from __future__ import annotations

import dataclasses
import functools
import gc
import marshal
import os
import pickle
import queue
import re
import select
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Union

from registry.catalogue import Catalogue, catalogue
from registry.dates import MIN_YEAR
from registry.items import ItemSpec, naaccr_items
from registry.models import FirstCourseTreatment, Patient, Tumor
from registry.naaccr.dictionary import Dictionary, DictionaryError, DictionaryStore, ItemLookup
from registry.naaccr.flat import FlatReader
from registry.naaccr.reader import _NEVER, NaaccrError, NaaccrReader, Problem, plain_date_pattern
from registry.naaccr.reader import Patient as NaaccrPatient
from registry.naaccr.records import IncomingPatient, IncomingTumor, ItemMap, column_items
from staging_tables.codes import terms

#: A record that passed every check: the incoming patient, its cleaned patient columns, and per
#: tumor the incoming tumor with its cleaned tumor and treatment columns.
Accepted = tuple[IncomingPatient, dict[str, Any], list[tuple[IncomingTumor, dict[str, Any], dict[str, Any]]]]


@dataclass
class Rejection:
    """One reason a record was not imported."""

    line: int | None
    patient: int | None
    tumor: int | None
    patient_id_number: str
    item: str | None
    reason: str

    def row(self) -> list[Any]:
        return [self.line or "", self.patient or "", self.tumor or "", self.patient_id_number, self.item or "",
                self.reason]

    @classmethod
    def of(cls, problem: Problem, patient_id: str = "") -> "Rejection":
        return cls(problem.line, problem.patient, problem.tumor, patient_id, problem.naaccr_id, problem.message)


@dataclass
class Opened:
    """The file's dictionaries are known: what its items mean."""

    lookup: ItemLookup


@dataclass
class Batch:
    """Up to ``batch_size`` accepted records and what was read and refused on the way to them."""

    records: list[Accepted] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    patients_read: int = 0
    tumors_read: int = 0
    records_rejected: int = 0
    position: int = 0
    #: records read but not yet split and checked: the receiver does it (:meth:`RecordIntake.settle`)
    deferred: list[NaaccrPatient] = field(default_factory=list)


@dataclass
class Finished:
    """The end of the file, or the point where it could not be read further (``fatal``)."""

    rejections: list[Rejection] = field(default_factory=list)
    fatal: Problem | None = None


Message = Union[Opened, Batch, Finished]


def read_batches(path: str | os.PathLike[str], *, store: DictionaryStore, user_dictionaries: Iterable[Dictionary] = (),
                 flat_version: str | None = None, batch_size: int = 500, keep_items: Iterable[str] | None = None,
                 defer: Callable[[], bool] | None = None, relaxed: bool = False) -> Iterator[Message]:
    """``Opened``, then ``Batch`` after ``Batch``, then ``Finished`` (only ``Finished`` if the file cannot be opened,
    or if its root element already breaks the rules: a file ``naaccr validate`` calls invalid as a whole is not
    imported record by record).

    ``relaxed`` reads as ``naaccr validate --relaxed`` does: no NAACCR namespace, and NaaccrData attributes of
    the file's own without a namespace, are accepted.

    An accepted record's ``items`` (the file's items as read) keep only ``keep_items`` when given:
    its columns are in ``values``, so the writer needs only the few items it matches on. When
    ``defer`` answers True as a batch begins, that batch's records are left for the receiver to
    split and check (``Batch.deferred``, see :meth:`RecordIntake.settle`).
    """
    keep = None if keep_items is None else tuple(keep_items)
    with open(path, "rb") as handle:
        try:
            reader = _open(handle, store, list(user_dictionaries), flat_version, relaxed)
        except (NaaccrError, DictionaryError, ValueError) as exc:
            yield Finished(fatal=exc.problem if isinstance(exc, NaaccrError) else Problem(str(exc), code="dictionary"))
            return
        if reader.problems:
            with reader:
                first = reader.problems[0]
                yield Finished([Rejection.of(problem) for problem in reader.problems],
                               Problem("the file's NaaccrData element breaks the NAACCR XML rules, so no record of "
                                       "it is imported" + ("" if relaxed else " (a relaxed import accepts a file without "
                                                           "the NAACCR namespace)"),
                                       first.line, code=first.code))
            return
        with reader:
            yield Opened(reader.lookup)
            intake = RecordIntake(reader.lookup, keep)
            batch = Batch()
            deferring = defer is not None and defer()
            fatal = None
            try:
                for patient in reader:
                    batch.patients_read += 1
                    batch.tumors_read += len(patient.tumors)
                    if deferring:
                        batch.deferred.append(patient)
                    else:
                        intake.take(patient, batch)
                    if len(batch.records) + len(batch.deferred) >= batch_size:
                        batch.position = handle.tell()
                        yield batch
                        batch = Batch()
                        deferring = defer is not None and defer()
            except NaaccrError as exc:
                fatal = exc.problem
            batch.position = handle.tell()
            yield batch
            yield Finished([Rejection.of(problem) for problem in reader.problems], fatal)


class RecordIntake:
    """Splits and checks read records into a batch: :class:`CleanRecords`, else the full split and check."""

    def __init__(self, lookup: ItemLookup | None, keep: tuple[str, ...] | None) -> None:
        self.item_map = ItemMap(lookup)
        self.keep = keep
        self.checker = RecordChecker()
        self.fast = CleanRecords(self.item_map, keep)

    def take(self, patient: NaaccrPatient, batch: Batch) -> None:
        """Add the record to ``batch``: accepted, or rejected with every reason."""
        accepted = self.fast.accept(patient)
        if accepted is None:  # a problem somewhere: the full split and check say what
            accepted = self.checker.check(self.item_map.incoming(patient), batch.rejections)
            if accepted is None:
                batch.records_rejected += 1
                return
            accepted = _slim(accepted, self.keep)
        batch.records.append(accepted)

    def settle(self, batch: Batch) -> Batch:
        """Split and check the records the sender deferred; the batch is then as if it had not."""
        deferred, batch.deferred = batch.deferred, []
        for patient in deferred:
            self.take(patient, batch)
        return batch


def _open(handle: BinaryIO, store: DictionaryStore, users: list[Dictionary],
          flat_version: str | None, relaxed: bool = False) -> NaaccrReader | FlatReader:
    if flat_version:
        base = store.get(flat_version)
        if base is None:
            raise ValueError(f"the NAACCR {flat_version} base dictionary is not installed "
                             "(flask --app wsgi reference install naaccr-dictionary FILE.xml)")
        return FlatReader(handle, base, users)
    reader = NaaccrReader(handle, store, users, strict_namespaces=not relaxed)
    reader.data  # noqa: B018 - reads the root, so the dictionaries are known
    return reader


def _slim(accepted: Accepted, keep: tuple[str, ...] | None) -> Accepted:
    """Item lines only explain rejections, the raw column values are in the cleaned ones; of the
    items, only ``keep`` are still needed."""
    incoming, _, tumors = accepted
    incoming.item_lines, incoming.values = {}, {}
    for tumor, _, _ in tumors:
        tumor.item_lines, tumor.values, tumor.treatment = {}, {}, {}
    for part in [incoming, *(tumor for tumor, _, _ in tumors)]:
        if keep is not None:
            items = part.items
            part.items = {naaccr_id: items[naaccr_id] for naaccr_id in keep if naaccr_id in items}
    return accepted


# -- checking ----------------------------------------------------------------------------------------


class RecordChecker:
    """The registry's column rules applied to a read record (what the abstract forms check)."""

    def __init__(self, cat: Catalogue | None = None) -> None:
        self._item_ids = {(c.part, c.attribute): c.naaccr_id for c in column_items().values()}
        self.catalogue = cat or catalogue()

    def check(self, incoming: IncomingPatient, rejections: list[Rejection]) -> Accepted | None:
        """The record's cleaned values, or None after adding every reason to reject it to ``rejections``."""
        patient_id = incoming.items.get("patientIdNumber", "")
        reasons = [Rejection.of(problem, patient_id) for problem in incoming.problems]
        first_lines = incoming.tumors[0].item_lines if incoming.tumors else {}
        flagged = {(problem.tumor, problem.naaccr_id) for problem in incoming.problems}  # said once is enough

        def checked(model: type, part: str, values: dict[str, str], lines: dict[str, int],
                    line: int | None, tumor: int | None) -> dict[str, Any]:
            cleaned, errors = clean_columns(model, values)
            for attribute, message in errors.items():
                naaccr_id = self._item_ids.get((part, attribute), attribute)
                if (tumor, naaccr_id) in flagged:
                    continue
                reasons.append(Rejection(lines.get(naaccr_id) or first_lines.get(naaccr_id) or line,
                                         incoming.index, tumor, patient_id, naaccr_id, message))
            return cleaned

        def catalogued(values: dict[str, str], level: str, lines: dict[str, int], line: int | None,
                       tumor: int | None) -> None:
            for naaccr_id, value in values.items():
                item = self.catalogue.get(naaccr_id)
                if item is None or item.column is not None or (tumor, naaccr_id) in flagged:
                    continue  # not catalogued (kept verbatim), or a carried column checked with its column
                problem = self.catalogue.problem(naaccr_id, value.strip())
                if problem:
                    reasons.append(Rejection(lines.get(naaccr_id) or line, incoming.index, tumor, patient_id,
                                             naaccr_id, problem))

        patient_values = checked(Patient, "patient", incoming.values, incoming.item_lines, incoming.line, None)
        catalogued(incoming.extra, "Patient", incoming.item_lines, incoming.line, None)
        tumors = []
        for tumor in incoming.tumors:
            catalogued({**tumor.ssdi, **tumor.extra}, "Tumor", tumor.item_lines, tumor.line, tumor.index)
            values = checked(Tumor, "tumor", tumor.values, tumor.item_lines, tumor.line, tumor.index)
            treatment = checked(FirstCourseTreatment, "treatment", tumor.treatment, tumor.item_lines, tumor.line,
                                tumor.index)
            tumors.append((tumor, values, treatment))
        if reasons:
            rejections += reasons
            return None
        return incoming, patient_values, tumors


#: NAACCR dates of 1900-2099 but February 29: valid without the calendar whenever the registry's
#: earliest year (``MIN_YEAR``) is 1900 or before; other dates are asked of ``ItemSpec.problem``.
_PLAIN_DATE = re.compile(plain_date_pattern("19|20")).fullmatch if MIN_YEAR <= 1900 else None

#: Per item kind, a test (a C-level callable, so no Python frame per value) that accepts only values
#: ``ItemSpec.problem`` accepts; anything else is asked of ``ItemSpec.problem`` itself, so the
#: verdict and the message are the form's.
_ACCEPT: dict[str, Callable[[ItemSpec], Callable[[str], Any] | None]] = {
    "text": lambda spec: None,
    "digits": lambda spec: str.isdigit,
    "code": lambda spec: frozenset(terms(spec.code_list or "")).__contains__,
    "pattern": lambda spec: re.compile(spec.pattern or "").fullmatch,
    "date": lambda spec: _PLAIN_DATE,
}


@functools.cache
def _column_checks(model: type) -> dict[str, tuple[ItemSpec, int, Callable[[str], Any] | None]]:
    return {name: (spec, spec.length, _ACCEPT[spec.kind](spec)) for name, spec in naaccr_items(model).items()}


def _ANY(value: str) -> bool:
    return True


#: A value with no white space at either end (``str.strip`` and ``\\s`` agree on what white space is).
_UNPADDED = re.compile(r"\S(?:.*\S)?", re.DOTALL).fullmatch


def _clean_accept(spec: ItemSpec, accept: Callable[[str], Any] | None) -> Callable[[str], Any]:
    """A C-level test passing only values that :func:`clean_columns` keeps as they are, without an error.

    ``accept`` is the column's own test (``_column_checks``), which does not look at white space
    (``clean_columns`` strips first): digits, dates and codes never pass with white space in them
    (no code list has a padded code: ``tests/naaccr_io/test_clean_records.py``), text and patterns
    are held to no white space at either end. The caller checks the length.
    """
    if spec.kind == "text":
        return _UNPADDED
    if spec.kind == "pattern":
        try:
            return re.compile(f"(?=\\S)(?:{spec.pattern or ''})(?<=\\S)").fullmatch
        except re.error:  # a pattern that cannot be wrapped (global flags): every value gets the full check
            return _NEVER
    return accept or _NEVER


#: Where :class:`CleanRecords` puts an item: a patient, tumor or treatment column, a patient column
#: carried at the Tumor level, a site-specific data item, any other item (kept verbatim).
_PATIENT, _TUMOR, _TREATMENT, _CARRIED, _SSDI, _EXTRA = range(6)


class CleanRecords:
    """The fast path of an import's intake: a record the reader found nothing wrong with, split into
    columns and checked in one pass over its items.

    :meth:`accept` gives exactly what ``RecordChecker().check(item_map.incoming(patient), …)`` and
    ``_slim`` give for such a record, or None as soon as anything needs the full path: a problem the
    reader found, or a value that is blank, padded, too long or not plainly valid for its column. The
    full path then decides and says why (the same records, the same reasons: nearly every record of a
    real file takes this path, so each item costs one lookup and one C-level test).
    """

    def __init__(self, item_map: ItemMap, keep: tuple[str, ...] | None) -> None:
        self.item_map = item_map
        self.keep = keep
        self.carried = list(item_map.carried.items())
        #: naaccrId -> (where, attribute, longest value, test), per level; filled as items are first seen
        self._routes: dict[str, tuple[int, str, int, Callable[[str], Any]]] = {}
        self._patient_routes: dict[str, tuple[int, str, int, Callable[[str], Any]]] = {}
        checks = {(part, name): (limit, _clean_accept(spec, accept))
                  for part, model in (("patient", Patient), ("tumor", Tumor), ("treatment", FirstCourseTreatment))
                  for name, (spec, limit, accept) in _column_checks(model).items()}
        self._columns = {naaccr_id: (column.part, column.attribute, *checks[(column.part, column.attribute)])
                         for naaccr_id, column in item_map.columns.items()}
        self._carried_checks = [(naaccr_id, attribute, *checks[("patient", attribute)])
                                for naaccr_id, attribute in self.carried]
        self.catalogue = catalogue()

    def _route(self, naaccr_id: str, patient_level: bool) -> tuple[int, str, int, Callable[[str], Any]]:
        column = self._columns.get(naaccr_id)
        kept = (naaccr_id, 0, self._catalogued(naaccr_id))
        if patient_level:
            route = (_PATIENT, *column[1:]) if column is not None and column[0] == "patient" else (_EXTRA, *kept)
            self._patient_routes[naaccr_id] = route
            return route
        if column is not None and column[0] in ("tumor", "treatment"):
            route = (_TUMOR if column[0] == "tumor" else _TREATMENT, *column[1:])
        elif naaccr_id in self.item_map.carried:
            route = (_CARRIED, naaccr_id, 0, _NEVER)
        else:
            route = (_SSDI if self.item_map.is_ssdi(naaccr_id) else _EXTRA, *kept)
        self._routes[naaccr_id] = route
        return route

    def _catalogued(self, naaccr_id: str) -> Callable[[str], Any]:
        """The test a kept (SSDI or extra) item's value passes: the catalogue's, or none for an item
        the catalogue does not hold (a user dictionary's, kept verbatim)."""
        item = self.catalogue.get(naaccr_id)
        if item is None or item.column is not None:
            return _ANY
        return self.catalogue.accepts(naaccr_id)

    def accept(self, patient: NaaccrPatient) -> Accepted | None:
        if patient.problems or any(tumor.problems for tumor in patient.tumors):
            return None
        keep = self.keep
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        routes = self._patient_routes
        for naaccr_id, value in patient.items.items():
            where, name, limit, ok = routes.get(naaccr_id) or self._route(naaccr_id, True)
            if where == _EXTRA:
                if not ok(value):
                    return None
                extra[naaccr_id] = value
            elif not value:
                values[name] = None
            elif len(value) <= limit and ok(value):
                values[name] = value
            else:
                return None
        first = patient.tumors[0].items if patient.tumors else {}
        for naaccr_id, name, limit, ok in self._carried_checks:
            if naaccr_id in first:
                value = first[naaccr_id]
                if not value:
                    values[name] = None
                elif len(value) <= limit and ok(value):
                    values[name] = value
                else:
                    return None
        items = patient.items if keep is None else {k: patient.items[k] for k in keep if k in patient.items}
        incoming = IncomingPatient(line=patient.line, index=patient.index, items=items, item_lines={},
                                   problems=[], extra=extra)
        tumors = []
        routes = self._routes
        for tumor in patient.tumors:
            tumor_values: dict[str, Any] = {}
            treatment: dict[str, Any] = {}
            ssdi: dict[str, str] = {}
            tumor_extra: dict[str, str] = {}
            parts = (None, tumor_values, treatment, None, ssdi, tumor_extra)
            own = tumor.items
            for naaccr_id, value in own.items():
                where, name, limit, ok = routes.get(naaccr_id) or self._route(naaccr_id, False)
                if where > _CARRIED:  # SSDI or extra: kept under its naaccrId once the catalogue agrees
                    if not ok(value):
                        return None
                    parts[where][name] = value
                elif where == _CARRIED:
                    continue
                elif not value:
                    parts[where][name] = None
                elif len(value) <= limit and ok(value):
                    parts[where][name] = value
                else:
                    return None
            for naaccr_id, _ in self.carried:
                value = own.get(naaccr_id)
                if value != first.get(naaccr_id):
                    tumor_extra[naaccr_id] = value or ""
            kept = own if keep is None else {k: own[k] for k in keep if k in own}
            tumors.append((IncomingTumor(line=tumor.line, index=tumor.index, items=kept, item_lines={},
                                         ssdi=ssdi, extra=tumor_extra), tumor_values, treatment))
        incoming.tumors = [tumor for tumor, _, _ in tumors]
        return incoming, values, tumors


def clean_columns(model: type, values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """What ``abstracts.operations.clean`` does for item columns (derived items allowed: they come from
    the sending registry), with each column's check compiled once instead of per record."""
    checks = _column_checks(model)
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        text = value.strip()
        if text:
            spec, limit, accept = checks[name]
            if len(text) > limit or (accept is not None and not accept(text)):
                problem = spec.problem(text)
                if problem:
                    errors[name] = problem
            cleaned[name] = text
        else:
            cleaned[name] = None
    return cleaned, errors


# -- garbage collection ------------------------------------------------------------------------------

#: The youngest generation's threshold while records are read or written (Python's default is 700).
IMPORT_GC_THRESHOLD = 50_000
_collections_lock = threading.Lock()
_collections_held = 0
_collections_before: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector far less often meanwhile (process-wide, restored when the last one ends).

    An import allocates millions of short-lived dicts and tuples, none in cycles worth collecting
    early; with the default threshold the collector ran every 700 allocations and stood high in
    cProfiles of both the reading and the writing. Memory stays
    bounded: collections still happen, every 50,000 allocations.
    """
    global _collections_held, _collections_before
    with _collections_lock:
        if not _collections_held:
            _collections_before = gc.get_threshold()
            gc.set_threshold(max(_collections_before[0], IMPORT_GC_THRESHOLD), *_collections_before[1:])
        _collections_held += 1
    try:
        yield
    finally:
        with _collections_lock:
            _collections_held -= 1
            if not _collections_held:
                gc.set_threshold(*_collections_before)


# -- in a helper process -----------------------------------------------------------------------------


class IntakeFailed(RuntimeError):
    """The helper process reading the file failed; the message carries its traceback."""


def _asked(requests: int | None, always: bool) -> Callable[[], bool]:
    """Whether the importer asked (a byte on ``requests``) for the next batch unchecked; drains the requests."""
    def asked() -> bool:
        if always:
            return True
        if requests is None or not select.select([requests], [], [], 0)[0]:
            return False
        return bool(os.read(requests, 65536))  # b"": the importer is gone
    return asked


#: The fields of a record's parts as they travel through the pipe (``IncomingPatient.tumors`` is
#: left out: the tumors travel with their cleaned values, and are its tumors again on arrival).
_PATIENT_FIELDS = tuple(f.name for f in dataclasses.fields(IncomingPatient) if f.name != "tumors")
_TUMOR_FIELDS = tuple(f.name for f in dataclasses.fields(IncomingTumor))


@dataclass
class _Packed:
    """A batch on its way to the importer: its records as ``marshal`` data (plain tuples, dicts and
    strings, which cost both sides less than pickling the record dataclasses), the rest pickled."""

    records: bytes
    batch: Batch


def _pack(message: Any) -> Any:
    """``message`` as it goes through the pipe: a batch of records packed, anything else as it is."""
    if not isinstance(message, Batch) or not message.records:
        return message
    plain = [(tuple(getattr(incoming, name) for name in _PATIENT_FIELDS), values,
              [(tuple(getattr(tumor, name) for name in _TUMOR_FIELDS), tumor_values, treatment)
               for tumor, tumor_values, treatment in tumors])
             for incoming, values, tumors in message.records]
    try:
        records = marshal.dumps(plain)
    except ValueError:  # something marshal cannot write (a reader problem kept with a record): pickled whole
        return message
    return _Packed(records, dataclasses.replace(message, records=[]))


def _unpack(message: Any) -> Any:
    if not isinstance(message, _Packed):
        return message
    records: list[Accepted] = []
    for patient, values, tumors in marshal.loads(message.records):
        incoming = IncomingPatient(*patient)
        parts = [(IncomingTumor(*tumor), tumor_values, treatment) for tumor, tumor_values, treatment in tumors]
        incoming.tumors = [tumor for tumor, _, _ in parts]
        records.append((incoming, values, parts))
    message.batch.records = records
    return message.batch


class _Sender:
    """Writes the pickled messages from a thread, up to ``ahead`` of them before the importer reads them.

    A pipe holds 64 KB and a batch is most of a megabyte: written directly, the reading would stop
    at every batch until the importer had taken all of it, and each side would wait for the other.
    """

    def __init__(self, channel: BinaryIO, ahead: int = 4) -> None:
        self.channel = channel
        self.failed: BaseException | None = None
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=ahead)
        self._thread = threading.Thread(target=self._write, name="naaccr-intake-sender", daemon=True)
        self._thread.start()

    def send(self, message: Any) -> None:
        """Queue ``message``; raises what stopped the writing (``BrokenPipeError``: the importer is gone)."""
        if self.failed is not None:
            raise self.failed
        self._queue.put(pickle.dumps(_pack(message), protocol=pickle.HIGHEST_PROTOCOL))

    def close(self) -> None:
        """Wait until everything queued is written (or the writing failed), then close the channel."""
        self._queue.put(None)
        self._thread.join()
        try:
            self.channel.close()
        except OSError:
            pass

    def _write(self) -> None:
        while (data := self._queue.get()) is not None:
            if self.failed is None:  # after a failure the queue is only drained, so send never blocks
                try:
                    self.channel.write(data)
                    self.channel.flush()
                except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
                    self.failed = exc


def _serve(channel: BinaryIO, path: str, store: DictionaryStore, user_dictionaries: list[Dictionary],
           flat_version: str | None, batch_size: int, keep_items: list[str] | None, relaxed: bool = False,
           requests: int | None = None, balance: str = "auto") -> None:
    """Helper-process side: send every message of :func:`read_batches`, or what stopped it."""
    defer = None if balance == "never" else _asked(requests, balance == "always")
    sender = _Sender(channel)
    try:
        for message in read_batches(path, store=store, user_dictionaries=user_dictionaries, defer=defer,
                                    flat_version=flat_version, batch_size=batch_size, keep_items=keep_items,
                                    relaxed=relaxed):
            sender.send(message)
    except BrokenPipeError:
        pass  # the importer stopped listening (it failed or was killed): nothing left to do
    except OSError as exc:  # the file itself: raised again in the importer, as without a helper
        _send_last(sender, exc)
    except BaseException:  # noqa: BLE001 - anything else: the importer must learn why reading stopped
        _send_last(sender, IntakeFailed(traceback.format_exc()))
    sender.close()


def _send_last(sender: _Sender, failure: BaseException) -> None:
    try:
        sender.send(failure)
    except BrokenPipeError:
        pass


def read_in_helper(path: str | os.PathLike[str], *, store: DictionaryStore,
                   user_dictionaries: Iterable[Dictionary] = (), flat_version: str | None = None,
                   batch_size: int = 500, keep_items: Iterable[str] | None = None,
                   balance: str = "auto", relaxed: bool = False) -> Iterator[Message]:
    """:func:`read_batches` run in a helper process; the messages arrive here as they are made.

    The helper is a fresh interpreter (``python -m registry.naaccr.intake``, not a fork: the
    importer may hold database connections and threads, and nothing of the caller's main module
    is imported again). The helper sends at most a few batches ahead (:class:`_Sender`), so a slow
    importer slows the reader down instead of letting memory grow; the helper is stopped when this
    generator is closed.

    The two sides share the work: each time this side finds nothing to read, it asks (a byte on
    a second pipe) for the helper's next batch unchecked, and the receiver splits and checks it
    (:meth:`RecordIntake.settle`); whichever side is slower on this machine and database does
    less. ``balance`` is ``auto`` (that), ``never`` or ``always`` (every batch unchecked; tests).
    """
    if balance not in ("auto", "never", "always"):
        raise ValueError(f"balance must be auto, never or always, not {balance!r}")
    receiving, sending = os.pipe()
    requests, asking = os.pipe()  # the helper reads requests, this side writes them
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry)}
    helper = subprocess.Popen([sys.executable, "-m", __name__, str(sending), str(requests)], stdin=subprocess.PIPE,
                              pass_fds=(sending, requests), env=environment)
    os.close(sending)
    os.close(requests)
    channel = os.fdopen(receiving, "rb")
    try:
        assert helper.stdin is not None
        pickle.dump((os.fspath(path), store, list(user_dictionaries), flat_version, batch_size,
                     None if keep_items is None else list(keep_items), relaxed), helper.stdin)
        pickle.dump(balance, helper.stdin)
        helper.stdin.close()
        while True:
            if balance == "auto" and not select.select([receiving], [], [], 0)[0]:
                _ask(asking)
            try:
                message = pickle.load(channel)
            except (EOFError, pickle.UnpicklingError):  # it stopped, between messages or in the middle of one
                raise IntakeFailed(f"the process reading the file stopped (exit code {helper.wait()})") from None
            if isinstance(message, BaseException):
                raise message
            message = _unpack(message)
            yield message
            if isinstance(message, Finished):
                return
    finally:
        channel.close()
        os.close(asking)
        try:
            helper.wait(timeout=5)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()


def _ask(asking: int) -> None:
    try:
        os.write(asking, b"?")
    except BrokenPipeError:  # the helper has ended: what it sent is still read
        pass


if __name__ == "__main__":  # the helper process; the module is imported by name so messages unpickle as its classes
    from registry.naaccr.intake import _serve as serve
    from registry.naaccr.intake import fewer_collections
    with os.fdopen(int(sys.argv[1]), "wb") as given_channel, fewer_collections():
        given = pickle.load(sys.stdin.buffer)
        serve(given_channel, *given, requests=int(sys.argv[2]), balance=pickle.load(sys.stdin.buffer))
