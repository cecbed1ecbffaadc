#!/usr/bin/env python3
"""Write the golden files of 2022's documents anew (``tests/golden/2022/``), for a change to what
they print that is meant: review the diff (``git diff tests/golden``) before committing it.

It runs the golden test itself (``tests/golden/test_2022_outputs.py``) with ``XKXL_UPDATE_GOLDEN=1``,
so the files are made exactly as the test makes them: the demo seeded in the tests' database on
the pinned clock, each document downloaded by the province. Documents no longer made are removed.

Usage: python scripts/update_golden.py   (from the checkout, with the venv's python)
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/golden/test_2022_outputs.py"


def main() -> int:
    environment = {**os.environ, "XKXL_UPDATE_GOLDEN": "1",
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    finished = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
                              cwd=ROOT, env=environment, check=False)
    if finished.returncode == 0:
        subprocess.run(["git", "status", "--short", "tests/golden/2022"], cwd=ROOT, check=False)
    return finished.returncode


if __name__ == "__main__":
    sys.exit(main())
