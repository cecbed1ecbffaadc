"""The Excel import under crafted uploads, against a real filled template of 21 applications,
side by side in one run: time and memory of reading each (in a forked child each). Crafted: a
template with a million cells below it (refused from the package's directory: a part too large),
200 000 cells below it (within the size limits: the sheet scan stops at the first cell outside
the template), and 200 000 cells crowded inside the template's rows and columns (the scan stops
at the cell count).

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

from xkxl_intranet.reports.layouts import TemplateMeta
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
            result = read_workbook(path, name=path.name, expected_year=2022)
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
    return indicator_template(title="基准", meta=TemplateMeta(round_year=2022, city_code="510100",
                                                            generated_at="2022-03-01T00:00:00"),
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
             "crafted, 200 000 cells inside": _crafted(200_000, inside=True)}
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
    worst = max(v for k, v in figures.items() if k.startswith("crafted"))
    ratio = worst / real
    print(f"worst crafted / largest real: {ratio:.2f} (target ≤ {RATIO_TARGET}): "
          f"{'ok' if ratio <= RATIO_TARGET else 'OVER'}")
    print("a preview reads the kept JSON, never the workbook: one read per upload")


if __name__ == "__main__":
    main()
