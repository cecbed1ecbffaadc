"""Two province sessions acting on one batch at the same instant: the loser reads the same clear
refusal a sequential conflict gets, and nothing changes twice."""
from __future__ import annotations

import contextlib
import threading
from datetime import datetime

import pytest
from sqlalchemy import update

from xkxl_intranet import clock
from xkxl_intranet.batches import desk
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import CityBatch
from xkxl_intranet.web import unit_of_work

from helpers import audit_events, create_application, logged_in_client, user_by_name


@pytest.fixture
def reported(app):
    clock.set_now(datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI))
    clerk = logged_in_client(app, "chengdu")
    application_id = create_application(app)
    assert clerk.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 303
    assert clerk.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303
    yield user_by_name(app, "chengdu").city_id
    clock.set_now(None)


def _flashes(client) -> list[str]:
    with client.session_transaction() as sess:
        return [text for _, text in sess.get("_flashes", [])]


def _at_the_same_instant(app, monkeypatch, path: str, data: dict):
    """Both requests read the batch before either writes it."""
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    barrier = threading.Barrier(2)
    real = desk._transition
    first_call = threading.local()

    def together(*args, **kwargs):
        if not getattr(first_call, "done", False):
            first_call.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
        return real(*args, **kwargs)

    monkeypatch.setattr(desk, "_transition", together)
    clients = [logged_in_client(app, "province") for _ in range(2)]
    statuses, pages = [None, None], [None, None]

    def post(n):
        response = clients[n].post(path, data=data)
        statuses[n], pages[n] = response.status_code, response.get_data(as_text=True)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return statuses, pages, [_flashes(c) for c in clients]


@pytest.mark.parametrize("action, data, done, refusal, event", [
    ("accept", {}, "已受理。", "成都市当前为“已受理”，不能受理。", "batch.accepted"),
    ("return", {"reason": "材料不全"}, "已退回修改，市（州）将看到退回原因。",
     "成都市当前为“退回修改”，不能退回。", "batch.returned"),
])
def test_the_loser_gets_the_sequential_refusal_and_nothing_changes_twice(
        app, monkeypatch, reported, action, data, done, refusal, event):
    statuses, pages, flashes = _at_the_same_instant(app, monkeypatch, f"/rounds/cities/{reported}/{action}", data)
    assert sorted(statuses) == [303, 422]  # the loser's desk comes back in place, with the reason
    winner, loser = (0, 1) if statuses[0] == 303 else (1, 0)
    assert flashes[winner] == [done] and refusal in pages[loser], flashes
    assert len(audit_events(app, event)) == 1


def test_a_conflict_found_at_commit_is_a_refusal_not_a_server_error(app, reported):
    """The last flush may come with the commit: a conflict there is caught like any other."""
    with app.test_request_context():
        batch = db.session.scalar(db.select(CityBatch).where(CityBatch.city_id == reported))
        with db.engine.begin() as other:  # another session saves the same row meanwhile
            other.execute(update(CityBatch).where(CityBatch.id == batch.id)
                          .values(version=CityBatch.version + 1, paper_note="另一人"))
        with unit_of_work(flash_refusal=False) as work:
            batch.paper_note = "我"  # flushed only by the commit
        assert not work.ok and "他人刚刚保存" in work.refused.message
