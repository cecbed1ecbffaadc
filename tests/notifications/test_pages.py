"""/notifications/: the reader's own notices (unread first, newest first, paged), marking read
by plain form posts and by htmx, a notice's link marking it read, the header's unread count, the
home page's latest few, and another person's notice as a 404."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.domain.notices import NoticeKind
from xkxl_intranet.extensions import db
from xkxl_intranet.notifications.models import Notification
from xkxl_intranet.notifications.operations import Link, notify

from helpers import logged_in_client
from reports.helpers import user

START = datetime(2022, 3, 10, 9, 0, tzinfo=clock.SHANGHAI)


def _send(app, username: str, n: int = 1, *, link: Link | None = None) -> list[int]:
    """``n`` notices for ``username``, a minute apart (the last newest)."""
    ids = []
    with app.app_context():
        for i in range(n):
            clock.set_now(START + timedelta(minutes=i))
            ids += [row.id for row in notify([user(username)], NoticeKind.BATCH_RETURNED, f"通知{i + 1}",
                                             f"正文{i + 1}", link)]
        db.session.commit()
    clock.set_now(None)
    return ids


def _read_at(app, notice_id: int):
    with app.app_context():
        return db.session.get(Notification, notice_id).read_at


def test_the_header_shows_the_unread_count_with_an_accessible_label(app, city_client):
    page = city_client.get("/rounds/batch").get_data(as_text=True)
    assert 'id="notice-badge"' in page and "条未读）" not in page
    _send(app, "chengdu", 3)
    page = city_client.get("/rounds/batch").get_data(as_text=True)
    assert '<span class="visually-hidden">（3 条未读）</span>' in page and '<span class="count" aria-hidden="true">3</span>' in page
    badge = city_client.get("/notifications/badge", headers={"HX-Request": "true", "X-Background-Poll": "1"})
    assert badge.status_code == 200 and '（3 条未读）' in badge.get_data(as_text=True)


def test_the_list_is_the_readers_own_unread_first_newest_first_and_paged(app, city_client):
    ids = _send(app, "chengdu", 23)
    _send(app, "mianyang", 1)
    with app.app_context():
        db.session.get(Notification, ids[-1]).read_at = clock.now()  # the newest, already read
        db.session.commit()
    page = city_client.get("/notifications/").get_data(as_text=True)
    assert "共 23 条通知，其中 22 条未读" in page and "通知22" in page
    assert page.index("通知22") < page.index("通知21") < page.index("通知3")
    assert "通知23" not in page  # read, so after the 20 unread on page 1
    second = city_client.get("/notifications/?page=2").get_data(as_text=True)
    assert "通知23" in second and "通知1<" in second and second.index("通知1<") < second.index("通知23")
    fragment = city_client.get("/notifications/?page=2", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "HX-Request" in fragment.headers["Vary"]


def test_another_persons_notice_is_not_listed_and_is_a_404(app, city_client, other_city_client):
    (theirs,) = _send(app, "mianyang", link=Link("core.index"))
    assert "通知1" not in city_client.get("/notifications/").get_data(as_text=True)
    assert city_client.get(f"/notifications/{theirs}").status_code == 404
    assert city_client.post(f"/notifications/{theirs}/read").status_code == 404
    city_client.post("/notifications/read-all")
    assert _read_at(app, theirs) is None
    assert other_city_client.get(f"/notifications/{theirs}").status_code == 303


def test_mark_read_as_a_plain_post_and_by_htmx(app, city_client):
    first, second, third = _send(app, "chengdu", 3)
    answer = city_client.post(f"/notifications/{first}/read", data={"page": "1"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/notifications/?page=1")
    assert _read_at(app, first) is not None and _read_at(app, second) is None
    swapped = city_client.post(f"/notifications/{second}/read", headers={"HX-Request": "true"})
    text = swapped.get_data(as_text=True)
    assert swapped.status_code == 200 and "<html" not in text
    assert "其中 1 条未读" in text and 'hx-swap-oob="true"' in text and '（1 条未读）' in text
    everything = city_client.post("/notifications/read-all", headers={"HX-Request": "true"})
    assert "其中 0 条未读" in everything.get_data(as_text=True) and _read_at(app, third) is not None
    assert "（没有未读）" in everything.get_data(as_text=True)


def test_mark_all_read_without_javascript(app, city_client):
    ids = _send(app, "chengdu", 2)
    assert city_client.post("/notifications/read-all").status_code == 303
    assert all(_read_at(app, i) is not None for i in ids)
    assert "条未读）" not in city_client.get("/").get_data(as_text=True)


def test_a_write_without_the_csrf_token_is_refused(app, city_client):
    (notice,) = _send(app, "chengdu")
    assert city_client.post(f"/notifications/{notice}/read", csrf=False).status_code == 400
    assert _read_at(app, notice) is None


def test_opening_a_notice_marks_it_read_and_goes_where_it_leads(app, city_client):
    (notice,) = _send(app, "chengdu", link=Link("rounds.batch"))
    (nowhere,) = _send(app, "chengdu", link=Link("no.such_endpoint"))
    answer = city_client.get(f"/notifications/{notice}")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/rounds/batch")
    assert _read_at(app, notice) is not None
    assert city_client.get(f"/notifications/{nowhere}").headers["Location"].endswith("/notifications/")


def test_the_home_page_shows_the_latest_few(app, city_client):
    _send(app, "chengdu", 7)
    page = city_client.get("/").get_data(as_text=True)
    assert 'id="home-notices"' in page and "7 条未读" in page
    assert "通知7" in page and "通知3" in page and "通知2<" not in page  # five shown
    assert "查看全部通知" in page


@pytest.mark.parametrize("username", ["expert1", "admin", "auditor", "viewer", "province"])
def test_every_role_reads_its_own_notices(app, username):
    (notice,) = _send(app, username)
    client = logged_in_client(app, username)
    assert "通知1" in client.get("/notifications/").get_data(as_text=True)
    assert client.post(f"/notifications/{notice}/read").status_code == 303
    assert _read_at(app, notice) is not None


def test_flask_notifications_remind_sends_what_is_due_once(app):
    clock.set_now(datetime(2022, 3, 19, 9, 0, tzinfo=clock.SHANGHAI))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["notifications", "remind"])
    assert first.exit_code == 0, first.output
    assert "已发送 2 条提醒" in first.output  # 成都, 绵阳: 3 days to the deadline
    assert "已发送 0 条提醒" in runner.invoke(args=["notifications", "remind"]).output
