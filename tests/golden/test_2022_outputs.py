"""Issue 21's safety net: 2022's records render, print and export exactly as reported. The demo
(seeded on a pinned clock) is downloaded as the province downloads it, each city's 附件3 (XLSX
and PDF), the roster's lists, every receipt, the 评分表 and the 评审汇总表, and each document's
text (outputs.py) is compared with its golden file under ``tests/golden/2022/``.

A deliberate change is written there with ``scripts/update_golden.py`` and reviewed in the diff."""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from .outputs import demo_outputs, seed_2022_demo, stored_names

GOLDEN = Path(__file__).resolve().parent / "2022"
UPDATE_VARIABLE = "XKXL_UPDATE_GOLDEN"  # set by scripts/update_golden.py
SHOWN_DIFF_LINES = 40  # of each differing file
SHOWN_FILES = 5
UUID_HEX = re.compile(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def golden_files() -> dict[str, str]:
    return {path.relative_to(GOLDEN).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(GOLDEN.rglob("*.txt"))}


def write_golden(outputs: dict[str, str]) -> None:
    """Replace the golden files with ``outputs`` (a document no longer made goes)."""
    for name in golden_files().keys() - outputs.keys():
        (GOLDEN / name).unlink()
    for name, text in outputs.items():
        path = GOLDEN / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def differences(expected: dict[str, str], actual: dict[str, str]) -> str:
    """A readable account of what differs: files missing or new, then the first lines of a unified
    diff of the first few files that differ, in the order the documents are made."""
    report = []
    if missing := sorted(expected.keys() - actual.keys()):
        report.append(f"no longer made: {missing}")
    if new := sorted(actual.keys() - expected.keys()):
        report.append(f"made, with no golden file: {new}")
    changed = [name for name in actual if name in expected and expected[name] != actual[name]]
    if changed:
        report.append(f"{len(changed)} document(s) differ: {changed}")
    for name in changed[:SHOWN_FILES]:
        diff = list(difflib.unified_diff(expected[name].splitlines(), actual[name].splitlines(),
                                         f"golden/{name}", f"now/{name}", lineterm="", n=2))
        report += diff[:SHOWN_DIFF_LINES]
        if len(diff) > SHOWN_DIFF_LINES:
            report.append(f"… {len(diff) - SHOWN_DIFF_LINES} more diff lines in {name}")
    return "\n".join(report)


def test_2022_documents_print_and_export_as_reported(app, monkeypatch):
    seed_2022_demo(app, monkeypatch)
    outputs = demo_outputs(app)
    # Nothing random reaches a document: no stored file's name on disk, no uuid.
    everything = "".join(outputs.values())
    assert not [name for name in stored_names(app) if name in everything]
    assert not UUID_HEX.search(everything), UUID_HEX.search(everything)
    if os.environ.get(UPDATE_VARIABLE) == "1":
        write_golden(outputs)
        return
    expected = golden_files()
    assert expected, f"no golden files under {GOLDEN}: run scripts/update_golden.py"
    if expected != outputs:
        pytest.fail("the 2022 documents differ from tests/golden/2022 "
                    "(if the change is meant, run scripts/update_golden.py and review the diff):\n"
                    + differences(expected, outputs), pytrace=False)
