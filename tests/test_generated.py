"""The cache of generated files (generated.py) on its own, with threads and no app: identical
renders in flight are made once, at most ``slots`` renders run at once (in one process, and
across two caches on one folder, as two processes would share it), the folder stays within its
bound, and a file that cannot be kept is still sent. Nothing here asserts a duration: threads
are held by events, and a wait that must fail is given a short limit."""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock, generated
from xkxl_intranet.generated import PDF, GeneratedFiles, RenderBusy, document_key

SAFETY = 20  # seconds: only a broken cache would ever wait this long


def _wait_until(condition) -> None:
    """Poll ``condition`` (another thread's progress); a failure to get there is a hang, not
    slowness, so the limit is generous."""
    deadline = time.monotonic() + SAFETY
    while not condition():
        assert time.monotonic() < deadline, "the other threads never got there"
        time.sleep(0.005)


class Held:
    """A render that waits until the test lets it finish, counting how many run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.most = self.calls = 0
        self.release = threading.Event()

    def make(self, name: str = "文件.pdf"):
        def render() -> tuple[bytes, str]:
            with self.lock:
                self.calls += 1
                self.running += 1
                self.most = max(self.most, self.running)
            assert self.release.wait(SAFETY)
            with self.lock:
                self.running -= 1
            return f"%PDF {name}".encode(), name
        return render


def _fetch_in_thread(cache, key_parts, make, results: list, errors: list) -> threading.Thread:
    def run() -> None:
        try:
            document = cache.fetch("test.pdf", key_parts, PDF, make)
            with document.file:
                results.append((document.name, document.file.read()))
        except BaseException as error:  # noqa: BLE001  (the test looks at it)
            errors.append(error)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_identical_renders_in_flight_are_made_once(tmp_path):
    cache = GeneratedFiles(tmp_path, max_bytes=10 * 1024 * 1024)
    held, results, errors = Held(), [], []
    threads = [_fetch_in_thread(cache, ["roster", 1], held.make("名单.pdf"), results, errors) for _ in range(8)]
    _wait_until(lambda: held.running == 1 and cache.counts["shared"] == 7)  # one renders, seven wait for it
    held.release.set()
    for thread in threads:
        thread.join(SAFETY)
    assert errors == [] and held.calls == 1 and cache.counts["renders"] == 1
    assert results == [("名单.pdf", b"%PDF \xe5\x90\x8d\xe5\x8d\x95.pdf")] * 8
    again = cache.fetch("test.pdf", ["roster", 1], PDF, held.make())  # now from the folder
    assert again.file.read() == results[0][1] and cache.counts["hits"] == 1 and held.calls == 1
    again.file.close()


def test_at_most_the_slots_render_at_once_and_the_others_wait_their_turn(tmp_path):
    cache = GeneratedFiles(tmp_path, max_bytes=10 * 1024 * 1024, slots=2)
    held, results, errors = Held(), [], []
    threads = [_fetch_in_thread(cache, ["sheet", n], held.make(f"{n}.pdf"), results, errors) for n in range(6)]
    _wait_until(lambda: held.running == 2)
    assert held.calls == 2  # the other four wait for a slot, not for each other's file
    held.release.set()
    for thread in threads:
        thread.join(SAFETY)
    assert errors == [] and held.calls == 6 and held.most == 2 and len(results) == 6


def test_a_render_that_waits_too_long_for_a_slot_is_refused_as_busy(tmp_path):
    cache = GeneratedFiles(tmp_path, max_bytes=10 * 1024 * 1024, slots=2, wait_seconds=0.05)
    held, results, errors = Held(), [], []
    threads = [_fetch_in_thread(cache, ["sheet", n], held.make(), results, errors) for n in range(2)]
    _wait_until(lambda: held.running == 2)
    with pytest.raises(RenderBusy):
        cache.fetch("test.pdf", ["sheet", 3], PDF, held.make())
    held.release.set()
    for thread in threads:
        thread.join(SAFETY)
    assert errors == [] and held.calls == 2 and cache.counts["busy"] == 1


def test_the_slots_are_shared_by_every_process_using_the_folder(tmp_path):
    """Two caches on one folder (as two server processes): while one renders in the only slot,
    the other waits (here: gives up, its limit being short), and one process's file is the
    other's: it waits for the render in flight instead of making it again."""
    first = GeneratedFiles(tmp_path, max_bytes=10 * 1024 * 1024, slots=1)
    second = GeneratedFiles(tmp_path, max_bytes=10 * 1024 * 1024, slots=1, wait_seconds=0.05)
    held, results, errors = Held(), [], []
    thread = _fetch_in_thread(first, ["roster", 1], held.make("名单.pdf"), results, errors)
    _wait_until(lambda: held.running == 1)
    with pytest.raises(RenderBusy):  # another document: no slot free in the folder
        second.fetch("test.pdf", ["roster", 2], PDF, Held().make())
    with pytest.raises(RenderBusy):  # the same document: it waits for the first process's render
        second.fetch("test.pdf", ["roster", 1], PDF, Held().make())
    held.release.set()
    thread.join(SAFETY)
    document = second.fetch("test.pdf", ["roster", 1], PDF, Held().make())
    assert document.name == "名单.pdf" and second.counts["renders"] == 0 and second.counts["hits"] == 1
    document.file.close()


def test_a_failed_render_reaches_its_waiters_and_keeps_nothing(tmp_path):
    cache = GeneratedFiles(tmp_path, max_bytes=10 * 1024 * 1024)
    started, release, errors = threading.Event(), threading.Event(), []

    def failing() -> tuple[bytes, str]:
        started.set()
        assert release.wait(SAFETY)
        raise ValueError("坏了")

    leader = _fetch_in_thread(cache, ["x"], failing, [], errors)
    assert started.wait(SAFETY)
    waiter = _fetch_in_thread(cache, ["x"], failing, [], errors)
    _wait_until(lambda: cache.counts["shared"] == 1)
    release.set()
    leader.join(SAFETY)
    waiter.join(SAFETY)
    assert [type(e) for e in errors] == [ValueError, ValueError]
    assert [p for p in tmp_path.iterdir() if p.is_file()] == []
    document = cache.fetch("test.pdf", ["x"], PDF, lambda: (b"%PDF ok", "ok.pdf"))  # tried again
    assert document.file.read() == b"%PDF ok"
    document.file.close()


def test_the_folder_keeps_within_its_bound_dropping_the_least_recently_used(tmp_path):
    cache = GeneratedFiles(tmp_path, max_bytes=2600)
    made = []

    def make(name: str):
        def render() -> tuple[bytes, str]:
            made.append(name)
            return b"x" * 1000, name
        return render

    def age(parts, seconds: float) -> None:  # as if stored or used that long ago
        path = tmp_path / f"{document_key('test.pdf', parts)}.pdf"
        moment = time.time() - seconds
        os.utime(path, (moment, moment))

    cache.fetch("test.pdf", ["a"], PDF, make("a")).file.close()
    age(["a"], 300)
    cache.fetch("test.pdf", ["b"], PDF, make("b")).file.close()
    age(["b"], 200)
    cache.fetch("test.pdf", ["a"], PDF, make("a")).file.close()  # used again: now the newest
    cache.fetch("test.pdf", ["c"], PDF, make("c")).file.close()  # over the bound: b goes
    assert made == ["a", "b", "c"] and cache.counts["evicted"] == 1
    cache.fetch("test.pdf", ["a"], PDF, make("a")).file.close()
    cache.fetch("test.pdf", ["b"], PDF, make("b")).file.close()
    assert made == ["a", "b", "c", "b"]
    assert sum(p.stat().st_size for p in tmp_path.iterdir() if p.is_file()) <= 2600


def test_a_file_that_cannot_be_kept_is_still_sent(tmp_path, monkeypatch):
    cache = GeneratedFiles(tmp_path, max_bytes=10 * 1024 * 1024)

    def full_disk(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache, "_write", full_disk)
    document = cache.fetch("test.pdf", ["x"], PDF, lambda: (b"%PDF data", "回执.pdf"))
    assert (document.name, document.size, document.file.read()) == ("回执.pdf", 9, b"%PDF data")


def test_the_key_holds_the_code_and_a_dated_document_holds_the_day(tmp_path, monkeypatch):
    assert document_key("roster.pdf", [1, 2]) == document_key("roster.pdf", [1, 2])
    assert document_key("roster.pdf", [1, 2]) != document_key("roster.xlsx", [1, 2])
    assert document_key("roster.pdf", [1, 2]) != document_key("roster.pdf", [1, 3])
    before = document_key("roster.pdf", [1, 2])
    monkeypatch.setattr(generated, "code_fingerprint", lambda: "another release")
    assert document_key("roster.pdf", [1, 2]) != before
    monkeypatch.undo()

    cache = GeneratedFiles(tmp_path, max_bytes=10 * 1024 * 1024)
    made = []

    def make() -> tuple[bytes, str]:
        made.append(clock.now().date())
        return b"%PDF", "名单.pdf"

    day = datetime(2022, 3, 20, 23, 0, tzinfo=clock.SHANGHAI)
    try:
        for moment in (day, day + timedelta(minutes=30), day + timedelta(hours=2)):
            clock.set_now(moment)
            cache.fetch("roster.pdf", [1], PDF, make, dated=True).file.close()
    finally:
        clock.set_now(None)
    assert made == [day.date(), (day + timedelta(hours=2)).date()]  # 23:00 and 23:30 the same day


def test_another_database_never_finds_this_ones_files(tmp_path):
    """Rows and versions are numbered from 1 again in a database created anew: the key holds the
    database's identity (its first audit event), so its documents are made, not found."""
    made = []

    def make() -> tuple[bytes, str]:
        made.append(1)
        return b"%PDF", "附件3.pdf"

    for database in ([1, "2022-03-01 09:00"], [1, "2022-03-01 09:00"], [1, "2026-11-30 10:00"]):
        cache = GeneratedFiles(tmp_path, max_bytes=10 * 1024 * 1024, database=database)
        cache.fetch("summary.pdf", [1, [[7, 1, 1]]], PDF, make).file.close()
    assert made == [1, 1]
