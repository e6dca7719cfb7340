"""Benchmark NAACCR export from and import into the database beside lxml alone on the same file.

    .venv/bin/python bench/bench_naaccr_db.py --dictionaries ../shared/reference/naaccr/dictionaries \
        [--sizes 10000 100000] [--hooks-sizes 10000] [--repeat 3] [--databases sqlite postgresql] \
        [--operations export lxml-write lxml-parse import import+hooks read intake validate]

For each size, demo data (``load_demo_data``, about 1.06 tumors per patient, so the patient count
is chosen to give that many tumors) is loaded into a fresh SQLite file (and PostgreSQL when
``BENCH_POSTGRES_URL`` is set; its public schema is dropped and rebuilt, imports go to the database
of the same name + ``_target``, both created when missing, and ``ANALYZE`` runs after the
load, as autovacuum would soon after), then each operation runs
in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own:

- ``export``: ``reports.submissions.export_file`` (v25, record type A) of every tumor;
- ``import``: ``registry.naaccr.importer.import_file`` of that file into an empty database,
  without the save hooks (``save_hooks=False``: the file's derived items are kept) and, for
  ``--hooks-sizes``, with them (stage, survival time and edit status derived per tumor);
- ``read`` / ``intake`` (on request): the import's reader alone, and what its helper process does
  (read, split into columns, check, pack each batch for the pipe), to see where an import's time goes;
- ``validate`` (on request): ``flask --app wsgi naaccr validate FILE`` as a user runs it, the whole
  process (start-up included), with the official dictionaries installed (untimed) first; it is
  compared with the whole ``lxml parse`` process, not with its timed part;
- baseline ``lxml write``: the same items (read into memory first, untimed) written with
  ``etree.xmlfile``; baseline ``lxml parse``: ``iterparse`` of the exported file into dicts.

Each row gives wall seconds and CPU seconds of the operation's process and its own children
(``time.process_time`` plus ``RUSAGE_CHILDREN``: a large import reads and checks the file in a helper
process; for PostgreSQL the server's own CPU is not in it), and peak RSS of the operation's process
and, separately, of its largest child; "whole process s" is the operation's process from start to exit
(interpreter and imports included). "machine busy %" is how busy all cores of the machine were
during the operation (``/proc/stat``; a PostgreSQL server on the machine counts), and for imports
"batches checked by the importer" says how many batches the helper left for the importer to check
(``ImportResult.batches_checked_here``). ``--repeat N`` runs every operation once per round, N rounds
(so the baseline and the operation see the same machine, which on shared hosts speeds up and slows
down), and keeps the fastest of the N runs of each operation (its busy share and batch count are
that run's); it also says, on standard error, how many of the N runs of each operation completed
(a crashed child is reported with its stack and not counted). ``--general-path`` makes every
exported file one the reader's text path does not take (a comment before ``NaaccrData``), to time or
stress the lxml path: ``--sizes 10000 --hooks-sizes 10000 --operations import+hooks --repeat 20``
is the crash loop of issue 25.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("REGISTRY_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-instance-"))

NS = "http://naaccr.org/naaccrxml"
TUMORS_PER_PATIENT = 1.061


def _postgres_url(name: str) -> str:
    """BENCH_POSTGRES_URL for the source data; the same server and name + ``_target`` for the databases
    imports write into, so a later round exports the demo data again and not an import's leftovers."""
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["BENCH_POSTGRES_URL"])
    if name != "source.db":
        url = url.set(database=f"{url.database}_target")
    return url.render_as_string(hide_password=False)


def _create_database_if_missing(url: str) -> None:
    """Create the database (through the server's ``postgres`` database), as on a new machine."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}) is None:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()


def fresh_database(kind: str, folder: Path, name: str) -> str:
    from sqlalchemy import create_engine, text

    from registry.cli import upgrade_database
    if kind == "sqlite":
        (folder / name).unlink(missing_ok=True)
        url = f"sqlite:///{folder / name}"
    else:
        url = _postgres_url(name)
        _create_database_if_missing(url)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(url)
    return url


def _app(url: str):
    from registry.app import create_app
    return create_app({"DATABASE_URL": url})


def op_load(url: str, tumors: str, _dictionaries: str, _path: str) -> dict:
    from sqlalchemy import func, select, text

    from registry.audit import SYSTEM, operation
    from registry.db import db_session
    from registry.demo import load_demo_data
    from registry.models import Tumor
    with _app(url).app_context():
        with operation(SYSTEM, "demo_data") as session:
            load_demo_data(session, max(1, round(int(tumors) / TUMORS_PER_PATIENT)), seed=1)
        if url.startswith("postgresql"):  # planner statistics, as autovacuum gathers them within a minute or so
            with operation(SYSTEM, "demo_data") as session:
                session.execute(text("ANALYZE"))
        return {"tumors": db_session.scalar(select(func.count(Tumor.id)))}


def op_export(url: str, _tumors: str, dictionaries: str, path: str) -> dict:
    from registry.naaccr import DictionaryStore
    from reports.submissions import export_file
    store = DictionaryStore.from_directory(dictionaries)
    with _app(url).app_context():
        result = export_file(path, store.get("250"), "A")
    return {"tumors": result.tumors}


def _import(url: str, dictionaries: str, path: str, hooks: bool) -> dict:
    from registry.audit import SYSTEM
    from registry.naaccr import DictionaryStore
    from registry.naaccr.importer import import_file
    store = DictionaryStore.from_directory(dictionaries)
    with _app(url).app_context():
        result = import_file(path, actor=SYSTEM, store=store, batch_size=1000, save_hooks=hooks)
    assert result.status == "ok", result.summary()
    return {"tumors": result.tumors_created, "checked_here": result.batches_checked_here}


def op_import(url: str, _tumors: str, dictionaries: str, path: str) -> dict:
    return _import(url, dictionaries, path, hooks=False)


def op_import_hooks(url: str, _tumors: str, dictionaries: str, path: str) -> dict:
    return _import(url, dictionaries, path, hooks=True)


def _parse(path: str) -> list[tuple[dict, list[dict]]]:
    from lxml import etree
    item, tumor_tag, patient_tag = f"{{{NS}}}Item", f"{{{NS}}}Tumor", f"{{{NS}}}Patient"
    patients = []
    for _event, element in etree.iterparse(path, events=("end",), tag=patient_tag):
        items = {child.get("naaccrId"): child.text or "" for child in element if child.tag == item}
        tumors = [{c.get("naaccrId"): c.text or "" for c in t} for t in element if t.tag == tumor_tag]
        patients.append((items, tumors))
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return patients


def op_lxml_parse(_url: str, _tumors: str, _dictionaries: str, path: str) -> dict:
    from lxml import etree
    item, tumor_tag, patient_tag = f"{{{NS}}}Item", f"{{{NS}}}Tumor", f"{{{NS}}}Patient"
    seen = 0
    for _event, element in etree.iterparse(path, events=("end",), tag=patient_tag):
        items = {child.get("naaccrId"): child.text or "" for child in element if child.tag == item}
        tumors = [{c.get("naaccrId"): c.text or "" for c in t} for t in element if t.tag == tumor_tag]
        seen += len(tumors) + (0 if items else 1)
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return {"tumors": seen}


def op_lxml_write(_url: str, _tumors: str, _dictionaries: str, path: str) -> dict:
    from lxml import etree
    patients = _parse(path)
    started, started_cpu = time.perf_counter(), time.process_time()
    out = path + ".lxml.xml"
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{NS}}}NaaccrData", nsmap={None: NS}, recordType="A", specificationVersion="1.8",
                        baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml"):
            for items, tumors in patients:
                with xf.element(f"{{{NS}}}Patient"):
                    for key, value in items.items():
                        with xf.element(f"{{{NS}}}Item", naaccrId=key):
                            xf.write(value)
                    for tumor in tumors:
                        with xf.element(f"{{{NS}}}Tumor"):
                            for key, value in tumor.items():
                                with xf.element(f"{{{NS}}}Item", naaccrId=key):
                                    xf.write(value)
    os.unlink(out)
    return {"tumors": sum(len(t) for _, t in patients), "seconds": time.perf_counter() - started,
            "cpu": time.process_time() - started_cpu}


def op_read(_url: str, _tumors: str, dictionaries: str, path: str) -> dict:
    """The import's reader alone: every check of the file, nothing else."""
    from registry.naaccr import DictionaryStore, NaaccrReader
    with NaaccrReader(path, DictionaryStore.from_directory(dictionaries)) as reader:
        return {"tumors": sum(len(patient.tumors) for patient in reader)}


def op_intake(_url: str, _tumors: str, dictionaries: str, path: str) -> dict:
    """What the import's helper process does: read, split, check, and pack each batch for the pipe."""
    import pickle

    from registry.naaccr import DictionaryStore
    from registry.naaccr.importer import _MATCH_ITEMS
    from registry.naaccr.intake import Batch, _pack, read_batches
    tumors = 0
    for message in read_batches(path, store=DictionaryStore.from_directory(dictionaries), batch_size=1000,
                                keep_items=_MATCH_ITEMS):
        pickle.dumps(_pack(message), protocol=pickle.HIGHEST_PROTOCOL)
        if isinstance(message, Batch):
            tumors += message.tumors_read
    return {"tumors": tumors}


def op_validate(url: str, _tumors: str, _dictionaries: str, path: str) -> dict:
    """``flask --app wsgi naaccr validate FILE``, the whole process, with the official dictionaries installed
    (untimed) in the source database."""
    env = {**os.environ, "DATABASE_URL": url}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "reference", "install-official"], cwd=ROOT, env=env, check=True, capture_output=True)
    before = _children_cpu()
    started = time.perf_counter()
    out = subprocess.run([*flask, "naaccr", "validate", path], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    tumors = int(out.stdout.split(" patients, ")[1].split(" tumors")[0])
    return {"tumors": tumors, "seconds": elapsed, "process_seconds": elapsed, "cpu": _children_cpu() - before}


OPERATIONS = {"load": op_load, "export": op_export, "import": op_import, "import+hooks": op_import_hooks,
              "read": op_read, "intake": op_intake, "validate": op_validate,
              "lxml-parse": op_lxml_parse, "lxml-write": op_lxml_write}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_ticks() -> tuple[int, int]:
    """(all, idle) clock ticks of every core so far (Linux ``/proc/stat``; zeros elsewhere)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(value) for value in handle.readline().split()[1:9]]
    except OSError:
        return 0, 0
    return sum(fields), fields[3] + fields[4]


def child(operation: str, *args: str) -> None:
    started, started_cpu, children_cpu = time.perf_counter(), time.process_time(), _children_cpu()
    ticks, idle = _machine_ticks()
    result = OPERATIONS[operation](*args)
    all_after, idle_after = _machine_ticks()
    # how busy every core of the machine was meanwhile: a database server on it counts too
    result["busy"] = 100 * (1 - (idle_after - idle) / (all_after - ticks)) if all_after > ticks else None
    result.setdefault("seconds", time.perf_counter() - started)
    # the import's helper process (reading and checking the file) is a child of this one
    result.setdefault("cpu", time.process_time() - started_cpu + _children_cpu() - children_cpu)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["helper_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


def run(operation: str, url: str, tumors: int, dictionaries: str, path: str) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-X", "faulthandler", __file__, "--child", operation, url, str(tumors),
                          dictionaries, path], capture_output=True, text=True)
    if out.returncode != 0:  # say how it died (a crash prints the Python stack) and go on with the other runs
        print(f"<!-- {operation} {url}: exit {out.returncode}\n{out.stderr[-4000:]}\n-->", file=sys.stderr, flush=True)
        return {"failed": True}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.setdefault("process_seconds", time.perf_counter() - started)  # the whole process, start-up included
    return result


def _comment_before_root(path: str) -> None:
    """A comment after the XML declaration: the reader's text path takes only files without one."""
    with open(path, "rb") as source, open(path + ".tmp", "wb") as out:
        out.write(source.readline() + b"<!-- bench: read the general way -->\n")
        shutil.copyfileobj(source, out, 2**20)
    os.replace(path + ".tmp", path)


def best(runs: list[dict]) -> dict:
    """Fastest of repeated runs (the machine is shared: the minimum is the least disturbed one); failed runs counted."""
    good = [r for r in runs if not r.get("failed")]
    if not good:
        raise SystemExit(f"every run failed ({len(runs)})")
    return {**min(good, key=lambda r: r["seconds"]), "cpu": min(r["cpu"] for r in good),
            "peak_mb": max(r["peak_mb"] for r in good), "helper_peak_mb": max(r["helper_peak_mb"] for r in good),
            "failed": len(runs) - len(good)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dictionaries", help="directory of the official NAACCR dictionaries")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--hooks-sizes", nargs="*", type=int, default=[10_000],
                        help="sizes at which the import also runs with the save hooks")
    parser.add_argument("--databases", nargs="+", choices=["sqlite", "postgresql"], default=None,
                        help="which databases (default: SQLite, and PostgreSQL when BENCH_POSTGRES_URL is set)")
    parser.add_argument("--operations", nargs="+", default=["export", "lxml-write", "lxml-parse", "import",
                                                              "import+hooks"],
                        choices=["export", "lxml-write", "lxml-parse", "import", "import+hooks", "read", "intake",
                                 "validate"],
                        help="which operations (export always runs: it writes the file the others read); "
                             "read and intake time the import's reader and its helper process's work alone; "
                             "validate the `naaccr validate` command, compared whole process to whole process")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each timed operation this many times and keep the fastest")
    parser.add_argument("--general-path", action="store_true",
                        help="put a comment before NaaccrData in every exported file, so the reader reads it "
                             "the general way (lxml, each finished Patient walked) instead of as text")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if not args.dictionaries:
        parser.error("--dictionaries is required")
    dictionaries = str(Path(args.dictionaries).resolve())
    kinds = args.databases or ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_POSTGRES_URL") else [])
    if "postgresql" in kinds and not os.environ.get("BENCH_POSTGRES_URL"):
        parser.error("set BENCH_POSTGRES_URL to measure PostgreSQL")
    print("| database | tumors | operation | seconds | × lxml alone | CPU s | × lxml alone (CPU) | whole process s "
          "| peak RSS MB | helper peak RSS MB | file MB | machine busy % | batches checked by the importer |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in kinds:
            for size in args.sizes:
                path = str(folder / f"export-{size}.xml")
                url = fresh_database(kind, folder, "source.db")
                tumors = run("load", url, size, dictionaries, path)["tumors"]
                operations = ["export", "lxml-write", "lxml-parse", "import"]
                operations += ["import+hooks"] if size in args.hooks_sizes else []
                operations = [op for op in operations + ["read", "intake", "validate"]
                              if op in args.operations or op == "export"]
                # rounds of every operation once, so a machine that speeds up or slows down during
                # the run affects an operation and its baseline alike
                runs: dict[str, list[dict]] = {operation: [] for operation in operations}
                for _ in range(args.repeat):
                    for operation in operations:
                        target = url if operation.startswith(("export", "lxml", "validate")) else fresh_database(
                            kind, folder, "target.db")
                        result = run(operation, target, size, dictionaries, path)
                        if result.get("tumors", tumors) != tumors:  # a run over the wrong data is not a figure
                            print(f"<!-- {operation} {kind}: {result['tumors']} tumors, not {tumors} -->",
                                  file=sys.stderr, flush=True)
                            result = {"failed": True}
                        runs[operation].append(result)
                        if operation == "export" and args.general_path and not result.get("failed"):
                            _comment_before_root(path)
                results = {operation: best(found) for operation, found in runs.items()}
                megabytes = os.path.getsize(path) / 1e6
                for operation, result in results.items():
                    baseline = results.get("lxml-write" if operation in ("export", "lxml-write") else "lxml-parse")
                    measure = "process_seconds" if operation == "validate" else "seconds"  # validate: whole processes
                    times, cpu = (("–", "–") if baseline is None else
                                  (f"{result[measure] / baseline[measure]:.2f}", f"{result['cpu'] / baseline['cpu']:.2f}"))
                    print(f"| {kind} | {tumors:,} | {operation} | {result['seconds']:.2f} | {times} | "
                          f"{result['cpu']:.2f} | {cpu} | {result['process_seconds']:.2f} | {result['peak_mb']:.1f} | "
                          f"{result['helper_peak_mb']:.1f} | {megabytes:.1f} | "
                          f"{'–' if result.get('busy') is None else format(result['busy'], '.0f')} | "
                          f"{result.get('checked_here', '–')} |"
                          + (f" {result['failed']} of {args.repeat} runs failed" if result["failed"] else ""),
                          flush=True)
                    print(f"{kind} {tumors:,} {operation}: {args.repeat - result['failed']} of {args.repeat} runs "
                          "completed", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
