"""/healthz's view of the backup folder (ops.chain.archive_summaries): each index is parsed once per
version of it and of its archive, and a changed, damaged or new archive is seen at the next call."""
from __future__ import annotations

from datetime import datetime, timedelta

from xkxl_intranet.clock import SHANGHAI
from xkxl_intranet.ops import chain
from xkxl_intranet.ops.archive import FULL, INCREMENTAL, Manifest

FIRST = datetime(2026, 11, 1, 2, 30, tzinfo=SHANGHAI)


def _archive(folder, night: int, kind: str = INCREMENTAL, size: int = 100):
    path = folder / f"xkxl-backup-{night:02d}-{'full' if kind == FULL else 'incr'}.tar"
    path.write_bytes(b"\0" * size)
    full = [] if kind == FULL else [{"name": "xkxl-backup-00-full.tar", "sha256": "0" * 64, "size": 5000,
                                     "created_at": FIRST.isoformat()}]
    manifest = Manifest(engine="sqlite", created_at=(FIRST + timedelta(days=night)).isoformat(), revision="x",
                        counts={}, kind=kind, chain=full)
    chain.write_index(path, manifest, size, "0" * 64)
    return path


def test_the_summaries_agree_with_the_indexes_and_follow_every_change(tmp_path, monkeypatch):
    _archive(tmp_path, 0, FULL, size=5000)
    _archive(tmp_path, 1)
    damaged = _archive(tmp_path, 2)
    parsed: list[str] = []
    real = chain.read_index
    monkeypatch.setattr(chain, "read_index", lambda archive: (parsed.append(archive.name), real(archive))[1])
    chain._summary.cache_clear()

    def as_pairs(entries):
        return [(e.kind, e.created_at, e.size) for e in entries]

    expected = [(e.manifest.kind, e.created_at, e.size) for e in chain.indexed_archives(tmp_path)]
    assert len(expected) == 3
    parsed.clear()
    assert as_pairs(chain.archive_summaries(tmp_path)) == expected and len(parsed) == 3
    assert as_pairs(chain.archive_summaries(tmp_path)) == expected and len(parsed) == 3  # kept: none read again

    damaged.write_bytes(b"\0" * 10)  # truncated: its index no longer describes it
    _archive(tmp_path, 3)  # last night's
    summaries = chain.archive_summaries(tmp_path)
    assert [s.created_at.day for s in summaries] == [1, 2, 4] and len(parsed) == 5
    health = chain.folder_health(tmp_path, moment=FIRST + timedelta(days=3, hours=1))
    assert (health["state"], health["archives"], health["newest_kind"]) == ("ok", 3, INCREMENTAL)
    assert health["min_free_bytes"] == int(5000 * chain.FULL_MARGIN)
