"""Spreadsheets never carry a formula that a clerk typed: every text cell written from user input
is written as text, in every workbook the system can produce; one helper writes them all."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth.models import User
from xkxl_intranet.domain.review_criteria import DEFAULT_WEIGHTS
from xkxl_intranet.extensions import db
from xkxl_intranet.reports.layouts import ROSTER_LISTS
from xkxl_intranet.review.assignment import assign
from xkxl_intranet.review.setup import save_settings
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import current_round

from .helpers import city_id, make_passed, set_fields
from helpers import logged_in_client, login

TYPED = {
    "enterprise_name": '=HYPERLINK("http://evil.example/","点此查看")',
    "platform_name": "=cmd|' /C calc'!A0",
    "contact_name": "=1+1",  # the form strips a leading tab: "\t=1+1" is stored like this
    "address": "=SUM(1,2)",
    "builder": "=A1",
}
CONTACT = {"contact_name": "=2+2", "contact_phone": "=3+3"}


@pytest.fixture
def typed_by_a_clerk(app):
    """A reported, recommended application whose text fields a clerk filled with formulas."""
    clock.set_now(datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI))
    clerk = logged_in_client(app, "chengdu")
    application_id = make_passed(app)
    assert clerk.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303
    set_fields(app, application_id, province_mark="recommended", **TYPED)
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == "510100"))
        city.contact_name, city.contact_phone = CONTACT["contact_name"], CONTACT["contact_phone"]
        # The province's review of it: the 评审汇总表 prints its names too.
        province, expert = (db.session.scalar(db.select(User).where(User.username == name))
                            for name in ("province", "expert1"))
        review = save_settings(province, current_round(), deadline=datetime(2022, 4, 1, tzinfo=clock.SHANGHAI),
                               weights=DEFAULT_WEIGHTS, experts_per_application=1)
        assign(province, review, db.session.get(Application, application_id), expert)
        db.session.commit()
    yield clerk
    clock.set_now(None)


def _workbook_urls(app) -> dict[str, list[str]]:
    """Every URL that answers a workbook, by the user who may download it."""
    chengdu = city_id(app, "510100")
    urls: dict[str, list[str]] = {"chengdu": [], "province": [], "auditor": []}
    endpoints = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.endswith(".xlsx"):
            continue
        endpoints.add(rule.endpoint)
        if rule.endpoint == "audit.export":  # the auditor's export of the trail
            urls["auditor"].append(rule.rule)
        elif rule.endpoint.startswith("review."):  # the province's 评审汇总表
            urls["province"].append(rule.rule)
        elif "<list_key>" in rule.rule:
            urls["province"] += [rule.rule.replace("<list_key>", key) for key in ROSTER_LISTS]
        elif "city_id>" in rule.rule:
            urls["chengdu"].append(re.sub(r"<[^>]*city_id>", str(chengdu), rule.rule))
        elif "<" not in rule.rule:
            urls["chengdu"] += [rule.rule, rule.rule + "?filled=1"]
        else:
            pytest.fail(f"a new workbook route this test does not know how to fill: {rule.rule}")
    assert endpoints == {"reports.summary_xlsx", "reports.roster_xlsx", "reports.template_xlsx",
                         "review.ranking_xlsx", "audit.export"}
    return urls


def _formulas(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return [f"{name}: {m}" for name in package.namelist() if name.startswith("xl/worksheets/")
                for m in re.findall(rb"<(?:\w+:)?f[\s>/][^<]*", package.read(name))]


def test_no_workbook_the_system_writes_holds_a_formula_a_clerk_typed(app, typed_by_a_clerk):
    clients = {"chengdu": typed_by_a_clerk, "province": logged_in_client(app, "province"),
               "auditor": logged_in_client(app, "auditor")}
    login(app.test_client(), CONTACT["contact_phone"], "x")  # a user name typed at the log-in: in the trail
    texts = set(TYPED.values()) | set(CONTACT.values())
    holding_text = []
    for who, urls in _workbook_urls(app).items():
        for url in urls:
            response = clients[who].get(url)
            assert response.status_code == 200, url
            assert _formulas(response.data) == [], url
            if any(cell.value in texts and cell.data_type == "s"
                   for ws in load_workbook(io.BytesIO(response.data)).worksheets
                   for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)):
                holding_text.append(url.rsplit("/", 1)[-1])
    # The clerk's text is there, as text, wherever the workbook prints it.
    assert sorted(holding_text) == ["all.xlsx", "export.xlsx", "ranking.xlsx", "recommended.xlsx", "summary.xlsx",
                                    "template.xlsx?filled=1", "unreported.xlsx"]


def test_the_one_helper_writes_text_as_text_and_drops_what_excel_cannot_hold():
    from xkxl_intranet.xlsx import put

    ws = Workbook().active
    cell = put(ws, 1, 1, "\t=cmd|' /C calc'!A0")
    assert cell.data_type == "s" and cell.value == "\t=cmd|' /C calc'!A0"
    assert put(ws, 2, 1, "=1+1").data_type == "s"
    assert put(ws, 3, 1, "控制\x01字符\x1f").value == "控制字符"
    assert put(ws, 4, 1, 12).data_type == "n" and put(ws, 5, 1, None).value is None


def test_no_writer_sets_a_cell_value_but_through_the_helper():
    """A writer added later goes through ``put`` too: no other code sets a cell's value."""
    package = Path(__file__).resolve().parents[2] / "xkxl_intranet"
    offenders = []
    for path in package.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\.cell\([^)]*value=|\bcell\.value = |\]\.value = |\bws\[[^]]+\] = ", line):
                offenders.append(f"{path.relative_to(package)}:{number}: {line.strip()}")
    assert [re.sub(r":\d+:", ":", o) for o in offenders] == [
        "xlsx.py: cell.value = ILLEGAL_CHARACTERS_RE.sub(\"\", value)",
        "xlsx.py: cell.value = value"]
