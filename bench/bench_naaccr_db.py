"""Benchmark NAACCR export from and import into the database beside lxml alone on the same file.

    .venv/bin/python bench/bench_naaccr_db.py --dictionaries ../shared/reference/naaccr/dictionaries \
        [--sizes 10000 100000] [--hooks-sizes 10000]

For each size, demo data (``load_demo_data``, about 1.06 tumors per patient, so the patient count
is chosen to give that many tumors) is loaded into a fresh SQLite file (and PostgreSQL when
``BENCH_POSTGRES_URL`` is set; its public schema is dropped and rebuilt), then each operation runs
in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own:

- ``export``: ``reports.submissions.export_file`` (v25, record type A) of every tumor;
- ``import``: ``registry.naaccr.importer.import_file`` of that file into an empty database,
  without the save hooks (``save_hooks=False``: the file's derived items are kept) and, for
  ``--hooks-sizes``, with them (stage, survival time and edit status derived per tumor);
- baseline ``lxml write``: the same items (read into memory first, untimed) written with
  ``etree.xmlfile``; baseline ``lxml parse``: ``iterparse`` of the exported file into dicts.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
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


def fresh_database(kind: str, folder: Path, name: str) -> str:
    from sqlalchemy import create_engine, text

    from registry.cli import upgrade_database
    if kind == "sqlite":
        (folder / name).unlink(missing_ok=True)
        url = f"sqlite:///{folder / name}"
    else:
        url = os.environ["BENCH_POSTGRES_URL"]
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
    from sqlalchemy import func, select

    from registry.audit import SYSTEM, operation
    from registry.db import db_session
    from registry.demo import load_demo_data
    from registry.models import Tumor
    with _app(url).app_context():
        with operation(SYSTEM, "demo_data") as session:
            load_demo_data(session, max(1, round(int(tumors) / TUMORS_PER_PATIENT)), seed=1)
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
    return {"tumors": result.tumors_created}


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
    started = time.perf_counter()
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
    return {"tumors": sum(len(t) for _, t in patients), "seconds": time.perf_counter() - started}


OPERATIONS = {"load": op_load, "export": op_export, "import": op_import, "import+hooks": op_import_hooks,
              "lxml-parse": op_lxml_parse, "lxml-write": op_lxml_write}


def child(operation: str, *args: str) -> None:
    started = time.perf_counter()
    result = OPERATIONS[operation](*args)
    result.setdefault("seconds", time.perf_counter() - started)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run(operation: str, url: str, tumors: int, dictionaries: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", operation, url, str(tumors), dictionaries, path],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dictionaries", help="directory of the official NAACCR dictionaries")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--hooks-sizes", nargs="*", type=int, default=[10_000],
                        help="sizes at which the import also runs with the save hooks")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if not args.dictionaries:
        parser.error("--dictionaries is required")
    dictionaries = str(Path(args.dictionaries).resolve())
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_POSTGRES_URL") else [])
    print("| database | tumors | operation | seconds | × lxml alone | peak RSS MB | file MB |")
    print("|---|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in kinds:
            for size in args.sizes:
                path = str(folder / f"export-{size}.xml")
                url = fresh_database(kind, folder, "source.db")
                tumors = run("load", url, size, dictionaries, path)["tumors"]
                results = {"export": run("export", url, size, dictionaries, path),
                           "lxml-write": run("lxml-write", url, size, dictionaries, path),
                           "lxml-parse": run("lxml-parse", url, size, dictionaries, path)}
                results["import"] = run("import", fresh_database(kind, folder, "target.db"), size, dictionaries,
                                        path)
                if size in args.hooks_sizes:
                    results["import+hooks"] = run("import+hooks", fresh_database(kind, folder, "target.db"), size,
                                                  dictionaries, path)
                megabytes = os.path.getsize(path) / 1e6
                for operation, result in results.items():
                    baseline = results["lxml-write" if operation in ("export", "lxml-write") else "lxml-parse"]["seconds"]
                    print(f"| {kind} | {tumors:,} | {operation} | {result['seconds']:.2f} | "
                          f"{result['seconds'] / baseline:.2f} | {result['peak_mb']:.1f} | {megabytes:.1f} |",
                          flush=True)


if __name__ == "__main__":
    main()
