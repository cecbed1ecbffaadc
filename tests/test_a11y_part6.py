"""Issue 25 (6): publishing the results from the ranking, the city desk's links to the stamped
附件3 scan and the city's files, the dashboard's refresh line only where script refreshes, the
viewer's role said once, icons without an emoji font, and download names that say what the file is."""
from __future__ import annotations

import io
import re
from pathlib import Path

from xkxl_intranet.auth.models import User
from xkxl_intranet.extensions import db
from xkxl_intranet.filenames import ascii_fallback, ascii_name
from xkxl_intranet.rounds.models import City, Round

from helpers import SAMPLE_PDF, create_application, store_form
from review.helpers import open_review

TEMPLATES = Path(__file__).resolve().parent.parent / "xkxl_intranet" / "templates"
STATIC = TEMPLATES.parent / "static"
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")


def _city(app, code: str = "510100") -> City:
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == code))
        db.session.expunge(city)
        return city


def test_the_province_publishes_the_results_from_the_ranking_and_comes_back_to_it(app, province_client):
    open_review(app, days=10)
    page = province_client.get("/review/ranking").get_data(as_text=True)
    form = re.search(r'<form[^>]*/results"[^>]*>(.*?)</form>', page, re.S)
    assert form and 'name="next" value="/review/ranking"' in form[1] and "公布推荐结果" in form[1]
    assert 'name="confirm_early"' in form[1]  # cities not reported yet: the same confirmation as 申报批次
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    response = province_client.post(f"/rounds/{round_id}/results",
                                    data={"publish": "1", "confirm_early": "y", "next": "/review/ranking"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/review/ranking")
    after = province_client.get("/review/ranking").get_data(as_text=True)
    assert "已公布" in after and "撤回公布" in after


def test_a_viewer_sees_whether_results_are_published_but_no_form(app, viewer_client):
    open_review(app, days=10)
    page = viewer_client.get("/review/ranking").get_data(as_text=True)
    assert "未公布（推荐标记仅省厅可见）" in page and "/results\"" not in page


def test_the_city_desk_links_the_stamped_scan_and_the_citys_files(app, city_client, province_client):
    city = _city(app)
    desk = province_client.get(f"/rounds/cities/{city.id}").get_data(as_text=True)
    assert f'href="/files/city?city_id={city.id}"' in desk and "尚未上传" in desk
    uploaded = city_client.post("/files/city/summary-scan", data={"file": (io.BytesIO(SAMPLE_PDF), "汇总表盖章.pdf")},
                                content_type="multipart/form-data")
    assert uploaded.status_code == 303
    desk = province_client.get(f"/rounds/cities/{city.id}").get_data(as_text=True)
    link = re.search(r'<a href="(/files/\d+/download)"[^>]*>汇总表盖章.pdf</a>', desk)
    assert link, "no link to the scan"
    download = province_client.get(link[1])
    assert download.status_code == 200 and download.data == SAMPLE_PDF
    file_id = link[1].split("/")[2]
    with app.app_context():
        year = db.session.scalar(db.select(Round.year))
    # A Chinese name falls back to what the file is, whose and which (not download.pdf).
    assert f'filename="summary-scan-{city.pinyin}-{year}-{file_id}.pdf"' in download.headers["Content-Disposition"]


def test_the_refresh_line_is_hidden_until_script_shows_it(app, province_client):
    page = province_client.get("/rounds/dashboard").get_data(as_text=True)
    line = re.search(r"<span[^>]*>页面每 \d+ 秒自动刷新</span>", page)
    assert line and "data-js-only" in line[0] and " hidden" in line[0]
    assert "[data-js-only][hidden]" in (STATIC / "js" / "app.js").read_text(encoding="utf-8")


def test_the_viewers_role_is_said_once_in_the_header(app, viewer_client):
    header = re.search(r'<div class="user-box">.*?</span>', viewer_client.get("/").get_data(as_text=True), re.S)[0]
    assert header.count("只读") == 1  # 厅领导 + 只读（领导查阅）
    with app.app_context():
        db.session.scalar(db.select(User).where(User.username == "viewer")).display_name = "厅领导（只读）"
        db.session.commit()
    header = re.search(r'<div class="user-box">.*?</span>', viewer_client.get("/").get_data(as_text=True), re.S)[0]
    assert "厅领导（只读）" in header and header.count("只读") == 1


def test_no_page_relies_on_an_emoji_font():
    for path in [*TEMPLATES.rglob("*.html"), *STATIC.glob("js/*.js"), *STATIC.glob("css/*.css")]:
        if path.name.endswith("_print.html"):
            continue  # printed by WeasyPrint with the server's fonts
        found = EMOJI.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name}: {found}"
    assert 'icon("lock")' in (TEMPLATES / "review" / "manage.html").read_text(encoding="utf-8")


def test_download_names_fall_back_to_ascii_that_says_what_the_file_is(app, province_client):
    assert ascii_name("fujian3", "chengdu", 2022, ext="xlsx") == "fujian3-chengdu-2022.xlsx"
    assert ascii_name("roster", None, 2022, ext=".pdf") == "roster-2022.pdf"
    assert ascii_fallback("附件3推荐信息汇总表_成都市_2022.xlsx") == "download-3-2022.xlsx"
    assert ascii_fallback("申报书 v2.PDF") == "v2.pdf"
    city = _city(app)
    with app.app_context():
        year = db.session.scalar(db.select(Round.year))
    summary = province_client.get(f"/reports/cities/{city.id}/summary.xlsx")
    assert summary.status_code == 200
    assert f'filename="fujian3-{city.pinyin}-{year}.xlsx"' in summary.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in summary.headers["Content-Disposition"]
    application_id = create_application(app, with_form=False)
    form_id = store_form(app, application_id, SAMPLE_PDF, "申报书（盖章）.pdf")
    form = province_client.get(f"/files/{form_id}/download")
    assert form.status_code == 200
    assert (f'filename="form-{city.pinyin}-{year}-application-{application_id}-{form_id}.pdf"'
            in form.headers["Content-Disposition"])
    roster = province_client.get("/reports/roster/all.pdf")
    assert roster.status_code == 200 and f'filename="roster-{year}.pdf"' in roster.headers["Content-Disposition"]
