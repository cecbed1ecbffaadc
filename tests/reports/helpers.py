"""Helpers shared by the report tests: applications in a given state, reading the files back, and
filling in and uploading the indicator template."""
from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import insert

from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import set_review
from xkxl_intranet.audit.services import record
from xkxl_intranet.auth.models import User
from xkxl_intranet.domain.indicators import FIELDS, Kind
from xkxl_intranet.domain.parsing import parse_field
from xkxl_intranet.extensions import db
from xkxl_intranet.notice.loader import load_notice
from xkxl_intranet.notice.shipped import FIRST_NOTICE
from xkxl_intranet.reports.summary_layout import SummaryRow
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import all_cities, batch_for_write, current_round

from helpers import audit_events as events  # noqa: F401  (used by the reports tests)
from helpers import create_application

NOTICE_2022 = load_notice(FIRST_NOTICE)
TECH_PREFIX = "technologies:"  # the key of a 运用技术 choice's row: the field's key, then the choice


def user(username: str) -> User:
    """The user of ``username`` in the current app context (services take the acting user)."""
    return db.session.scalar(db.select(User).where(User.username == username))


def make_passed(app, username: str = "chengdu", **overrides) -> int:
    """A valid application with its 申报书, 初审通过 through the service (as the clerk would)."""
    application_id = create_application(app, username, **overrides)
    with app.app_context():
        set_review(user(username), db.session.get(Application, application_id), "passed", "")
        db.session.commit()
    return application_id


def row_2022(number: int, platform: str, enterprise: str, contact: str, mobile: str) -> SummaryRow:
    """A row of 2022's 附件3 (序号, 平台, 企业, 联系人, 手机), its application numbered as its row."""
    return SummaryRow(number, number, platform, (number, platform, enterprise, contact, mobile))


def set_fields(app, application_id: int, **values) -> None:
    """Set stored values directly (the ORM bumps the row's version, as every save does), audited
    as every change in the application is (the dashboard's cache is keyed by the newest audit
    event)."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        declared = application.round.form.fields
        application.store_values(application.round.form,
                                 application.values() | {k: v for k, v in values.items() if k in declared})
        for key, value in values.items():
            if key not in declared:  # a column of the row itself (province_mark, review_state…)
                setattr(application, key, value)
        record("test.fields_set", user=None, object_type="application", object_id=application_id,
               summary="测试：直接设置字段")
        db.session.commit()


def set_batch_state(app, city_code: str, state: str) -> None:
    """Put a city's batch in ``state`` directly (audited, like :func:`set_fields`)."""
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == city_code))
        batch_for_write(current_round().id, city.id).state = state
        record("test.batch_state_set", user=None, object_type="batch", city_id=city.id,
               summary=f"测试：报送状态设为 {state}")
        db.session.commit()


def reported_round(app, per_city: int) -> None:
    """``per_city`` 初审通过 applications in every city, each city's batch reported (inserted in
    bulk: for the roster at the size of a round, not for the application form)."""
    with app.app_context():
        round_ = current_round()
        rows = [{"round_id": round_.id, "city_id": city.id, "position": n + 1, "review_state": "passed",
                 "enterprise_name": f"{city.name}测试企业{n:03d}有限公司",
                 "platform_name": f"{city.name}平台{n:03d}", "credit_code": "91510100MA6C000001",
                 "contact_name": "张三", "contact_mobile": "13800001234", "devices_total": 1000 + n,
                 "acknowledgements": {}}
                for city in all_cities() for n in range(per_city)]
        db.session.execute(insert(Application), rows)
        for city in all_cities():
            batch_for_write(round_.id, city.id).state = "reported"
        db.session.commit()


def city_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(City.id).where(City.code == code))


def workbook(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))


def pdf_reader(response) -> PdfReader:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    return PdfReader(io.BytesIO(response.data))


def pdf_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def embedded_fonts(reader: PdfReader) -> set[tuple[str, str]]:
    """(font name, FontFile key) of every embedded font of every page."""
    found = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            descendants = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for descendant in descendants:
                descriptor = descendant.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in descriptor:
                        found.add((str(descriptor["/FontName"]), key))
    return found


def page_size_mm(reader: PdfReader, index: int = 0) -> tuple[float, float]:
    box = reader.pages[index].mediabox
    return round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)


# ---- the indicator template and its import -------------------------------------------------------

def template(client, filled=False):
    return workbook(client.get("/reports/template.xlsx" + ("?filled=1" if filled else "")))


def row_of(ws, key: str) -> int:
    for (cell,) in ws.iter_rows(min_col=1, max_col=1):
        if cell.value == key:
            return cell.row
    raise KeyError(key)


def typed(key: str, text):
    """What a clerk's Excel holds: numbers as numbers, the rest as text."""
    f = FIELDS[key]
    if f.kind in (Kind.INT, Kind.MONEY, Kind.PERCENT):
        return parse_field(f, text)
    return text


def fill(ws, column: str, values: dict) -> None:
    for key, value in values.items():
        if FIELDS[key].kind is Kind.MULTI:
            for choice in FIELDS[key].choices:
                ws[f"{column}{row_of(ws, TECH_PREFIX + choice)}"] = "是" if choice in (value or []) else "否"
        else:
            ws[f"{column}{row_of(ws, key)}"] = typed(key, value) if value not in (None, "") else None


def as_bytes(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, name: str = "指标模板.xlsx"):
    response = client.post("/reports/import", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.status_code
    return client.get("/reports/import")


def confirm(client, follow=True):
    """Press 确认导入 on the preview last shown (the token is the one in the page's form)."""
    with client.session_transaction() as sess:
        token = (sess.get("reports_import") or {}).get("token", "")
    return client.post("/reports/import/confirm", data={"token": token}, follow_redirects=follow)


def count_applications(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Application))


def imports_dir(app) -> Path:
    return Path(app.instance_path) / "imports"


def problems(page: str) -> list[str]:
    """Every problem row of the preview as '指标!F7 message'."""
    rows = re.findall(r'<td class="mono nowrap">([^<]*)</td>.*?<td>[^<]*</td>\s*<td>([^<]*)</td>', page, re.S)
    return [f"{where} {message}" for where, message in rows]
