"""The current 申报书: one definition (``files.queries.is_current_form``) and one query
(``files.queries.current_form``) for every page, check, count and job."""
from __future__ import annotations

import re
from pathlib import Path

from xkxl_intranet.applications.evaluation import current_form_reading
from xkxl_intranet.applications.materials import delete_file, store_bytes
from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth.models import User
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_layout import form_blocks, texts_for
from xkxl_intranet.extensions import db
from xkxl_intranet.files.form_template import form_docx
from xkxl_intranet.files.queries import current_form

from helpers import create_application

PACKAGE = Path(__file__).resolve().parent.parent.parent / "xkxl_intranet"


def _clerk(application: Application) -> User:
    return db.session.scalar(db.select(User).where(User.city_id == application.city_id, User.role == "city"))


def test_the_current_form_is_the_latest_upload_and_the_previous_one_after_a_deletion(app):
    application_id = create_application(app, with_form=False)
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert current_form(application.id) is None and current_form_reading(application.id, FORM_2022) is None
        first_texts = texts_for(application.values(), form=FORM_2022)
        first = store_bytes(_clerk(application), form_docx(form_blocks(first_texts, form=FORM_2022)), "第一版.docx",
                            category="form", application=application)
        second = store_bytes(_clerk(application), form_docx(form_blocks(first_texts | {"employees": "7"}, form=FORM_2022)),
                             "第二版.docx", category="form", application=application)
        db.session.commit()
        assert current_form(application.id).id == second.id
        assert current_form_reading(application.id, FORM_2022).values()["employees"] == 7  # read when it was stored
        delete_file(_clerk(application), db.session.get(type(second), second.id))
        db.session.commit()
        assert current_form(application.id).id == first.id
        assert current_form_reading(application.id, FORM_2022).values()["employees"] == application.values()["employees"]


def test_no_module_but_files_queries_says_what_a_current_form_is():
    """Three queries of "the current 申报书" once drifted apart; the condition is written once."""
    condition = re.compile(r"category\s*==\s*FORM\.key[^)]*superseded_at\.is_\(None\)|"
                           r"superseded_at\.is_\(None\)[^)]*category\s*==\s*FORM\.key", re.S)
    written = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                     if condition.search(path.read_text(encoding="utf-8")))
    assert written == ["files/queries.py"]


def test_the_stored_counts_are_computed_in_one_place():
    """Every write ends in ``evaluation.recheck``; nothing else assigns the counts."""
    assigning = re.compile(r"\.(error_count|warning_count|open_warning_count)\s*=[^=]")
    writers = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                     if assigning.search(path.read_text(encoding="utf-8")))
    assert writers == ["applications/evaluation.py"]
