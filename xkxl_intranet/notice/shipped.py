"""The notice files shipped with the application: ``notices/<year>.toml`` beside the package in
the source tree, inside it in the wheel ``make bundle`` builds (scripts/bundle.py copies them
in, as it does the migrations)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["NOTICES_DIR", "FIRST_NOTICE", "notice_files"]

_PACKAGE = Path(__file__).resolve().parent.parent
NOTICES_DIR = _PACKAGE / "notices" if (_PACKAGE / "notices").is_dir() else _PACKAGE.parent / "notices"
# The notice of every round opened before rounds kept theirs: the app's declarations in domain/
# are this file's (tests/unit/test_notice_file.py), and every such round ran on them.
FIRST_NOTICE = NOTICES_DIR / "2022.toml"


def notice_files(folder: Path) -> list[Path]:
    """The notice files in ``folder``, by name (a year's file after the one before)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.toml") if p.is_file())
