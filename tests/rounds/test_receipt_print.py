"""The receipt's PDF lists each file with its 类别 and 大小（字节） on one line (「申报书」, not
「申报 / 书」), whatever else the table holds, and its SHA-256 in two lines."""
from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
from pypdf import PdfReader

from xkxl_intranet import clock
from xkxl_intranet.applications.materials import store_bytes
from xkxl_intranet.applications.models import Application
from xkxl_intranet.extensions import db
from xkxl_intranet.files.categories import EVIDENCE, FORM
from xkxl_intranet.rounds.models import Receipt

from helpers import SAMPLE_PDF, attach_form, create_application, logged_in_client, user_by_name

BEFORE = datetime(2022, 3, 19, 9, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture
def at_before_deadline():
    clock.set_now(BEFORE)
    yield BEFORE
    clock.set_now(None)


def _report_with(app, city, evidence: tuple) -> list[dict]:
    """One application 初审通过 with its 申报书 and the given 证明材料 (long file names), reported;
    the receipt's files."""
    application_id = create_application(app, platform_name="蜀数工业互联网平台", with_form=False)
    attach_form(app, application_id, name="四川蜀数智造科技有限公司_申报书.pdf")
    clerk = user_by_name(app, "chengdu")
    with app.app_context():
        application = db.session.get(Application, application_id)
        for n, category in enumerate(evidence):
            store_bytes(db.session.merge(clerk), SAMPLE_PDF + f"% evidence {n}\n".encode(),
                        f"四川蜀数智造科技有限公司_{category.label.split()[-1]}_2021年度.pdf",
                        category=category.key, application=application)
        db.session.commit()
    assert city.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 303
    response = city.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"})
    assert response.status_code == 303, response.status_code
    with app.app_context():
        return db.session.scalar(db.select(Receipt)).content["applications"][0]["files"]


def _lines(city, receipt_id: int) -> list[str]:
    response = city.get(f"/rounds/receipts/{receipt_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return [line for page in PdfReader(BytesIO(response.data)).pages for line in page.extract_text().splitlines()]


@pytest.mark.parametrize("evidence", [(), EVIDENCE], ids=["form-only", "every-category"])
def test_category_and_size_print_whole(app, at_before_deadline, evidence):
    city = logged_in_client(app, "chengdu")
    files = _report_with(app, city, evidence)
    assert sorted(f["category"] for f in files) == sorted([FORM.label, *(c.label for c in evidence)])
    with app.app_context():
        receipt_id = db.session.scalar(db.select(Receipt.id))
    lines = _lines(city, receipt_id)
    heading = next(line for line in lines if line.startswith("类别"))
    assert heading.split() == ["类别", "文件名", "大小（字节）", "SHA-256"], heading
    words = [word for line in lines for word in line.split()]
    for f in files:  # the category starts a line, whole; the size is one word
        assert any(line.startswith(f["category"] + " ") for line in lines), f["category"]
        assert str(f["size"]) in words, f["size"]
        pieces = [word for word in words if len(word) > 8 and word in f["sha256"]]  # its lines
        assert "".join(pieces) == f["sha256"] and len(pieces) == 2, (f["sha256"], pieces)
    assert not {"申报", "书", "大小（字", "节）"} & set(words)
