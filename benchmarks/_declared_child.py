"""The measuring child of ``bench_declared.py``: run once per tree and round, with ``PYTHONPATH``
and the working directory set to the tree measured (the baseline's worktree or the current one).

It imports only that tree's code: the app, and the applications seeded by the tree's own
``benchmarks/_common.py`` (so each tree writes the declared values the way its storage keeps
them). What it times goes through the test client by URL, which both trees serve alike, so the
same requests are compared. It answers the parent on stdout, one JSON line at a time (see
:func:`serve`).

Not run on its own: ``python benchmarks/bench_declared.py`` starts it.
"""
from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TREE = Path.cwd().resolve()
# The tree's own benchmarks/ first: Python put this script's folder (the current tree's) first.
sys.path[:0] = [str(TREE / "benchmarks"), str(TREE)]

import _common  # noqa: E402
from openpyxl import load_workbook  # noqa: E402
from sqlalchemy import event  # noqa: E402

from xkxl_intranet import create_app, printing  # noqa: E402
from xkxl_intranet.applications.models import Application  # noqa: E402
from xkxl_intranet.extensions import db  # noqa: E402
from xkxl_intranet.rounds.models import City  # noqa: E402
from xkxl_intranet.rounds.state import batch_for_write, current_round  # noqa: E402

PER_CITY = 96  # 21 × 96 = 2,016 applications
REPORTED_CITY = "510100"  # 成都: its 附件3 (96 rows, all 初审通过)
IMPORT_CITY = "510400"  # 攀枝花: its batch stays open, its applications drafts, for the import
COMPARED_FIGURE = "sales_last_year"  # 上年销售（万元）, a money figure, sorted by value
IMPORTED_FIGURE = "protocols"  # changed in every imported column, so that each import writes 96 applications


def _tree_code_check() -> None:
    """Refuse to measure another tree's code by mistake."""
    for module in (_common, printing):
        path = Path(module.__file__).resolve()
        if TREE not in path.parents:
            raise SystemExit(f"{module.__name__} imported from {path}, not from the tree {TREE}")


def _config(instance: Path) -> dict:
    return {"SECRET_KEY": "bench", "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
            "UPLOAD_FOLDER": str(instance / "uploads"), "WTF_CSRF_ENABLED": False,
            "DASHBOARD_CACHE": False}  # every dashboard request renders, as after every change


def _seed(seed_file: Path) -> None:
    """2,016 applications after the cities' deadline: every city reported and every application
    初审通过 with province marks spread over them, except the import city (open, drafts)."""
    app, instance = _common.make_app()
    _common.fill_applications(app, PER_CITY)
    with app.app_context():
        round_ = current_round()
        import_city = db.session.scalar(db.select(City).where(City.code == IMPORT_CITY))
        db.session.execute(db.update(Application).where(Application.city_id != import_city.id)
                           .values(review_state="passed"))
        for city in db.session.scalars(db.select(City)):
            if city.id != import_city.id:
                batch_for_write(round_.id, city.id).state = "reported"
        marks = ("recommended", "cultivation", "not_selected", None)
        passed = db.select(Application).where(Application.review_state == "passed").order_by(Application.id)
        for n, application in enumerate(db.session.scalars(passed)):
            application.province_mark = marks[n % 4]
        db.session.commit()
        db.engine.dispose()
    seed_file.parent.mkdir(parents=True, exist_ok=True)
    partial = seed_file.with_suffix(".partial")
    shutil.copyfile(instance / "bench.sqlite3", partial)
    os.replace(partial, seed_file)  # a child stopped while seeding leaves no half database behind
    shutil.rmtree(instance, ignore_errors=True)


@dataclass
class Operation:
    name: str
    run: Callable[[], object]  # the timed call: returns the answer's bytes (or their count)
    before: Callable[[], None] = lambda: None  # untimed: forget a generated file, prepare an upload


_printed = {"html": 0}  # the size of the last print's HTML


def _html_only_pdf(html: str, base_url: str | None = None, lean: bool = True) -> bytes:
    """Stands in for WeasyPrint: the route builds its rows and the print's HTML, and stops there."""
    _printed["html"] = len(html.encode())
    return b"%PDF-1.7"


def _get(client, url: str) -> Callable[[], int]:
    def run() -> int:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return _printed["html"] if url.endswith(".pdf") else len(response.data)
    return run


def _changed_template(template: bytes, value: int) -> bytes:
    """The filled indicator template with IMPORTED_FIGURE set to ``value`` in every column."""
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook["指标"]
    rows = {sheet.cell(r, 1).value: r for r in range(1, sheet.max_row + 1)}  # A: each row's field key
    for column in range(6, sheet.max_column + 1):  # F onwards: one column per application
        if sheet.cell(rows["credit_code"], column).value:
            sheet.cell(rows[IMPORTED_FIGURE], column, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _import_operations(app, clerk) -> list[Operation]:
    """One city's 96 applications imported from its filled template: the upload read and
    previewed, then confirmed (each time a new value of one figure, so every column writes)."""
    template = clerk.get("/reports/template.xlsx?filled=1")
    assert template.status_code == 200, template.status_code
    state = {"n": 0, "upload": b""}

    def prepare_upload() -> None:
        state["n"] += 1
        state["upload"] = _changed_template(template.data, 100 + state["n"])

    def upload_and_preview() -> int:
        upload = {"file": (io.BytesIO(state["upload"]), "指标模板.xlsx")}
        response = clerk.post("/reports/import", data=upload, content_type="multipart/form-data")
        assert response.status_code == 303, response.status_code
        page = clerk.get("/reports/import")
        assert page.status_code == 200 and "确认导入" in page.get_data(as_text=True), page.status_code
        return len(page.data)

    def confirm() -> int:
        with clerk.session_transaction() as session:
            token = session["reports_import"]["token"]
        response = clerk.post("/reports/import/confirm", data={"token": token})
        assert response.status_code == 303 and "/applications" in response.location, response.location
        return 0

    # each confirmation confirms the upload just before it: two operations, one after the other
    return [Operation("import: upload + preview (96 applications)", upload_and_preview, prepare_upload),
            Operation("import: confirm (96 applications written)", confirm)]


def _operations(app) -> list[Operation]:
    province = _common.login(app, "province")
    with app.app_context():
        chengdu = db.session.scalar(db.select(City.id).where(City.code == REPORTED_CITY))
        import_city = db.session.scalar(db.select(City).where(City.code == IMPORT_CITY))
        clerk = _common.login(app, import_city.pinyin)

    def forget_generated() -> None:
        cache = app.extensions.get("xkxl_generated")
        if cache is not None:
            cache.clear()

    summary = f"/reports/cities/{chengdu}/summary"
    compare = f"/reports/compare?indicator={COMPARED_FIGURE}"
    return [
        Operation("全部申报, page 1 (province)", _get(province, "/applications/")),
        Operation("全部申报, filtered: 成都 初审通过, page 2",
                  _get(province, f"/applications/?state=passed&city_id={chengdu}&page=2")),
        Operation("全部申报, search", _get(province, "/applications/?q=测试企业001")),
        Operation("dashboard (cache off)", _get(province, "/rounds/dashboard")),
        Operation("roster page (all)", _get(province, "/reports/roster/all")),
        Operation("roster XLSX (all)", _get(province, "/reports/roster/all.xlsx"), forget_generated),
        Operation("roster PDF's HTML (no WeasyPrint)", _get(province, "/reports/roster/all.pdf"),
                  forget_generated),
        Operation("附件3 page (成都)", _get(province, summary)),
        Operation("附件3 XLSX (成都)", _get(province, summary + ".xlsx"), forget_generated),
        Operation("附件3 PDF's HTML (成都, no WeasyPrint)", _get(province, summary + ".pdf"),
                  forget_generated),
        Operation(f"compare {COMPARED_FIGURE}, by value", _get(province, compare)),
        Operation(f"compare {COMPARED_FIGURE}, 初审通过, descending",
                  _get(province, compare + "&scope=passed&desc=1")),
        Operation("indicator template, filled (攀枝花)", _get(clerk, "/reports/template.xlsx?filled=1"),
                  forget_generated),
        *_import_operations(app, clerk),
    ]


def cpu_seconds() -> float:
    """CPU time of this process and of any child it waited for (user + system): what the work
    cost, whatever else the machine's two cores were busy with meanwhile."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime  # os.times() counts in 10 ms ticks


def statements_of(app, operation: Operation) -> Callable[[], int]:
    """Runs ``operation`` once, and counts the SQL statements it sent."""
    with app.app_context():
        engine = db.engine

    def run() -> int:
        seen = {"n": 0}

        def count(*args, **kwargs) -> None:
            seen["n"] += 1

        event.listen(engine, "before_cursor_execute", count)
        try:
            operation.run()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return seen["n"]

    return run


def serve(seed_file: Path, seeded: float | None, count: bool) -> None:
    """Warm up every operation (templates compiled, caches filled; with ``count``, their SQL
    statements counted on a second pass), say so with one JSON line, then time the operation
    whose index arrives on each line of stdin, answering ``{"wall": s, "cpu": s}``, until stdin
    ends. The parent sends the
    same index to the other tree's child right before or after: the two are measured seconds
    apart, under the same load."""
    instance = Path(tempfile.mkdtemp(prefix="xkxl-bench-declared-"))
    try:
        shutil.copyfile(seed_file, instance / "bench.sqlite3")  # each run changes its own copy (imports)
        app = create_app(_config(instance))
        printing.write_pdf = _html_only_pdf  # render_pdf calls it by the module's name
        operations = _operations(app)
        sizes, statements = {}, {}
        for operation in operations:
            operation.before()
            sizes[operation.name] = operation.run()
        for operation in operations if count else ():  # in order: a confirmation follows its upload
            operation.before()
            statements[operation.name] = statements_of(app, operation)()
        ready = {"operations": [o.name for o in operations], "bytes": sizes, "statements": statements,
                 "seeded_seconds": seeded}
        print(json.dumps(ready, ensure_ascii=False), flush=True)
        for line in sys.stdin:
            operation = operations[int(line)]
            operation.before()
            gc.collect()  # no operation pays for the garbage of the one before
            wall, cpu = time.perf_counter(), cpu_seconds()
            operation.run()
            cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
            print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed-file", type=Path, required=True,
                        help="the tree's cached database (made if missing)")
    parser.add_argument("--count", action="store_true", help="count each operation's SQL statements")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the request log and Alembic's: stdout is for the figures
    _tree_code_check()
    seeded = None
    if not args.seed_file.exists():
        start = time.perf_counter()
        _seed(args.seed_file)
        seeded = time.perf_counter() - start
    serve(args.seed_file, seeded, args.count)


if __name__ == "__main__":
    main()
