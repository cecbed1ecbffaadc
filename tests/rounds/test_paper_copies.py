"""The paper copies a round's notice asks for (issue 21): the home page's 报送要求 and the
province's desk say what the round's kept notice declares (一式两份 when it says two), read from
the kept ``[paper]`` table; a round that keeps no notice yet reads as the 2022 notice."""
import html
import re
from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.batches.round_notice import keep_notice
from xkxl_intranet.extensions import db
from xkxl_intranet.notice.loader import load_notice, parse_notice
from xkxl_intranet.notice.schema import PaperCopies
from xkxl_intranet.notice.shipped import FIRST_NOTICE
from xkxl_intranet.rounds.models import Round
from xkxl_intranet.rounds.paper import paper_copies
from xkxl_intranet.rounds.state import current_round

from helpers import audit_events, user_by_name

TWO_COPIES = parse_notice(FIRST_NOTICE.read_text(encoding="utf-8").replace("form_copies = 3", "form_copies = 2"))


@pytest.fixture
def two_copies(app):
    """The current round keeps a notice that asks for the 申报书 in two copies."""
    with app.app_context():
        keep_notice(current_round(), TWO_COPIES)
        db.session.commit()


@pytest.fixture(autouse=True)
def before_the_deadline():
    clock.set_now(datetime(2022, 3, 21, 23, 59, 59, tzinfo=clock.SHANGHAI) - timedelta(days=2))
    yield
    clock.set_now(None)


def _requirement(page: str) -> str:
    return re.search(r"<dt>报送要求</dt><dd>(.*?)</dd>", page, re.S)[1]


def _label(page: str, field_id: str) -> str:
    return html.unescape(re.search(rf'<label[^>]*for="{field_id}"[^>]*>(.*?)</label>', page, re.S)[1]).strip()


def test_a_round_reads_its_kept_paper_table_and_one_without_a_notice_the_2022_notices(app):
    assert paper_copies(Round(notice=None)) == load_notice(FIRST_NOTICE).paper == PaperCopies(3, True, 1)
    assert paper_copies(None) == PaperCopies(3, True, 1)
    kept = {"paper": {"form_copies": 2, "form_disc": False, "summary_copies": 1}}
    assert paper_copies(Round(notice=kept)) == PaperCopies(2, False, 1)
    for broken in ({"form_copies": 0, "form_disc": True, "summary_copies": 1},
                   {"form_copies": True, "form_disc": True, "summary_copies": 1},
                   {"form_copies": 2, "form_disc": "yes", "summary_copies": 1}, "two"):
        assert paper_copies(Round(notice={"paper": broken})) == PaperCopies(3, True, 1), broken


def test_the_2022_round_asks_for_three_copies_on_the_home_page_and_the_desk(app, province_client):
    home = province_client.get("/").get_data(as_text=True)
    assert _requirement(home) == "申报书纸质版一式三份及电子版（光盘）、推荐信息汇总表纸质版一份报送省厅，电子版发送至联系人邮箱。"
    desk = province_client.get(f"/rounds/cities/{user_by_name(app, 'chengdu').city_id}").get_data(as_text=True)
    assert _label(desk, "paper_forms_received_on") == "申报书纸质版（一式三份）收到日期"


def test_a_round_whose_notice_asks_for_two_copies_says_two(app, two_copies, province_client, city_client):
    for client in (province_client, city_client):
        requirement = _requirement(client.get("/").get_data(as_text=True))
        assert requirement.startswith("申报书纸质版一式两份及电子版（光盘）、推荐信息汇总表纸质版一份报送省厅")
        assert "一式三份" not in requirement

    city_id = user_by_name(app, "chengdu").city_id
    desk = province_client.get(f"/rounds/cities/{city_id}").get_data(as_text=True)
    assert _label(desk, "paper_forms_received_on") == "申报书纸质版（一式两份）收到日期"
    assert "一式三份" not in desk

    mistyped = province_client.post(f"/rounds/cities/{city_id}/paper", data={"paper_forms_received_on": "2022-03-1x"})
    page = mistyped.get_data(as_text=True)
    assert mistyped.status_code == 422
    assert _label(page, "paper_forms_received_on") == "申报书纸质版（一式两份）收到日期"
    assert "「申报书纸质版（一式两份）收到日期」不是有效的日期" in html.unescape(page)

    future = province_client.post(f"/rounds/cities/{city_id}/paper", data={"paper_forms_received_on": "2022-03-25"})
    assert future.status_code == 422
    assert "「申报书纸质版（一式两份）收到日期」2022-03-25：收到日期不能晚于今天" in html.unescape(future.get_data(as_text=True))

    saved = province_client.post(f"/rounds/cities/{city_id}/paper", data={"paper_forms_received_on": "2022-03-18"})
    assert saved.status_code == 303
    [event] = audit_events(app, "batch.paper_received")
    assert "申报书纸质版（一式两份） 2022-03-18" in event.summary
    trail = html.unescape(province_client.get("/audit/?action=batch.paper_received").get_data(as_text=True))
    assert "申报书纸质版收到日期" in trail and "一式三份" not in trail
