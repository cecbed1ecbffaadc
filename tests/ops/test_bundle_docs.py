"""The bundle ships every document its guide or a shipped file points to: deploy.md §1.5 sends the
operator to /opt/xkxl/current/docs/notices.md and the notice file's header to notice-file.md, so
both (and what they name in turn) are in the bundle's docs/, and a pointer to a document the
repository does not have stops the build. Fast: only the docs step of scripts/bundle.py."""
from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _bundle_script():
    spec = importlib.util.spec_from_file_location("bundle_script", REPO / "scripts" / "bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _named(text: str) -> set[str]:
    return set(re.findall(r"docs/([\w-]+\.md)", text)) | set(re.findall(r"\]\(([\w-]+\.md)\)", text))


def test_every_document_the_guide_or_a_shipped_file_names_is_in_the_bundle(tmp_path):
    _bundle_script().copy_docs(tmp_path)
    shipped = {p.name for p in (tmp_path / "docs").iterdir()}
    assert {"deploy.md", "notices.md", "notice-file.md"} <= shipped
    # What the operator reads on the server: the shipped guide and documents, the notice files
    # (inside the wheel) and the deploy files (installed under /etc).
    readers = [*(tmp_path / "docs").iterdir(), *(REPO / "notices").glob("*.toml"),
               *(p for p in (REPO / "deploy").iterdir() if p.is_file())]
    for reader in readers:
        named = _named(reader.read_text(encoding="utf-8"))
        assert named <= shipped, f"{reader.name} 提到未随包提供的 {sorted(named - shipped)}"


def test_a_pointer_to_a_document_the_repository_lacks_stops_the_build(tmp_path):
    for folder in ("docs", "deploy", "notices"):
        (tmp_path / folder).mkdir()
    (tmp_path / "docs" / "deploy.md").write_text("格式见 `docs/notices.md`。\n", encoding="utf-8")
    (tmp_path / "docs" / "notices.md").write_text("见 [notice-file.md](notice-file.md)。\n", encoding="utf-8")
    shutil.copy2(REPO / "notices" / "2022.toml", tmp_path / "notices" / "2022.toml")
    (tmp_path / "docs" / "notice-file.md").write_text("依据 docs/domain.md。\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="docs/domain.md 不存在"):
        _bundle_script().shipped_docs(tmp_path)
    (tmp_path / "docs" / "domain.md").write_text("需求。\n", encoding="utf-8")
    assert _bundle_script().shipped_docs(tmp_path) == ["deploy.md", "domain.md", "notice-file.md", "notices.md"]
