"""Before a round is opened from a notice file, 申报批次 shows what the round will be (the notice's
terms, the 申报书's fields, the rules, 附件3's header and the score sheet) and what the notice
changes from the current round's; the preview's button opens the round from the very file it
showed (carried in the page, its digest checked again), without JavaScript."""
from __future__ import annotations

import html
import io
import re
from base64 import urlsafe_b64encode
from datetime import datetime
from pathlib import Path

import pytest

from xkxl_intranet import clock
from xkxl_intranet.extensions import db
from xkxl_intranet.notice.compare import compare_notices
from xkxl_intranet.notice.loader import load_notice
from xkxl_intranet.notice.shipped import FIRST_NOTICE
from xkxl_intranet.rounds.models import Round

from helpers import audit_events

NEXT_YEAR_FILE = Path(__file__).resolve().parent.parent / "notices" / "2023.toml"
NEXT_YEAR = load_notice(NEXT_YEAR_FILE)
CARRIED = ("notice_data", "notice_digest", "carried_name", "carried_upload")


@pytest.fixture
def after_2022():
    clock.set_now(datetime(2023, 5, 8, 9, 0, tzinfo=clock.SHANGHAI))
    yield
    clock.set_now(None)


def _upload(path: Path = NEXT_YEAR_FILE, **fields) -> dict:
    return {"notice_upload": (io.BytesIO(path.read_bytes()), path.name), **fields}


def _carried(page: str) -> dict[str, str]:
    """The hidden fields of the preview's 开启 form, as a browser posts them back."""
    found = {name: html.unescape(value) for name, value in
             re.findall(r'<input[^>]*name="(\w+)"[^>]*type="hidden"[^>]*value="([^"]*)"', page)}
    return {name: found.get(name, "") for name in CARRIED}


def _years(app) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(db.select(Round.year)))


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_the_preview_shows_the_round_and_what_changes(app, province_client, after_2022):
    response = province_client.post("/rounds/new/preview", data=_upload(title="2023年平台（预览中填写）"))
    assert response.status_code == 200
    page = html.unescape(_text(response))
    assert _years(app) == {2022}  # nothing opened yet
    # the notice's terms
    assert "预览通知：2023年跨行业跨领域工业互联网平台" in page
    assert "2023年06月30日 17:00" in page and "申报书纸质版一式两份" in page and "一般不超过2个（2 个" in page
    assert NEXT_YEAR.digest in page
    # the form: a renamed, an added field with its kind, unit and required
    assert "<td>建设运营主体</td>" in page
    assert re.search(r"<code>developers_certified</code></td><td>通过平台认证的开发者数量</td><td>整数</td><td>个</td>\s*"
                     r"<td>必填（带\*）</td>", page)
    assert "dual_domains" not in page.split('id="preview-form"')[1]
    # the rules with severity and source
    assert re.search(r"<code>le:developers_certified</code></td><td>「通过平台认证的开发者数量」不能大于"
                     r"「第三方开发者注册数量」</td><td>错误</td><td>系统校核</td>", page)
    # 附件3 as a table header, its title and header lines filled as a city's sheet prints them
    summary = page.split('id="preview-summary"')[1].split("</section>")[0]
    assert "<strong>2023年跨行业跨领域工业互联网平台推荐信息汇总表</strong>" in summary
    assert "市（州）经济和信息化主管部门（盖章）：〈市（州）经信部门〉" in summary
    assert re.findall(r"<th>([^<]*)</th>", summary) == ["序号", "工业互联网平台名称", "申报企业", "主要服务行业", "联系人",
                                                        "联系方式（手机）"]
    # the score sheet
    criteria = page.split('id="preview-criteria"')[1].split("</section>")[0]
    assert "附件1 申报能力要求（评分表）" in criteria and "5.1 平台盈利和融资能力" in criteria
    assert re.search(r"一、平台资源管理水平</th><th class=\"num\">50</th><th class=\"num\">20%", criteria)
    # what changes from the current (2022) round's notice, part by part
    changes = page.split('id="preview-changes"')[1].split("</section>")[0]
    for line in ("报送截止：2022-03-21 23:59:59 → 2023-06-30 17:00:00",
                 "改名（builder）：「建设主体」 → 「建设运营主体」",
                 "新增「通过平台认证的开发者数量」（developers_certified，1.5，整数，个，必填）",
                 "删去「“双链”“双碳”覆盖的领域数量」（dual_domains，4.2）",
                 "新增 le:developers_certified：", "删去 max:dual_domains：",
                 "修改 near:rnd_ratio_2021：", "相差不超过2个百分点（提示，系统校核）",
                 "标题：「跨行业跨领域工业互联网平台申报能力要求」 → 「申报能力要求」",
                 "维度 一、平台资源管理水平的默认权重：25% → 20%",
                 "指标 5.1 的名称：「平台盈利能力」 → 「平台盈利和融资能力」",
                 "列「依托企业」改称「申报企业」：「企业名称」（enterprise_name）",
                 "新增列「主要服务行业」：「平台主要服务行业」（served_industry）"):
        assert f"<li>{line}" in changes or line in changes, line
    # the box typed on 申报批次 is still typed, and the file rides along
    assert 'value="2023年平台（预览中填写）"' in _text(response)
    carried = _carried(_text(response))
    assert carried["notice_digest"] == NEXT_YEAR.digest and carried["carried_upload"] == "1"


def test_the_preview_button_opens_the_round_it_showed(app, province_client, after_2022):
    preview = _text(province_client.post("/rounds/new/preview", data=_upload()))
    opened = province_client.post("/rounds/new", data={**_carried(preview), "deadline": ""})
    assert opened.status_code == 303
    with app.app_context():
        round_ = db.session.scalar(db.select(Round).where(Round.year == 2023))
        assert round_.is_current and round_.notice_digest == NEXT_YEAR.digest
        assert round_.deadline == NEXT_YEAR.deadline and round_.declaration.paper.form_copies == 2
    [event] = audit_events(app, "round.opened")
    assert event.after["notice_file"] == "上传的 2023.toml"
    shown = _text(province_client.get(opened.headers["Location"]))
    assert "（依据上传的通知文件 2023.toml）" in shown  # not 「依据通知 上传的 2023.toml」


def test_a_carried_file_is_opened_only_as_previewed(app, province_client, after_2022):
    carried = _carried(_text(province_client.post("/rounds/new/preview", data=_upload())))
    edited = NEXT_YEAR_FILE.read_bytes().replace(b"form_copies = 2", b"form_copies = 4")
    swapped = province_client.post("/rounds/new", data={
        **carried, "notice_data": urlsafe_b64encode(edited).decode("ascii")})
    assert swapped.status_code == 422
    assert "与预览时显示的不同（摘要不符），未开启批次" in _text(swapped)
    garbled = province_client.post("/rounds/new", data={**carried, "notice_data": "%%%不是base64"})
    assert garbled.status_code == 422 and "无法读取" in _text(garbled)
    assert _years(app) == {2022} and audit_events(app, "round.opened") == []


def test_a_shipped_file_edited_after_the_preview_opens_as_previewed(app, province_client, after_2022, tmp_path):
    folder = tmp_path / "notices"
    folder.mkdir()
    (folder / "2023.toml").write_bytes(NEXT_YEAR_FILE.read_bytes())
    app.config["NOTICES_FOLDER"] = str(folder)
    preview = _text(province_client.post("/rounds/new/preview", data={"notice_file": "2023.toml"}))
    assert "依据 2023.toml 开启的批次" in preview
    (folder / "2023.toml").write_bytes(NEXT_YEAR_FILE.read_bytes().replace(b"form_copies = 2", b"form_copies = 4"))
    assert province_client.post("/rounds/new", data=_carried(preview)).status_code == 303
    with app.app_context():
        round_ = db.session.scalar(db.select(Round).where(Round.year == 2023))
        assert round_.notice_digest == NEXT_YEAR.digest
    assert audit_events(app, "round.opened")[0].after["notice_file"] == "2023.toml"


def test_a_refusal_comes_back_to_the_preview_with_the_file_still_carried(app, province_client):
    clock.set_now(datetime(2022, 3, 19, 12, 0, tzinfo=clock.SHANGHAI))  # 2022's reporting still open
    try:
        preview = _text(province_client.post("/rounds/new/preview", data=_upload()))
        assert 'id="round-running"' in preview and 'name="confirm_replace"' in preview
        refused = province_client.post("/rounds/new", data=_carried(preview))
        page = _text(refused)
        assert refused.status_code == 422 and "请勾选“确认开启新批次”" in page
        assert 'id="preview-changes"' in page and _carried(page) == _carried(preview)
        assert province_client.post("/rounds/new", data={**_carried(page), "confirm_replace": "y"}).status_code == 303
        assert _years(app) == {2022, 2023}
    finally:
        clock.set_now(None)


def test_the_preview_of_a_year_that_exists_says_so(app, province_client, after_2022):
    page = html.unescape(_text(province_client.post("/rounds/new/preview", data=_upload(FIRST_NOTICE))))
    assert 'id="year-taken"' in page and "2022年的申报批次已存在" in page
    assert "与当前批次“2022年跨行业跨领域工业互联网平台”的通知相同。" in page
    # nothing to open: no button, no carried file
    assert 'name="notice_data"' not in page and "依据这份通知开启新批次" not in page


def test_a_broken_file_is_refused_on_the_rounds_page_before_any_preview(app, province_client, after_2022, tmp_path):
    broken = tmp_path / "2023.toml"
    broken.write_bytes(NEXT_YEAR_FILE.read_bytes().replace(b'value = "served_industry"', b'value = "served"'))
    response = province_client.post("/rounds/new/preview", data=_upload(broken))
    assert response.status_code == 422
    page = html.unescape(_text(response))
    assert "served" in page and 'id="preview-changes"' not in page and "开启新年度批次" in page


def test_preview_is_the_provinces(app, viewer_client):
    assert viewer_client.post("/rounds/new/preview", data=_upload()).status_code == 404


def test_nothing_changes_between_a_notice_and_itself():
    assert compare_notices(NEXT_YEAR, NEXT_YEAR) == ()
    assert {c.part for c in compare_notices(load_notice(FIRST_NOTICE), NEXT_YEAR)} == {
        "通知", "申报书的字段", "规则", "附件1 评审指标", "附件3 推荐信息汇总表"}
