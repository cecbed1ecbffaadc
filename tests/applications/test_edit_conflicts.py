"""A save from a stale form (two tabs, two clerks) lists what the two versions differ in: only
the fields that really differ, whatever form each value takes (choices saved as a list and read
as a tuple, 1,000 and 1000, a date and its spelling, blank and None)."""
import re
import threading

import pytest

from xkxl_intranet.applications import routes
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import EditConflict, save_application
from xkxl_intranet.auth.models import User
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.indicators import FIELDS
from xkxl_intranet.domain.parsing import format_field, parse_input
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.state import current_round

from helpers import application_values, create_application, get_application, logged_in_client

FOUR = ["5G", "大数据", "人工智能", "数字孪生"]


def _as_typed_otherwise(application: Application) -> dict[str, str]:
    """The saved application as another tab posts it back: every value in another spelling."""
    saved = application.values()
    raw = {key: format_field(f, saved[key], thousands=True) for key, f in FIELDS.items()}
    raw["technologies"] = "、".join(reversed(application.values()["technologies"]))  # another order, as text
    raw["founded_on"] = f"{application.values()['founded_on']:%Y年%-m月%-d日}"
    raw["contact_mobile"] = " ".join(re.findall(r"\d{1,4}", application.contact_mobile))
    raw["credit_code"] = application.credit_code.lower()
    raw["contact_fax"] = "  "  # blank, saved as None
    return raw


def test_a_stale_save_lists_only_the_fields_that_really_differ(app):
    application_id = create_application(app, technologies=FOUR, founded_on="2010-03-15")
    with app.app_context():
        clerk = db.session.scalar(db.select(User).where(User.username == "chengdu"))
        application = db.session.get(Application, application_id)
        assert application.values()["technologies"] == FOUR and application.values()["contact_fax"] is None
        stale = application.version
        raw = _as_typed_otherwise(application)
        assert "," in raw["sales_last_year"] and raw["technologies"].startswith("数字孪生")
        save_application(clerk, application, parse_input(dict(raw, contact_title="A标签页职务"), FORM_2022.fields), city=clerk.city,
                         round_=current_round(), expected_version=stale)
        db.session.commit()

        with pytest.raises(EditConflict) as caught:
            save_application(clerk, application,
                             parse_input(dict(raw, contact_title="B标签页职务", contact_mobile="13912345678"), FORM_2022.fields),
                             city=clerk.city, round_=current_round(), expected_version=stale)
        assert caught.value.changes == [("职务", "B标签页职务", "A标签页职务"),
                                        ("手机", "13912345678", application.contact_mobile)]


def test_the_conflict_table_shows_no_unchanged_multi_choice(app, city_client):
    """The walk: two tabs of one application, both with four technologies ticked; the second
    save's table listed 运用技术 with the same four on both sides."""
    application_id = create_application(app, technologies=FOUR)
    other_tab = logged_in_client(app, "chengdu")
    application = get_application(app, application_id)
    base = application_values(technologies=FOUR)
    base.update(enterprise_name=application.enterprise_name, credit_code=application.credit_code,
                platform_name=application.platform_name, version=str(application.version))
    assert city_client.post(f"/applications/{application_id}/edit",
                            data=dict(base, contact_title="A标签页职务")).status_code == 303
    response = other_tab.post(f"/applications/{application_id}/edit",
                              data=dict(base, contact_title="B标签页职务", contact_mobile="13912345678"))
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    table = re.search(r'<div class="flash flash-danger conflict".*?</table>', text, re.S).group(0)
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td><strong>(.*?)</strong></td></tr>", table)
    assert rows == [("职务", "B标签页职务", "A标签页职务"), ("手机", "13912345678", "13800001234")]
    assert "运用技术" not in table


def test_a_save_that_loses_the_race_at_the_commit_answers_409_with_the_table(app, city_client, monkeypatch):
    """Both saves pass the version check; the other tab commits first, so this one's UPDATE
    finds no row at its version (StaleDataError at the flush). It is refused, so it answers like
    any conflict (409, the form again with the table), never a 303 that reads like a success."""
    application_id = create_application(app)
    application = get_application(app, application_id)
    base = application_values()
    base.update(enterprise_name=application.enterprise_name, credit_code=application.credit_code,
                platform_name=application.platform_name, version=str(application.version))
    real_save = routes.save_application

    def other_tab_commits_first():
        with app.app_context():
            clerk = db.session.scalar(db.select(User).where(User.username == "chengdu"))
            saved = db.session.get(Application, application_id)
            raw = {key: format_field(f, value) for key, value in saved.values().items()
                   if (f := FIELDS.get(key)) is not None and value is not None}
            save_application(clerk, saved, parse_input(dict(raw, contact_title="A标签页职务"), FORM_2022.fields),
                             city=clerk.city, round_=current_round(), expected_version=saved.version)
            db.session.commit()
            db.session.remove()

    def save_after_the_other(*args, **kwargs):
        other = threading.Thread(target=other_tab_commits_first)
        other.start()
        other.join(timeout=20)
        return real_save(*args, **kwargs)

    monkeypatch.setattr(routes, "save_application", save_after_the_other)
    response = city_client.post(f"/applications/{application_id}/edit", data=dict(base, contact_title="B标签页职务"))
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    table = re.search(r'<div class="flash flash-danger conflict".*?</table>', text, re.S).group(0)
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td><strong>(.*?)</strong></td></tr>", table)
    assert ("职务", "B标签页职务", "A标签页职务") in rows
    assert get_application(app, application_id).values()["contact_title"] == "A标签页职务"
