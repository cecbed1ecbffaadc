"""An opened round keeps its notice (issue 21): the canonical form and its digest in the database,
filled for the 2022 round by the seeding (init-db), stored when a round is opened from a shipped
or an uploaded notice file, and unchanged when the file is edited or deleted afterwards; a bad
file is refused beside its field with the loader's messages; the 通知 page is the staff's; and
``flask notice-check`` checks a file."""
from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.batches.round_notice import fill_missing_notices, kept_notice
from xkxl_intranet.extensions import db
from xkxl_intranet.notice.dump import canonical_json
from xkxl_intranet.notice.loader import NoticeError, load_notice, parse_notice
from xkxl_intranet.notice.shipped import FIRST_NOTICE
from xkxl_intranet.notice.stored import notice_from_stored, stored_form
from xkxl_intranet.rounds.models import Round

from helpers import audit_events, notice_text

NOTICE_2022 = load_notice(FIRST_NOTICE)
TEXT_2023 = notice_text()
NOTICE_2023 = parse_notice(TEXT_2023)


@pytest.fixture
def before_deadline():
    clock.set_now(datetime(2022, 3, 19, 12, 0, tzinfo=clock.SHANGHAI))
    yield
    clock.set_now(None)


@pytest.fixture
def notices(app, tmp_path):
    """The folder 开启新批次 offers, with a 2023 notice in it beside 2022's."""
    folder = tmp_path / "notices"
    folder.mkdir()
    (folder / "2022.toml").write_bytes(FIRST_NOTICE.read_bytes())
    (folder / "2023.toml").write_text(TEXT_2023, encoding="utf-8")
    app.config["NOTICES_FOLDER"] = str(folder)
    return folder


def _round(app, year: int) -> Round:
    with app.app_context():
        # the kept notice is deferred (read when a process first meets its digest): read it here
        round_ = db.session.scalar(db.select(Round).where(Round.year == year)
                                   .options(db.undefer(Round.notice)))
        db.session.expunge_all()
        return round_


def _round_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Round))


# ---------------------------------------------------------------- the kept form

def test_the_kept_form_reads_back_as_the_notice_with_its_digest():
    data = stored_form(NOTICE_2022)
    assert json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) == canonical_json(NOTICE_2022)
    assert notice_from_stored(data, NOTICE_2022.digest) == NOTICE_2022  # figures of the rules, the deadline
    tampered = json.loads(json.dumps(data))
    tampered["paper"]["form_copies"] = 2
    with pytest.raises(NoticeError, match="与其摘要 .* 不符"):
        notice_from_stored(tampered, NOTICE_2022.digest)


# ---------------------------------------------------------------- the 2022 round, seeded

def test_the_seeded_2022_round_keeps_the_shipped_files_notice(app):
    round_ = _round(app, 2022)
    assert round_.notice_digest == NOTICE_2022.digest
    assert round_.notice == json.loads(canonical_json(NOTICE_2022))
    with app.app_context():
        kept = kept_notice(db.session.get(Round, round_.id))
        assert kept.notice == NOTICE_2022 and kept.problems == ()


def test_a_round_without_a_notice_is_given_the_2022_one_once(app):
    with app.app_context():
        round_ = db.session.scalar(db.select(Round).where(Round.year == 2022))
        round_.notice, round_.notice_digest = None, None
        db.session.commit()
        assert fill_missing_notices() == 1
        db.session.commit()
        assert fill_missing_notices() == 0
        assert db.session.get(Round, round_.id).notice_digest == NOTICE_2022.digest
    [event] = audit_events(app, "round.notice_recorded")
    assert event.after == {"notice_file": "2022.toml", "notice_digest": NOTICE_2022.digest}


# ---------------------------------------------------------------- opening a round

def test_a_round_opened_from_a_shipped_notice_keeps_it_whatever_the_file_becomes(
        app, province_client, notices, before_deadline):
    page = province_client.get("/rounds/").get_data(as_text=True)
    assert re.search(r'<option selected value="2023.toml">2023.toml（2023年跨行业跨领域工业互联网平台，'
                     r'川经信办函〔2023〕1号，截止 2023-04-10 23:59）</option>', page)
    opened = province_client.post("/rounds/new", data={"notice_file": "2023.toml", "confirm_replace": "y"})
    assert opened.status_code == 303
    round_ = _round(app, 2023)
    assert (round_.title, round_.notice_number, round_.deadline) == (
        NOTICE_2023.title, NOTICE_2023.notice_number, NOTICE_2023.deadline)
    assert round_.notice_digest == NOTICE_2023.digest
    assert round_.notice == json.loads(canonical_json(NOTICE_2023))
    [event] = audit_events(app, "round.opened")
    assert event.after["notice_file"] == "2023.toml" and event.after["notice_digest"] == NOTICE_2023.digest
    assert NOTICE_2023.digest in event.summary

    edited = TEXT_2023.replace("form_copies = 3", "form_copies = 2")
    (notices / "2023.toml").write_text(edited, encoding="utf-8")
    assert parse_notice(edited).digest != NOTICE_2023.digest
    again = _round(app, 2023)
    assert (again.notice, again.notice_digest) == (round_.notice, round_.notice_digest)
    (notices / "2023.toml").unlink()
    page = province_client.get(f"/rounds/{round_.id}/notice").get_data(as_text=True)
    assert "一式三份" in page and NOTICE_2023.digest in page
    download = province_client.get(f"/rounds/{round_.id}/notice.toml")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert parse_notice(download.get_data(as_text=True)) == NOTICE_2023
    assert parse_notice(download.get_data(as_text=True)).digest == round_.notice_digest


def test_an_uploaded_notice_is_kept_and_a_typed_deadline_is_the_rounds(app, province_client, before_deadline):
    opened = province_client.post("/rounds/new", data={
        "notice_upload": (io.BytesIO(TEXT_2023.encode("utf-8")), "川经信办函〔2023〕1号.toml"),
        "deadline": "2023-04-30 17:00", "confirm_replace": "y"})
    assert opened.status_code == 303
    round_ = _round(app, 2023)
    assert round_.deadline == datetime(2023, 4, 30, 17, 0, tzinfo=clock.SHANGHAI)
    assert round_.notice_digest == NOTICE_2023.digest
    [event] = audit_events(app, "round.opened")
    assert event.after["notice_file"] == "上传的 川经信办函〔2023〕1号.toml"
    page = province_client.get(f"/rounds/{round_.id}/notice").get_data(as_text=True)
    assert "2023年04月10日 23:59" in page and "本批次现为 2023年04月30日 17:00" in page


@pytest.mark.parametrize(("content", "name", "message"), [
    (notice_text().replace("limit = 2", "limit = 0"), "2023.toml", "[quota]：推荐名额 limit = 0 应至少为1"),
    (notice_text().replace('title = "2023年跨行业跨领域工业互联网平台"', "title = 2023年"), "2023.toml",
     "文件不是有效的 TOML"),
    ("year = 2023", "2023.xlsx", "“2023.xlsx”不是通知文件：通知文件是 .toml 文件"),
])
def test_a_bad_notice_file_is_refused_beside_its_field_and_nothing_is_saved(
        app, province_client, before_deadline, content, name, message):
    rounds, events = _round_count(app), len(audit_events(app, "round.opened"))
    page = province_client.post("/rounds/new", data={
        "notice_upload": (io.BytesIO(content.encode("utf-8")), name), "confirm_replace": "y"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    error = re.search(r'<div id="notice_upload-error"><p class="msg msg-error">(.*?)</div>', html, re.S)
    assert error and message in error[1]
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*name="notice_upload"|'
                     r'<input[^>]*name="notice_upload"[^>]*aria-invalid="true"', html)
    assert _round_count(app) == rounds and len(audit_events(app, "round.opened")) == events


def test_a_shipped_notice_with_problems_is_refused_by_its_messages(app, province_client, notices, before_deadline):
    (notices / "2023.toml").write_text(TEXT_2023.replace("limit = 2", "limit = 0"), encoding="utf-8")
    page = province_client.get("/rounds/").get_data(as_text=True)
    assert "2023.toml（有 1 处问题，不能使用）" in page
    refused = province_client.post("/rounds/new", data={"notice_file": "2023.toml", "confirm_replace": "y"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="notice_file-error"><p class="msg msg-error">第\d+行 \[quota\]：推荐名额 limit = 0 应至少为1</p>',
                     html)
    missing = province_client.post("/rounds/new", data={"notice_file": "../2022.toml", "confirm_replace": "y"})
    assert missing.status_code == 422 and "请选择通知文件" in missing.get_data(as_text=True)
    assert _round(app, 2023) is None


# ---------------------------------------------------------------- the 通知 page

def test_the_notice_page_shows_what_the_round_keeps_to_staff_alone(app, province_client, viewer_client, city_client,
                                                                    expert_client):
    round_id = _round(app, 2022).id
    for client in (province_client, viewer_client):
        page = client.get(f"/rounds/{round_id}/notice")
        assert page.status_code == 200
        facts = re.search(r'<dl class="facts" id="notice-facts">(.*?)</dl>', page.get_data(as_text=True), re.S)[1]
        for shown in ("2022年跨行业跨领域工业互联网平台", "川经信办函〔2022〕71号", "工信厅信发函〔2022〕38号",
                      "2022年03月21日 23:59", "申报书纸质版一式三份", "一般不超过2个",
                      "2020年已获评的平台需重新申报但不占地方申报名额",  # the notice's words, as the preview
                      f"{len(NOTICE_2022.sections)} 个部分、{len(NOTICE_2022.fields)} 个字段、"
                      f"{len(NOTICE_2022.rules)} 条规则",
                      f"{len(NOTICE_2022.criteria.dimensions)} 个维度、{len(NOTICE_2022.criteria.indicators)} 项指标",
                      NOTICE_2022.digest):
            assert shown in facts, shown
        assert "本批次现为" not in facts
    listing = province_client.get("/rounds/").get_data(as_text=True)
    assert f'href="/rounds/{round_id}/notice"' in listing
    for client in (city_client, expert_client):
        assert client.get(f"/rounds/{round_id}/notice").status_code == 404
        assert client.get(f"/rounds/{round_id}/notice.toml").status_code == 404
    download = viewer_client.get(f"/rounds/{round_id}/notice.toml")
    assert download.headers["Content-Type"] == "application/toml; charset=utf-8"
    text = download.get_data(as_text=True)
    assert text.startswith(f"# 2022年跨行业跨领域工业互联网平台（2022年）开启时保存的通知，摘要（SHA-256）{NOTICE_2022.digest}")
    assert parse_notice(text) == NOTICE_2022


def test_a_round_keeping_no_notice_says_so_and_offers_no_download(app, province_client):
    with app.app_context():
        round_ = db.session.scalar(db.select(Round).where(Round.year == 2022))
        round_.notice, round_.notice_digest = None, None
        db.session.commit()
        round_id = round_.id
    assert "本批次尚未保存通知" in province_client.get(f"/rounds/{round_id}/notice").get_data(as_text=True)
    assert province_client.get(f"/rounds/{round_id}/notice.toml").status_code == 404


# ---------------------------------------------------------------- flask notice-check

def test_the_notice_check_command(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notice-check", str(FIRST_NOTICE)])
    assert result.exit_code == 0
    assert (f"{FIRST_NOTICE}：可以使用。2022年跨行业跨领域工业互联网平台（川经信办函〔2022〕71号），"
            f"截止 2022-03-21 23:59:59（北京时间）") in result.output
    assert f"摘要 {NOTICE_2022.digest}" in result.output
    bad = tmp_path / "2023.toml"
    bad.write_text(TEXT_2023.replace("limit = 2", "limit = 0"), encoding="utf-8")
    result = runner.invoke(args=["notice-check", str(FIRST_NOTICE), str(bad)])
    assert result.exit_code == 1
    line = bad.read_text(encoding="utf-8").splitlines().index("limit = 0") + 1
    assert f"{bad}：有 1 处问题，不能使用\n  - 第{line}行 [quota]：推荐名额 limit = 0 应至少为1\n" in result.output
    missing = runner.invoke(args=["notice-check", str(tmp_path / "none.toml")])
    assert missing.exit_code == 1 and "无法读取通知文件" in missing.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == 0  # only reads


def test_the_page_after_the_opening_names_the_deadline_in_the_notice(app, province_client, notices, before_deadline):
    """Opening with the notice's deadline (nothing typed): the round's deadline is the notice's
    to the second, and the page does not call it changed."""
    province_client.post("/rounds/new", data={"notice_file": "2023.toml", "confirm_replace": "y"})
    round_ = _round(app, 2023)
    assert round_.deadline - NOTICE_2023.deadline == timedelta(0)
    page = province_client.get(f"/rounds/{round_.id}/notice").get_data(as_text=True)
    assert "本批次现为" not in page


def test_the_rounds_notice_page_shows_all_it_declares(app, province_client):
    """What the officer checked in the preview stays to be checked after opening: every field,
    rule, 附件3 column and indicator the round keeps, not only their counts."""
    round_id = _round(app, 2022).id
    page = province_client.get(f"/rounds/{round_id}/notice").get_data(as_text=True)
    for part in ("preview-form", "preview-rules", "preview-summary", "preview-criteria"):
        assert f'id="{part}"' in page, part
    assert "<code>devices_total</code>" in page and "<code>le:users_paying</code>" in page
    summary = page.split('id="preview-summary"')[1].split("</section>")[0]
    assert "<th>依托企业</th>" in summary
    assert "1.1 工业设备数量" in page.split('id="preview-criteria"')[1]
