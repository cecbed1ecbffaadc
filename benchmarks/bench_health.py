"""/healthz's backup section over a month of nightly backups, side by side in one run: reading every
archive's index on each call (what every call cost before the summaries were kept) against the
summaries kept per version of each index (``ops.chain.archive_summaries``), the case of every call
after the first.

Set-up: NIGHTS archives (one full a week, incrementals between) whose indexes each list FILES
stored files, as a busy instance's do (every index carries the whole file map).

Prints milliseconds per call and the ratio; not a test.

Run: .venv/bin/python benchmarks/bench_health.py
"""
from __future__ import annotations

import hashlib
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table  # noqa: E402

from xkxl_intranet.clock import SHANGHAI  # noqa: E402
from xkxl_intranet.ops import chain  # noqa: E402
from xkxl_intranet.ops.archive import FULL, INCREMENTAL, Manifest  # noqa: E402

NIGHTS = 30
FILES = 5000
REPEAT = 7


def fill(folder: Path) -> datetime:
    first = datetime(2026, 11, 1, 2, 30, tzinfo=SHANGHAI)
    digests = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(FILES)]
    files = {f"blobs/{d[:2]}/{d}": {"size": 262_144, "sha256": d} for d in digests}
    uploads = {f"{n:032x}": d for n, d in enumerate(digests)}
    full: dict = {}
    for night in range(NIGHTS):
        kind = FULL if night % 7 == 0 else INCREMENTAL
        archive = folder / f"xkxl-backup-{night:02d}-{'full' if kind == FULL else 'incr'}.tar"
        archive.write_bytes(b"\0" * 1024)
        manifest = Manifest(engine="sqlite", created_at=(first + timedelta(days=night)).isoformat(), revision="head",
                            counts={"application": 840}, files=files, uploads=uploads, kind=kind,
                            chain=[] if kind == FULL else [full])
        chain.write_index(archive, manifest, 1024, "0" * 64)
        if kind == FULL:
            full = {"name": archive.name, "sha256": "0" * 64, "size": 1024, "created_at": manifest.created_at}
    return first + timedelta(days=NIGHTS - 1, hours=3)


def per_call_ms(call) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        moment = fill(folder)
        index_mb = sum(p.stat().st_size for p in folder.glob(f"*{chain.INDEX_SUFFIX}")) / 2**20

        def every_index_read():
            chain._summary.cache_clear()  # as if nothing were kept: each index parsed again
            return chain.folder_health(folder, moment=moment)

        def summaries_kept():
            return chain.folder_health(folder, moment=moment)

        answer = every_index_read()
        assert answer == summaries_kept() and answer["archives"] == NIGHTS  # the same answer either way
        cold, warm = per_call_ms(every_index_read), per_call_ms(summaries_kept)
        print(f"{NIGHTS} nights, {FILES} stored files, {index_mb:.0f} MiB of indexes")
        print(table([("every index read (before)", f"{cold:.1f}", "1.00"),
                     ("summaries kept (each later call)", f"{warm:.2f}", f"{warm / cold:.4f}")],
                    ("/healthz backups section", "ms per call", "× before")))


if __name__ == "__main__":
    main()
