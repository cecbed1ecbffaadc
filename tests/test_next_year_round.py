"""Issue 21, item 6: the next year's notice (tests/notices/2023.toml: renamed, dropped and added
fields, a changed and an added rule, 附件1's wording and weights, 附件3's columns, a deadline with
a time of day, 一式两份) is opened in the running app beside 2022's demo, as the province does it
(upload, preview, open), and taken through a clerk's entry, the 申报书 template and its reading,
初审 and 报送, 附件3, expert scoring, the ranking and the roster; then 2022 is made current again
and every one of its documents prints exactly as reported (tests/golden/2022)."""
from __future__ import annotations

import io
import re
from datetime import datetime
from html import unescape
from pathlib import Path

import docx
import openpyxl
from golden.outputs import PRINTED_AT, demo_outputs, seed_2022_demo
from golden.test_2022_outputs import differences, golden_files

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth.models import User
from xkxl_intranet.batches.settings import make_current
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.extensions import db
from xkxl_intranet.files.form_template import form_docx
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.rounds.models import City, Round

from helpers import SAMPLE_PDF, application_values, logged_in_client, store_form

NEXT_YEAR_FILE = Path(__file__).resolve().parent / "notices" / "2023.toml"
IN_2023 = datetime(2023, 5, 8, 9, 0, tzinfo=clock.SHANGHAI)
DROPPED = ("region_honors", "dual_domains")


def _text(response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _carried(page: str) -> dict[str, str]:
    """The hidden fields of the preview's 开启 form, as the browser posts them back."""
    return {name: unescape(value) for name, value in
            re.findall(r'<input[^>]*name="(\w+)"[^>]*type="hidden"[^>]*value="([^"]*)"', page)
            if name not in ("csrf_token",)}


def _open_2023(province) -> None:
    """On 申报批次: upload the notice file, read the preview, open the round from it."""
    preview = province.post("/rounds/new/preview", data={
        "notice_upload": (io.BytesIO(NEXT_YEAR_FILE.read_bytes()), "2023.toml")})
    assert preview.status_code == 200
    shown = _text(preview)
    for words in ("2023年跨行业跨领域工业互联网平台", "2023-06-30 17:00", "一式两份", "平台主要服务行业",
                  "申报企业", "主要服务行业", "申报能力要求", "平台盈利和融资能力"):
        assert words in shown, words
    opened = province.post("/rounds/new", data={**_carried(preview.get_data(as_text=True)),
                                                "confirm_replace": "y"})
    assert opened.status_code == 303, _text(opened)[:2000]


def _clerk_values() -> dict:
    values = application_values("510100", platform_name="天府工业互联网平台2023", served_industry="装备制造、电子信息",
                                developers_certified="30", builder="四川天府数科有限公司")
    for key in DROPPED:
        values.pop(key, None)
    return values


def _ids(app) -> tuple[int, int, int]:
    with app.app_context():
        round_2023 = db.session.scalar(db.select(Round).where(Round.year == 2023))
        round_2022 = db.session.scalar(db.select(Round).where(Round.year == 2022))
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100"))
        return round_2022.id, round_2023.id, chengdu.id


def _cells(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [[cell for cell in row if cell not in (None, "")] for row in sheet.iter_rows(values_only=True)]


def test_next_years_round_runs_beside_2022_whose_documents_stay_as_reported(app, monkeypatch):
    seed_2022_demo(app, monkeypatch)
    clock.set_now(IN_2023)
    try:
        province = logged_in_client(app, "province")
        _open_2023(province)
        round_2022, round_2023, chengdu_id = _ids(app)
        clerk = logged_in_client(app, "chengdu")

        # The home page asks for what 2023's notice asks for.
        home = _text(clerk.get("/"))
        assert "一式两份" in home and "2023年06月30日 17:00" in home

        # A clerk's entry: 2023's labels and fields, its rule, none of what it dropped.
        blank = _text(clerk.get("/applications/new"))
        assert "建设运营主体" in blank and "平台主要服务行业" in blank and "通过平台认证的开发者数量" in blank
        assert "注册地获评" not in blank and "建设主体 " not in blank
        too_many = _clerk_values() | {"developers_certified": "999999"}
        checked = _text(clerk.post("/applications/check", data=too_many))
        assert "「通过平台认证的开发者数量」（999999）不能大于「第三方开发者注册数量」" in checked
        saved = clerk.post("/applications/new", data=_clerk_values())
        assert saved.status_code == 303, _text(saved)[:3000]
        application_id = int(saved.headers["Location"].rsplit("/", 1)[1])
        with app.app_context():
            application = db.session.get(Application, application_id)
            assert application.round_id == round_2023
            values = application.values()
            assert values["served_industry"] == "装备制造、电子信息" and values["developers_certified"] == 30
            assert not set(DROPPED) & set(values) and application.error_count == 0

        # The 申报书 template of 2023, then the enterprise's filled 申报书, read as 2023's form.
        template = docx.Document(io.BytesIO(clerk.get("/applications/form-template.docx").data))
        printed = "\n".join([p.text for p in template.paragraphs]
                            + [c.text for t in template.tables for r in t.rows for c in r.cells])
        assert "平台主要服务行业" in printed and "通过平台认证的开发者数量" in printed
        assert "建设运营主体" in printed and "注册地获评" not in printed
        with app.app_context():
            application = db.session.get(Application, application_id)
            form = application.round.form
            filled = form_docx(form_blocks(texts_for(application.values(), form=form), form=form,
                                           title=application.round.title, year=2023))
        file_id = store_form(app, application_id, filled)
        with app.app_context():
            reading = db.session.get(StoredFile, file_id).reading
            assert reading["status"] == "read"
            assert reading["fields"]["served_industry"][1] == "装备制造、电子信息"
            assert reading["fields"]["developers_certified"][1] == "30"
            assert not set(DROPPED) & set(reading["fields"])
        page = _text(clerk.get(f"/applications/{application_id}"))
        assert "与申报表不一致 0" in page  # the 申报书 says what the form says, in 2023's fields

        # 初审 and 报送, with the evidence 2023's notice asks for.
        for category in ("evidence1", "evidence2"):
            uploaded = clerk.post(f"/files/applications/{application_id}/{category}/upload",
                                  data={"file": [(io.BytesIO(SAMPLE_PDF + category.encode()), f"{category}.pdf")]},
                                  content_type="multipart/form-data")
            assert uploaded.status_code == 303, _text(uploaded)[:2000]
        passed = clerk.post(f"/applications/{application_id}/review", data={"decision": "passed"})
        assert passed.status_code == 303
        with app.app_context():
            assert db.session.get(Application, application_id).review_state == "passed"

        # 附件3 of 2023: its renamed and added columns, the clerk's figure in it.
        summary = clerk.get(f"/reports/cities/{chengdu_id}/summary.xlsx")
        assert summary.status_code == 200
        rows = _cells(summary.data)
        header = next(row for row in rows if "序号" in row)
        assert "申报企业" in header and "主要服务行业" in header and "依托企业" not in header
        assert any("装备制造、电子信息" in row and "天府工业互联网平台2023" in row for row in rows)
        summary_html = _text(clerk.get(f"/reports/cities/{chengdu_id}/summary"))
        assert "2023年跨行业跨领域工业互联网平台推荐信息汇总表" in summary_html
        reported = clerk.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"})
        assert reported.status_code == 303, _text(reported)[:3000]
        receipt = _text(clerk.get(reported.headers["Location"]))
        assert "天府工业互联网平台2023" in receipt and "2023年跨行业跨领域工业互联网平台" in receipt

        # The roster: 2023's label of a figure it prints.
        roster = province.get("/reports/roster/unreported.xlsx")
        assert roster.status_code == 200
        roster_cells = [cell for row in _cells(roster.data) for cell in row]
        assert "第三方开发者注册数量（个）" in roster_cells or "第三方开发者注册数量" in roster_cells
        assert "天府工业互联网平台2023" in roster_cells

        # The review: 附件1 as 2023 declares it, its default weights, an expert's sheet, the ranking.
        manage = province.get("/review/manage").get_data(as_text=True)
        weights = dict(re.findall(r'name="weight_([a-z_]+)"[^>]*?value="([^"]*)"', manage))
        assert (weights["resources"], weights["technology"]) == ("20", "25")
        settings = {f"weight_{key}": value for key, value in weights.items()}
        settings.update({"deadline": "2023-05-20 18:00", "experts_per_application": "1"})
        assert province.post("/review/settings", data=settings).status_code == 303
        with app.app_context():
            expert_id = db.session.scalar(db.select(User.id).where(User.username == "expert1"))
        assigned = province.post(f"/review/applications/{application_id}/assign", data={"expert_id": str(expert_id)})
        assert assigned.status_code == 303, _text(assigned)[:2000]
        expert = logged_in_client(app, "expert1")
        sheet_page = expert.get(f"/applications/{application_id}").get_data(as_text=True)
        sheet_id = int(re.search(r'action="/review/sheets/(\d+)"', sheet_page).group(1))
        scores = sorted(set(re.findall(r'name="score_([a-z0-9_]+)"', sheet_page)))
        comments = sorted(set(re.findall(r'name="comment_([a-z0-9_]+)"', sheet_page)))
        assert "平台盈利和融资能力" in unescape(sheet_page)
        submitted = expert.post(f"/review/sheets/{sheet_id}", data={
            **{f"score_{key}": "8" for key in scores}, **{f"comment_{key}": "评价意见" for key in comments},
            "opinion": "recommend", "overall_comment": "建议推荐。", "action": "submit"})
        assert submitted.status_code == 303, _text(submitted)[:3000]
        ranking = _text(province.get("/review/ranking"))
        assert "天府工业互联网平台2023" in ranking and "80.00" in ranking
    finally:
        clock.set_now(PRINTED_AT)

    # 2022 current again: every one of its documents prints as reported.
    with app.app_context():
        province_user = db.session.scalar(db.select(User).where(User.username == "province"))
        make_current(province_user, db.session.get(Round, round_2022))
        db.session.commit()
    outputs = demo_outputs(app)
    expected = golden_files()
    assert expected == outputs, differences(expected, outputs)
    clock.set_now(None)
