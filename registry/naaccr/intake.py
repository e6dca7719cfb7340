"""The reading side of an import: records read, split into columns and checked, in batches.

Nothing here touches the database, so on a large file it runs in a helper process
(:func:`read_in_helper`) while the importer matches and writes the batch before: reading and
checking a record costs about as much as writing it, so two cores take nearly half the time.
A record is one ``Patient`` with its tumors; it is *accepted* when the reader found no problem
in it and every value passes the registry's own rules for its column (the same rules the
abstract forms apply), otherwise every reason is listed as a :class:`Rejection` with its line.
"""
from __future__ import annotations

import functools
import os
import pickle
import re
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Union

from registry.dates import MIN_YEAR
from registry.items import ItemSpec, naaccr_items
from registry.models import FirstCourseTreatment, Patient, Tumor
from registry.naaccr.dictionary import Dictionary, DictionaryError, DictionaryStore, ItemLookup
from registry.naaccr.flat import FlatReader
from registry.naaccr.reader import NaaccrError, NaaccrReader, Problem
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


@dataclass
class Finished:
    """The end of the file, or the point where it could not be read further (``fatal``)."""

    rejections: list[Rejection] = field(default_factory=list)
    fatal: Problem | None = None


Message = Union[Opened, Batch, Finished]


def read_batches(path: str | os.PathLike[str], *, store: DictionaryStore, user_dictionaries: Iterable[Dictionary] = (),
                 flat_version: str | None = None, batch_size: int = 500,
                 keep_items: Iterable[str] | None = None) -> Iterator[Message]:
    """``Opened``, then ``Batch`` after ``Batch``, then ``Finished`` (only ``Finished`` if the file cannot be opened).

    An accepted record's ``items`` (the file's items as read) keep only ``keep_items`` when given:
    its columns are in ``values``, so the writer needs only the few items it matches on.
    """
    keep = None if keep_items is None else tuple(keep_items)
    with open(path, "rb") as handle:
        try:
            reader = _open(handle, store, list(user_dictionaries), flat_version)
        except (NaaccrError, DictionaryError, ValueError) as exc:
            yield Finished(fatal=exc.problem if isinstance(exc, NaaccrError) else Problem(str(exc), code="dictionary"))
            return
        with reader:
            yield Opened(reader.lookup)
            item_map = ItemMap(reader.lookup)
            checker = RecordChecker()
            batch = Batch()
            fatal = None
            try:
                for patient in reader:
                    incoming = item_map.incoming(patient)
                    batch.patients_read += 1
                    batch.tumors_read += len(incoming.tumors)
                    accepted = checker.check(incoming, batch.rejections)
                    if accepted is None:
                        batch.records_rejected += 1
                        continue
                    batch.records.append(_slim(accepted, keep))
                    if len(batch.records) >= batch_size:
                        batch.position = handle.tell()
                        yield batch
                        batch = Batch()
            except NaaccrError as exc:
                fatal = exc.problem
            batch.position = handle.tell()
            yield batch
            yield Finished([Rejection.of(problem) for problem in reader.problems], fatal)


def _open(handle: BinaryIO, store: DictionaryStore, users: list[Dictionary],
          flat_version: str | None) -> NaaccrReader | FlatReader:
    if flat_version:
        base = store.get(flat_version)
        if base is None:
            raise ValueError(f"the NAACCR {flat_version} base dictionary is not installed "
                             "(flask --app wsgi reference install naaccr-dictionary FILE.xml)")
        return FlatReader(handle, base, users)
    reader = NaaccrReader(handle, store, users)
    reader.data  # noqa: B018 - reads the root, so the dictionaries are known
    return reader


def _slim(accepted: Accepted, keep: tuple[str, ...] | None) -> Accepted:
    """Item lines only explain rejections; of the items, only ``keep`` are still needed."""
    parts = [accepted[0], *(tumor for tumor, _, _ in accepted[2])]
    for part in parts:
        part.item_lines = {}
        if keep is not None:
            items = part.items
            part.items = {naaccr_id: items[naaccr_id] for naaccr_id in keep if naaccr_id in items}
    return accepted


# -- checking ----------------------------------------------------------------------------------------


class RecordChecker:
    """The registry's column rules applied to a read record (what the abstract forms check)."""

    def __init__(self) -> None:
        self._item_ids = {(c.part, c.attribute): c.naaccr_id for c in column_items().values()}

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

        patient_values = checked(Patient, "patient", incoming.values, incoming.item_lines, incoming.line, None)
        tumors = []
        for tumor in incoming.tumors:
            values = checked(Tumor, "tumor", tumor.values, tumor.item_lines, tumor.line, tumor.index)
            treatment = checked(FirstCourseTreatment, "treatment", tumor.treatment, tumor.item_lines, tumor.line,
                                tumor.index)
            tumors.append((tumor, values, treatment))
        if reasons:
            rejections += reasons
            return None
        return incoming, patient_values, tumors


#: NAACCR dates of 1900-2099 with a day up to 28: valid without the calendar whenever the registry's
#: earliest year (``MIN_YEAR``) is 1900 or before; other dates are asked of ``ItemSpec.problem``.
_PLAIN_DATE = (re.compile("(19|20)[0-9][0-9]((0[1-9]|1[012])(0[1-9]|1[0-9]|2[0-8])?)?").fullmatch
               if MIN_YEAR <= 1900 else None)

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


# -- in a helper process -----------------------------------------------------------------------------


class IntakeFailed(RuntimeError):
    """The helper process reading the file failed; the message carries its traceback."""


def _serve(channel: BinaryIO, path: str, store: DictionaryStore, user_dictionaries: list[Dictionary],
           flat_version: str | None, batch_size: int, keep_items: list[str] | None) -> None:
    """Helper-process side: send every message of :func:`read_batches`, or what stopped it."""
    try:
        for message in read_batches(path, store=store, user_dictionaries=user_dictionaries,
                                    flat_version=flat_version, batch_size=batch_size, keep_items=keep_items):
            pickle.dump(message, channel, protocol=pickle.HIGHEST_PROTOCOL)
            channel.flush()
    except BrokenPipeError:
        return  # the importer stopped listening (it failed or was killed): nothing left to do
    except OSError as exc:  # the file itself: raised again in the importer, as without a helper
        pickle.dump(exc, channel)
    except BaseException:  # noqa: BLE001 - anything else: the importer must learn why reading stopped
        pickle.dump(IntakeFailed(traceback.format_exc()), channel)
    channel.close()


def read_in_helper(path: str | os.PathLike[str], *, store: DictionaryStore,
                   user_dictionaries: Iterable[Dictionary] = (), flat_version: str | None = None,
                   batch_size: int = 500, keep_items: Iterable[str] | None = None) -> Iterator[Message]:
    """:func:`read_batches` run in a helper process; the messages arrive here as they are made.

    The helper is a fresh interpreter (``python -m registry.naaccr.intake``, not a fork: the
    importer may hold database connections and threads, and nothing of the caller's main module
    is imported again). The pipe holds only a few batches, so a slow importer slows the reader
    down instead of letting memory grow; the helper is stopped when this generator is closed.
    """
    receiving, sending = os.pipe()
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry)}
    helper = subprocess.Popen([sys.executable, "-m", __name__, str(sending)], stdin=subprocess.PIPE,
                              pass_fds=(sending,), env=environment)
    os.close(sending)
    channel = os.fdopen(receiving, "rb")
    try:
        assert helper.stdin is not None
        pickle.dump((os.fspath(path), store, list(user_dictionaries), flat_version, batch_size,
                     None if keep_items is None else list(keep_items)), helper.stdin)
        helper.stdin.close()
        while True:
            try:
                message = pickle.load(channel)
            except (EOFError, pickle.UnpicklingError):  # it stopped, between messages or in the middle of one
                raise IntakeFailed(f"the process reading the file stopped (exit code {helper.wait()})") from None
            if isinstance(message, BaseException):
                raise message
            yield message
            if isinstance(message, Finished):
                return
    finally:
        channel.close()
        try:
            helper.wait(timeout=5)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()


if __name__ == "__main__":  # the helper process; the module is imported by name so messages unpickle as its classes
    from registry.naaccr.intake import _serve as serve
    with os.fdopen(int(sys.argv[1]), "wb") as given_channel:
        serve(given_channel, *pickle.load(sys.stdin.buffer))
