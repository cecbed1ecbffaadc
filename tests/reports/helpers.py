"""Helpers shared by the report tests: applications in a given state, and reading the files back."""
from __future__ import annotations

import io

from helpers import audit_events as events  # noqa: F401  (used by the reports tests)
from helpers import create_application
from openpyxl import load_workbook
from pypdf import PdfReader

from xkxl_intranet.extensions import db


def make_passed(app, username: str = "chengdu", **overrides) -> int:
    """A valid application with its 申报书, 初审通过 through the service (as the clerk would)."""
    from flask_login import login_user

    from xkxl_intranet.applications.models import Application
    from xkxl_intranet.applications.services import set_review
    from xkxl_intranet.auth.models import User

    application_id = create_application(app, username, **overrides)
    with app.test_request_context("/"):
        login_user(db.session.scalar(db.select(User).where(User.username == username)))
        set_review(db.session.get(Application, application_id), "passed", "")
        db.session.commit()
    return application_id


def set_fields(app, application_id: int, **values) -> None:
    from xkxl_intranet.applications.models import Application

    with app.app_context():
        application = db.session.get(Application, application_id)
        for key, value in values.items():
            setattr(application, key, value)
        db.session.commit()


def set_batch_state(app, city_code: str, state: str) -> None:
    from xkxl_intranet.rounds.batches import get_batch
    from xkxl_intranet.rounds.models import City
    from xkxl_intranet.rounds.services import current_round

    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.code == city_code))
        get_batch(current_round(), city).state = state
        db.session.commit()


def city_id(app, code: str) -> int:
    from xkxl_intranet.rounds.models import City

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
