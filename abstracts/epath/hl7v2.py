"""HL7 v2 ORU^R01 pathology messages (NAACCR Volume V 2.5.1 and the older 2.3.1 layout) read with ``hl7``.

A file or an MLLP payload may hold one message, several (one after the other, or in FHS/BHS batches).
Each message is read on its own: a malformed one (an unknown segment, or a date field that is not an HL7
date) raises :class:`MalformedMessage` naming the message, the segment and the field, and the others go on. Files copied from documentation mark segment ends with the literal
text ``<CR>``; those are read as carriage returns.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

import hl7

from abstracts.epath.report import PathologyReport, PatientIdentity, Section, SynopticAnswer, hl7_date

SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
#: Segments a Volume V ORU^R01 may carry (2.5.1 and 2.3.1); anything else is a malformed message.
KNOWN_SEGMENTS = frozenset({"MSH", "SFT", "PID", "PD1", "NK1", "NTE", "PV1", "PV2", "ORC", "OBR", "OBX", "SPM",
                            "TQ1", "TQ2", "CTD", "FT1", "CTI", "ZDS", "ZPI"})
ENVELOPE = frozenset({"FHS", "FTS", "BHS", "BTS"})
#: LOINC codes of the narrative sections (NAACCR Volume V table), and how they are named in the report.
SECTION_NAMES = {
    "22637-3": "final diagnosis", "22633-2": "nature of specimen", "22634-0": "gross description",
    "22635-7": "microscopic", "22636-5": "clinical history", "22638-1": "comments", "22639-9": "supplemental",
    "35265-8": "addendum", "33746-9": "pathology report", "11529-5": "surgical pathology", "22049-1": "phenotype",
    "60570-9": "synoptic", "60567-5": "comprehensive path report", "60568-3": "synoptic report",
}
#: Synoptic template header questions: kept out of the answers.
TEMPLATE_HEADERS = {"60573-3", "60572-5", "60574-1"}
#: Date fields read into the report (segment, field number): a value there that is not an HL7 date refuses
#: the message, since a wrong birth or collection date would match the wrong patient or date the tumor.
DATE_FIELDS = (("PID", 7), ("OBR", 7), ("OBR", 22), ("SPM", 17))
#: HL7 DTM: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
DTM = re.compile(r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.\d{1,4})?)?)?)?)?)?"
                 r"(?:[+-](\d{2})(\d{2}))?")


class MalformedMessage(ValueError):
    """A message that cannot be read; nothing of it is stored."""

    def __init__(self, where: str, problem: str, control_id: str | None = None):
        super().__init__(f"{where}: {problem}")
        self.where, self.problem, self.control_id = where, problem, control_id


@dataclass(frozen=True)
class RawMessage:
    """One message as received: its place in the input, its control id and its text (segments end in CR);
    ``parsed`` when a batch was already parsed whole."""

    number: int
    control_id: str | None
    text: str
    parsed: hl7.Message | None = None

    @property
    def label(self) -> str:
        return f"message {self.number}" + (f" ({self.control_id})" if self.control_id else "")


def normalise(data: str | bytes) -> str:
    """Segment ends as carriage returns, whatever the file used (CR, LF, CRLF, the literal ``<CR>``)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    data = data.lstrip("\ufeff").replace("\x0b", "").replace("\x1c", "")
    data = re.sub(r"<CR>[ \t]*(\r\n|\n|\r)?", "\r", data)
    lines = re.split(r"\r\n|\r|\n", data)
    return "\r".join(line for line in lines if line.strip())


def split_messages(data: str | bytes, *, lazy: bool = False) -> list[RawMessage]:
    """Every message in ``data``: batches (FHS/BHS…BTS/FTS) through ``hl7.parse_hl7``, loose messages
    through ``hl7.split_file``; ``lazy`` leaves a loose message's control id to :func:`parse_message`."""
    text = normalise(data)
    if not text:
        return []
    if text.startswith(("FHS", "BHS")):
        try:
            parsed = hl7.parse_hl7(text)
        except hl7.HL7Exception as exc:
            raise MalformedMessage("batch", str(exc)) from None
        raw = []
        for number, message in enumerate(_batch_messages(parsed), 1):
            try:
                control_id = str(message.segment("MSH")[10]) or None
            except (KeyError, IndexError):
                control_id = None
            raw.append(RawMessage(number, control_id, str(message).strip("\r"), message))
        return raw
    chunks = hl7.split_file(text)
    if not chunks:
        raise MalformedMessage("input", "no MSH segment: not an HL7 v2 message")
    raw = []
    for number, chunk in enumerate(chunks, 1):
        control_id = None if lazy else _control_id(hl7.parse(chunk.split("\r", 1)[0]))
        raw.append(RawMessage(number, control_id, chunk.strip("\r")))
    return raw


def _control_id(message: hl7.Message) -> str | None:
    """MSH-10, which names the message in every answer and refusal."""
    try:
        return str(message.segment("MSH")[10]) or None
    except (KeyError, IndexError):
        return None


def _batch_messages(parsed: hl7.Message | hl7.Batch | hl7.File) -> list[hl7.Message]:
    if isinstance(parsed, hl7.File):
        return [m for batch in parsed for m in batch]
    if isinstance(parsed, hl7.Batch):
        return list(parsed)
    return [parsed]


def _field(segment: hl7.Segment, number: int, component: int | None = None, sub: int | None = None) -> str:
    """``segment``'s field (1-based, HL7 numbering; MSH counts its separator), '' when absent."""
    try:
        value = segment[number]
        if component is not None:
            value = value[0][component - 1] if isinstance(value, hl7.Field) else value[component - 1]
            if sub is not None:
                value = value[sub - 1] if isinstance(value, hl7.Component) else (value if sub == 1 else "")
    except (IndexError, KeyError, TypeError):
        return ""
    return str(value).strip()


def _component(segment: hl7.Segment, number: int, component: int, repetition: int = 0) -> str:
    try:
        value = segment[number]
        if isinstance(value, hl7.Field) and value and isinstance(value[0], hl7.Repetition):
            value = value[repetition]
        elif repetition:
            return ""
        if isinstance(value, (hl7.Field, hl7.Repetition)):
            return str(value[component - 1]).strip() if len(value) >= component else ""
        return str(value).strip() if component == 1 else ""
    except (IndexError, KeyError, TypeError):
        return ""


def _repetitions(segment: hl7.Segment, number: int) -> list[hl7.Repetition | hl7.Field]:
    try:
        value = segment[number]
    except IndexError:
        return []
    if isinstance(value, hl7.Field) and value and isinstance(value[0], hl7.Repetition):
        return list(value)
    return [value]


def is_hl7_date(value: str) -> bool:
    """Whether ``value`` is an HL7 DTM naming a real calendar date and time (not 2021-13-45, not 20210230)."""
    found = DTM.fullmatch(value)
    if found is None:
        return False
    year, month, day, hour, minute, second, zone_hour, zone_minute = found.groups()
    try:
        datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return False
    return zone_hour is None or (int(zone_hour) <= 14 and int(zone_minute) < 60)


def _check_dates(message: hl7.Message, raw: RawMessage) -> None:
    """Refuse the message when a date field of :data:`DATE_FIELDS` holds something that is not a date."""
    for segment in message:
        name = str(segment[0])
        for wanted, number in DATE_FIELDS:
            if name != wanted:
                continue
            value = _component(segment, number, 1)
            if value and not is_hl7_date(value):
                raise MalformedMessage(raw.label, f"{name}-{number} '{value[:40]}' is not a date "
                                                  "(HL7 form YYYYMMDD[HHMM[SS]])", raw.control_id)


def _person(value: object) -> str:
    """An XCN/CNN (id^family^given^middle^suffix^prefix^degree or with & subcomponents) as 'Given Family, degree'."""
    text = str(value)
    parts = re.split(r"[\^&]", text)
    family, given = (parts + [""] * 3)[1:3]
    degree = parts[6] if len(parts) > 6 and parts[6] else ""
    name = " ".join(p for p in (given, family) if p).strip()
    return (name + (f", {degree}" if degree else "")) if name else ""


def _pieces(value: object) -> list[str]:
    return [str(p) for p in value] if isinstance(value, (hl7.Field, hl7.Repetition)) else [str(value)]


def parse_message(raw: RawMessage) -> PathologyReport:
    """One ORU^R01 message → a report; refuses a message with a segment that is not one."""
    try:
        message = raw.parsed if raw.parsed is not None else hl7.parse(raw.text)
    except hl7.HL7Exception as exc:
        raise MalformedMessage(raw.label, str(exc)) from None
    if raw.control_id is None:
        raw = replace(raw, control_id=_control_id(message))
    for position, segment in enumerate(message, 1):
        name = str(segment[0])
        if not SEGMENT_ID.fullmatch(name) or name not in KNOWN_SEGMENTS:
            excerpt = str(segment)[:40]
            raise MalformedMessage(raw.label, f"segment {position} '{excerpt}' is not an ORU^R01 segment "
                                              f"(expected one of {', '.join(sorted(KNOWN_SEGMENTS))})",
                                   raw.control_id)
    if str(message[0][0]) != "MSH":
        raise MalformedMessage(raw.label, "the message does not begin with MSH", raw.control_id)
    msh = message.segment("MSH")
    message_type = _field(msh, 9)
    if message_type and not message_type.startswith("ORU"):
        raise MalformedMessage(raw.label, f"segment MSH: message type '{message_type}' is not ORU^R01",
                               raw.control_id)
    try:
        message.segment("PID")
    except KeyError:
        raise MalformedMessage(raw.label, "no PID segment: the message names no patient",
                               raw.control_id) from None
    _check_dates(message, raw)
    report = PathologyReport(format="hl7v2", message_id=raw.control_id,
                             sending_facility=_component(msh, 4, 1) or _component(msh, 3, 1) or None)
    _read_patient(message.segment("PID"), report.patient)
    current_section: Section | None = None
    for position, segment in enumerate(message, 1):
        name = str(segment[0])
        if name == "ORC" and not report.ordering_facility:
            report.ordering_facility = _component(segment, 21, 1) or None
        elif name == "OBR":
            _read_order(segment, report)
            current_section = None
        elif name == "OBX":
            current_section = _read_observation(message, segment, report, current_section, position)
        elif name == "SPM":
            specimen = _component(segment, 4, 2) or _component(segment, 8, 5) or _component(segment, 4, 1)
            described = _component(segment, 8, 5)
            if described and described not in report.specimens:
                report.specimens.append(described)
            elif specimen and specimen not in report.specimens:
                report.specimens.append(specimen)
            collected = hl7_date(_component(segment, 17, 1))
            if collected and not report.collection_date:
                report.collection_date = collected
    return report


def _read_patient(pid: hl7.Segment, patient: PatientIdentity) -> None:
    patient.name_last = _component(pid, 5, 1) or None
    patient.name_first = _component(pid, 5, 2) or None
    patient.date_of_birth = hl7_date(_field(pid, 7))
    patient.sex = _field(pid, 8) or None
    street, city, state, zip_code = (_component(pid, 11, n) for n in (1, 3, 4, 5))
    patient.address = ", ".join(p for p in (street, city, state, zip_code) if p) or None
    for identifier in _repetitions(pid, 3):
        pieces = _pieces(identifier)
        number = pieces[0].strip() if pieces else ""
        kind = pieces[4].strip() if len(pieces) > 4 else ""
        if kind == "MR" and not patient.medical_record_number:
            patient.medical_record_number = number[:15] or None
        elif kind == "SS" and not patient.social_security_number:
            patient.social_security_number = re.sub(r"\D", "", number)[:9] or None
    if not patient.social_security_number:
        ssn = re.sub(r"\D", "", _field(pid, 19))  # the 2.3.1 layout's SSN field
        patient.social_security_number = ssn[:9] or None
    if not patient.medical_record_number:
        patient.medical_record_number = _component(pid, 2, 1)[:15] or None  # 2.3.1 external id


def _read_order(obr: hl7.Segment, report: PathologyReport) -> None:
    accession = _component(obr, 3, 1)
    if accession and not report.accession:
        report.accession = accession
    report.report_type = report.report_type or _component(obr, 4, 2) or None
    collected = hl7_date(_field(obr, 7))
    if collected and not report.collection_date:
        report.collection_date = collected
    status = _field(obr, 25)
    if status in {"C", "P", "F"} and (status == "C" or report.status != "C"):
        report.status = status
    report.report_date = report.report_date or hl7_date(_field(obr, 22))
    report.ordering_provider = report.ordering_provider or _person(obr[16] if len(obr) > 16 else "") or None
    pathologist = _person(obr[32]) if len(obr) > 32 else ""
    report.pathologist = report.pathologist or pathologist or None
    source = str(obr[15]) if len(obr) > 15 else ""  # 2.3.1 SPS: code^text, or code&text&system in 2.5.1 copies
    pieces = [p for p in re.split(r"[\^&]", source) if p]
    described = [p for p in pieces if " " in p or (p.isalpha() and len(p) > 4 and not p.isupper())]
    for candidate in described[:1]:
        if candidate not in report.specimens:
            report.specimens.append(candidate)


def _read_observation(message: hl7.Message, obx: hl7.Segment, report: PathologyReport,
                      current: Section | None, position: int) -> Section | None:
    value_type = _field(obx, 2)
    code = _component(obx, 3, 1)
    question = _component(obx, 3, 2)
    system = _component(obx, 3, 3)
    value = message.unescape(str(obx[5])) if len(obx) > 5 else ""
    if value_type in {"TX", "FT", "ST"} and (system in {"LN", "L", ""} or code in SECTION_NAMES) \
            and code not in TEMPLATE_HEADERS and "CAP" not in system:
        value = value.replace("\\.br\\", "\n")
        name = SECTION_NAMES.get(code) or (question or code).lower()
        text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if current is not None and current.code == code and (not current.text or not text.startswith(current.text)):
            current.text = (current.text + "\n" + text).strip() if current.text else text
            return current
        if current is not None and current.code == code and current.text == text:
            return current  # a duplicated OBX
        section = Section(code, name, text)
        report.sections.append(section)
        return section
    if code in TEMPLATE_HEADERS:
        if code == "60572-5":
            template = _component(obx, 5, 2) or value
            report.sections.append(Section(code, "synoptic template", template))
            report.form_title = report.form_title or template or None
        return None
    codings: list[dict[str, str]] = []
    if value_type in {"CWE", "CE"}:
        answer, answer_code = _component(obx, 5, 2) or _component(obx, 5, 1), _component(obx, 5, 1)
        where = f"segment {position} (OBX|{_field(obx, 1)})"
        for first, field_name in ((1, "OBX-5"), (4, "OBX-5.4")):
            code, display, system = (_component(obx, 5, first + n) for n in range(3))
            if code and system:
                codings.append({"code": code, "display": display.lstrip("?").strip(), "system": system,
                                "where": f"{where}, {field_name}"})
    else:
        answer, answer_code = value.strip(), None
        unit = _component(obx, 6, 1)
        if unit and value_type == "NM":
            answer = f"{answer} {unit}"
    answer = answer.lstrip("?").strip()
    if question or answer:
        report.synoptic.append(SynopticAnswer(code or None, question.lstrip("?").strip() or code, answer,
                                              answer_code or None, codings))
    return None


def read_messages(data: str | bytes) -> Iterator[tuple[RawMessage, PathologyReport | MalformedMessage]]:
    """Each message of ``data`` with its report, or the reason it was refused."""
    for raw in split_messages(data):
        try:
            yield raw, parse_message(raw)
        except MalformedMessage as exc:
            yield raw, exc
