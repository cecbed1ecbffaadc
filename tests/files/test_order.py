"""One order and one 序号 for a city's applications on every page: 附件3's (reports.summary:
初审通过 applications by ``position``, numbered 1..n). 材料与汇总表, the ZIP's folders and
manifest, 申报管理 and the province's desk follow it; an application not on the 附件3 has no 序号."""
import csv
import io
import re
import zipfile

from xkxl_intranet.extensions import db
from xkxl_intranet.reports.summary import build_summary
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import current_round

from .conftest import make_application, pdf, set_review_state, upload
from helpers import user_by_name

# (position, enterprise, 初审通过?) as QA found 成都市: positions 1,2,3,4,6,5 by creation.
CHENGDU = [(1, "四川蜀数智造科技有限公司", True), (2, "成都天府云联信息技术有限公司", False),
           (3, "成都锦城智能装备有限公司", False), (4, "成都蓉创工业软件有限公司", False),
           (6, "成都导入测试甲科技有限公司", True), (5, "成都公式测试有限公司", True)]
# 附件3: the 初审通过 ones by position.
EXPECTED = [(1, "四川蜀数智造科技有限公司"), (2, "成都公式测试有限公司"), (3, "成都导入测试甲科技有限公司")]


def _city(app):
    ids = []
    for position, name, _ in CHENGDU:
        ids.append(make_application(app, enterprise_name=name, platform_name=name[2:6] + "平台",
                                    position=position))
    return ids


def _populate(app, city_client):
    ids = _city(app)
    for application_id, (_, name, _) in zip(ids, CHENGDU, strict=True):
        upload(city_client, application_id, "form", (f"{name}.pdf", pdf(name)))
    for application_id, (_, _, passed) in zip(ids, CHENGDU, strict=True):
        if passed:
            set_review_state(app, application_id, "passed")
    return ids


def _summary(app):
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == "510100"))
        summary = build_summary(user_by_name(app, "chengdu"), current_round(), city)
        enterprise = [c.value for c in summary.columns].index("enterprise_name")
        return city.id, [(row.number, row.cells[enterprise]) for row in summary.rows]


def _cells(html: str, table_start: str) -> list[list[str]]:
    table = html[html.index(table_start):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]
    return [[re.sub(r"<[^>]+>|\s+", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in rows]


def test_the_files_page_zip_and_manifest_number_as_the_summary_does(app, city_client, province_client):
    _populate(app, city_client)
    city_id, summary = _summary(app)
    assert summary == EXPECTED

    # 材料与汇总表: the same order as 附件3 (position), its 序号, no number off the 附件3.
    for client, url in ((city_client, "/files/city"), (province_client, f"/files/city?city_id={city_id}")):
        rows = _cells(client.get(url).get_data(as_text=True), "<h2>各申报的材料</h2>")
        assert [(r[0], r[1]) for r in rows] == [
            ("1", "四川蜀数智造科技有限公司"), ("—", "成都天府云联信息技术有限公司"),
            ("—", "成都锦城智能装备有限公司"), ("—", "成都蓉创工业软件有限公司"),
            ("2", "成都公式测试有限公司"), ("3", "成都导入测试甲科技有限公司")]
        numbered = [(int(r[0]), r[1]) for r in rows if r[0] != "—"]
        assert numbered == summary

    # The ZIP: 附件3's applications first, by 序号, then the others, said so.
    data = province_client.get(f"/files/cities/{city_id}/files.zip").get_data()
    zf = zipfile.ZipFile(io.BytesIO(data))
    folders = [name.split("/")[1] for name in zf.namelist()[1:]]
    assert folders == [f"{n:02d}_{name}" for n, name in summary] + [
        "未列入汇总表_成都天府云联信息技术有限公司", "未列入汇总表_成都锦城智能装备有限公司",
        "未列入汇总表_成都蓉创工业软件有限公司"]
    manifest = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode("utf-8-sig"))))
    assert [(int(r["序号"]), r["企业名称"]) for r in manifest if r["序号"]] == summary
    assert [r["序号"] for r in manifest[len(summary):]] == ["", "", ""]


def test_the_applications_list_and_the_desk_number_as_the_summary_does(app, city_client, province_client):
    _populate(app, city_client)
    city_id, summary = _summary(app)
    rows = _cells(city_client.get("/applications/").get_data(as_text=True), '<table class="data applications">')
    assert [(r[0], r[1]) for r in rows] == [
        ("1", "四川蜀数智造科技有限公司"), ("—", "成都天府云联信息技术有限公司"),
        ("—", "成都锦城智能装备有限公司"), ("—", "成都蓉创工业软件有限公司"),
        ("2", "成都公式测试有限公司"), ("3", "成都导入测试甲科技有限公司")]
    rows = _cells(province_client.get("/applications/").get_data(as_text=True), '<table class="data applications">')
    assert [(int(r[0]), r[2]) for r in rows if r[0] != "—"] == summary  # 市（州） in between
    desk = province_client.get(f"/rounds/cities/{city_id}").get_data(as_text=True)
    numbers = [(int(n), name) for n, name in re.findall(
        r'<td class="num">(\d+)</td>\s*<td><a [^>]*>[^<]*</a><br><span class="small muted">([^<]*)</span>', desk)]
    assert numbers == summary


def test_the_application_page_says_its_attachment3_number(app, city_client):
    """The detail page's header gives the same 序号 as 附件3 (not the stored position), and says
    plainly when the application is not on the 附件3."""
    ids = _populate(app, city_client)
    page = city_client.get(f"/applications/{ids[5]}").get_data(as_text=True)  # position 5, 附件3's 2nd
    assert "附件3 序号 2 ·" in page and "序号 5" not in page
    page = city_client.get(f"/applications/{ids[1]}").get_data(as_text=True)  # not 初审通过
    assert "未列入推荐信息汇总表（初审通过后列入）" in page
