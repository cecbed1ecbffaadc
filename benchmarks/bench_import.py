"""The Excel import under crafted uploads, against a real filled template of 21 applications,
side by side in one run: time and memory of reading each (in a forked child each). Crafted: a
template with a million cells below it (refused from the package's directory: a part too large),
200 000 cells below it (within the size limits: the sheet scan stops at the first cell outside
the template), and 200 000 cells crowded inside the template's rows and columns (the scan stops
at the cell count).

Bombs of the parts loading parses whole (issue 20): 400 000 shared strings, 150 000 cell formats,
100 000 comments, 300 000 document properties, each a few kilobytes compressed and under the 8 MB a
part may unpack to; before their elements were counted, the first two took 4-16 s and 3-10 s.
Each must be refused in under a second.

Before the hardening (issue #10) the million-cell file passed the size checks and every preview
loaded it whole: 14–18 s and 627 MB → 2.4 GB of server memory with four previews at once.

Run: .venv/bin/python benchmarks/bench_import.py
"""
from __future__ import annotations

import io
import os
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

from _common import status_kb, table
from openpyxl import load_workbook

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.reports.layouts import TemplateMeta, template_fingerprint
from xkxl_intranet.reports.template_reader import read_workbook
from xkxl_intranet.reports.workbooks import indicator_template

RATIO_TARGET = 2.0  # a crafted file may cost at most twice the largest real one


def measured(path: Path) -> tuple[float, float, float, str]:
    """(seconds, Python heap peak MB, resident growth MB, first problem) of reading ``path``,
    in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            before = status_kb("VmRSS")
            tracemalloc.start()
            start = time.perf_counter()
            result = read_workbook(path, form=FORM_2022, name=path.name, expected_year=2022)
            seconds = time.perf_counter() - start
            heap = tracemalloc.get_traced_memory()[1] / 1048576
            rss = (status_kb("VmHWM") - before) / 1024
            problem = result.problems[0].message[:40] if result.problems else f"{len(result.columns)} 列"
            os.write(write, f"{seconds}|{heap}|{rss}|{problem}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        seconds, heap, rss, problem = pipe.read().split("|", 3)
    os.waitpid(pid, 0)
    return float(seconds), float(heap), float(rss), problem


def _template(applications: int) -> bytes:
    values = {"enterprise_name": "四川测试科技有限公司", "platform_name": "测试平台", "employees": 100}
    meta = TemplateMeta(template_fingerprint(FORM_2022), round_year=2022, city_code="510100",
                        generated_at="2022-03-01T00:00:00")
    return indicator_template(title="基准", form=FORM_2022, meta=meta,
                              applications=[dict(values, credit_code=f"91510100MA6{n:06d}X")
                                            for n in range(applications)])


def _crafted(cells: int, *, inside: bool = False) -> bytes:
    """A real template with ``cells`` more cells: below it, 400 to a row, or ``inside`` its last
    row, over and over again."""
    if inside:
        rows = '<row r="399">' + '<c r="F399"><v>1</v></c>' * cells + "</row>"
    else:
        rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{_letter(c)}{r}"><v>1</v></c>' for c in range(1, 401))
                       + "</row>" for r in range(500, 500 + cells // 400))
    source = zipfile.ZipFile(io.BytesIO(_template(1)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", rows.encode() + b"</sheetData>")
            package.writestr(item, content)
    return out.getvalue()


MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
BOMBS = {
    "bomb, 400 000 shared strings": ("xl/sharedStrings.xml", b"<sst " + MAIN + b">"
                                     + b"<si><t>a</t></si>" * 400_000 + b"</sst>", SST),
    "bomb, 150 000 cell formats": ("xl/styles.xml", b"<styleSheet " + MAIN + b'><cellXfs count="150000">'
                                   + b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>' * 150_000
                                   + b"</cellXfs></styleSheet>", None),
    "bomb, 100 000 comments": ("xl/comments9.xml", b"<comments " + MAIN + b"><commentList>"
                               + b'<comment ref="A1" authorId="0"><text><t>x</t></text></comment>' * 100_000
                               + b"</commentList></comments>", COMMENTS),
    "bomb, 300 000 properties": ("docProps/custom.xml", b'<Properties xmlns="http://schemas.openxmlformats.org/'
                                 b'officeDocument/2006/custom-properties">' + b"<property/>" * 300_000
                                 + b"</Properties>", None),
}


def _bomb(part: str, content: bytes, content_type: str | None) -> bytes:
    """A real template whose ``part`` is replaced by (or added as) ``content``."""
    source = zipfile.ZipFile(io.BytesIO(_template(1)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for item in source.infolist():
            if item.filename == part:
                continue
            body = source.read(item.filename)
            if item.filename == "[Content_Types].xml" and content_type:
                body = body.replace(b"</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/>'
                                    .encode() + b"</Types>")
            package.writestr(item, body)
        package.writestr(part, content)
    return out.getvalue()


def _letter(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="xkxl-bench-import-"))
    files = {"real template, 100 applications": _template(100),
             "real template, 21 applications": _template(21),
             "crafted, 1 100 000 cells below": _crafted(1_100_000),
             "crafted, 200 000 cells below": _crafted(200_000),
             "crafted, 200 000 cells inside": _crafted(200_000, inside=True),
             **{label: _bomb(*bomb) for label, bomb in BOMBS.items()}}
    rows, figures = [], {}
    for label, data in files.items():
        path = folder / "指标模板.xlsx"
        path.write_bytes(data)
        seconds, heap, rss, problem = measured(path)
        figures[label] = seconds
        rows.append((label, f"{len(data) // 1024} KB", f"{seconds * 1000:.0f} ms", f"{heap:.1f} MB",
                     f"{rss:.1f} MB", problem))
    print(table(rows, ("upload", "size", "read", "heap peak", "RSS growth", "result")))
    real = figures["real template, 100 applications"]  # the largest file the import is made for
    worst = max(v for k, v in figures.items() if k.startswith(("crafted", "bomb")))
    ratio = worst / real
    print(f"worst crafted / largest real: {ratio:.2f} (target ≤ {RATIO_TARGET}): "
          f"{'ok' if ratio <= RATIO_TARGET else 'OVER'}")
    slowest_bomb = max(v for k, v in figures.items() if k.startswith("bomb"))
    print(f"slowest bomb refused in {slowest_bomb:.2f} s (target < 1 s): {'ok' if slowest_bomb < 1 else 'OVER'}")
    print("a preview reads the kept JSON, never the workbook: one read per upload")
    unbounded = []
    for label in ("bomb, 400 000 shared strings", "bomb, 150 000 cell formats"):
        path = folder / "bomb.xlsx"
        path.write_bytes(files[label])
        loaded = _time_in_child(lambda path=path: load_workbook(path, read_only=True))
        unbounded.append((label, f"{figures[label]:.2f} s", f"{loaded:.2f} s", f"{figures[label] / loaded:.3f}"))
    print(table(unbounded, ("bomb", "refused by the scan", "openpyxl loading it (unbounded)", "ratio")))


def _time_in_child(work) -> float:
    """Seconds ``work`` takes in a forked child (its memory is given back when it ends)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            start = time.perf_counter()
            work()
            os.write(write, str(time.perf_counter() - start).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        seconds = float(pipe.read())
    os.waitpid(pid, 0)
    return seconds


if __name__ == "__main__":
    main()
