"""Batch staging of a CSV file: the contract behind ``staging run``.

IN has a header row of the algorithm's input keys (other columns are carried through untouched). OUT repeats
every input column and adds ``schema_id``, ``result``, ``errors`` and one column per output key of the algorithm.
A case that cannot be staged is reported in its own row; only a malformed file raises.
"""
from __future__ import annotations

import csv
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from registry.csv_safety import SafeWriter

from .engine import Algorithm

ADDED_COLUMNS = ("schema_id", "result", "errors")


class CsvFormatError(ValueError):
    """The input CSV cannot be read as a table (message names the file and line)."""


def stage_csv(algorithm: Algorithm, in_path: str | Path, out_path: str | Path) -> Counter:
    """Stage every row of ``in_path`` into ``out_path``; return counts per result status.

    The output is written to a temporary file and moved into place only when the whole input was readable,
    so a malformed file never leaves a half-written result behind.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    counts: Counter = Counter()
    known = set(algorithm.input_keys)
    try:
        src = open(in_path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CsvFormatError(f"{in_path}: cannot open ({exc.strerror})") from exc
    fd, tmp_name = tempfile.mkstemp(dir=out_path.parent if out_path.parent.exists() else None, suffix=".csv.tmp")
    try:
        with src, os.fdopen(fd, "w", newline="", encoding="utf-8") as dst:
            reader = csv.reader(src, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise CsvFormatError(f"{in_path}: empty file, expected a header row of input keys") from None
            except (csv.Error, UnicodeDecodeError) as exc:
                raise CsvFormatError(f"{in_path}, line 1: {exc}") from exc
            header = [h.strip() for h in header]
            _check_header(in_path, header, known, algorithm.output_keys)
            used = [(i, h) for i, h in enumerate(header) if h in known]
            writer = SafeWriter(dst)
            writer.writerow([*header, *ADDED_COLUMNS, *algorithm.output_keys])
            width = len(header)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except (csv.Error, UnicodeDecodeError) as exc:
                    raise CsvFormatError(f"{in_path}, line {reader.line_num}: {exc}") from exc
                if not row or (len(row) == 1 and not row[0].strip() and width > 1):
                    continue
                if len(row) != width:
                    raise CsvFormatError(f"{in_path}, line {reader.line_num}: {len(row)} values, "
                                         f"the header has {width}")
                res = algorithm.stage({h: row[i] for i, h in used})
                counts[res.status] += 1
                outputs = res.outputs
                writer.writerow([*row, res.schema_id or "", res.status, "; ".join(map(str, res.errors)),
                                 *(outputs.get(k, "") for k in algorithm.output_keys)])
        os.replace(tmp_name, out_path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return counts


def _check_header(in_path: Path, header: list[str], known: set[str], output_keys: list[str]) -> None:
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise CsvFormatError(f"{in_path}, line 1: duplicate columns {', '.join(dupes)}")
    missing = [k for k in ("site", "hist") if k not in header]
    if missing:
        raise CsvFormatError(f"{in_path}, line 1: header lacks required input keys {', '.join(missing)} "
                             f"(the header must name the algorithm's input keys)")
    clash = sorted(set(header) & (set(ADDED_COLUMNS) | set(output_keys)))
    if clash:
        raise CsvFormatError(f"{in_path}, line 1: columns {', '.join(clash)} are reserved for results")


def stage_file_job(progress: Callable[[int, str], None], path: str, algorithm: str, file_name: str | None = None,
                   user_id: int | None = None, username: str = "system") -> str:
    """Job kind ``staging-run``: ``staging run`` on an uploaded CSV; the result is the staged CSV. The file holds
    no abstract, so nothing of the registry changes; the run is audited (who staged which file with what)."""
    from registry.audit import SYSTEM, Actor, log_event

    from .reference import installed_algorithm
    staged = installed_algorithm(algorithm)
    source = Path(path)
    target = source.with_name(source.stem + "-staged.csv")
    try:
        counts = stage_csv(staged, source, target)
    except CsvFormatError as exc:  # the message names the upload by its own name, not the server's copy
        raise CsvFormatError(str(exc).replace(str(source), file_name or source.name)) from None
    summary = (f"staged {sum(counts.values())} rows of {file_name or source.name} with {staged.name} "
               f"{staged.version}: " + ", ".join(f"{status} {n}" for status, n in sorted(counts.items())))
    log_event(Actor(user_id, username) if user_id else SYSTEM, "staging_run", detail=summary)
    progress(100, summary)
    return str(target)


def register_jobs() -> None:
    from registry.jobs import job_kind
    job_kind("staging-run")(stage_file_job)


register_jobs()
