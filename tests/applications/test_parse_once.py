"""A save reads what was typed once, where it comes in (``parsing.parse_input``): the checks, the
duplicates, the 申报书 comparison, a conflict's differences and the save itself take those typed
values, and none reads the text again (issue 26)."""
from collections import Counter

from xkxl_intranet.applications.forms import form_data
from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.indicators import FIELDS
from xkxl_intranet.extensions import db

from helpers import count_parses, create_application, get_application


def _posted(app, application_id: int) -> dict:
    """The edit form as the browser posts it back, with the version it was loaded at."""
    with app.app_context():
        return {k: v for k, v in form_data(db.session.get(Application, application_id)).items() if v is not None}


def test_a_save_reads_each_typed_value_once_also_when_it_meets_a_conflict(app, city_client, monkeypatch):
    application_id = create_application(app)
    posted = _posted(app, application_id)
    once = Counter({key: 1 for key in FIELDS})
    calls = count_parses(monkeypatch)
    saved = city_client.post(f"/applications/{application_id}/edit", data=dict(posted, contact_title="甲"))
    assert saved.status_code == 303 and get_application(app, application_id).values()["contact_title"] == "甲"
    assert calls == once
    calls.clear()
    # the same form again, loaded before that save: the conflict page lists what differs
    stale = city_client.post(f"/applications/{application_id}/edit", data=dict(posted, contact_title="乙"))
    assert stale.status_code == 409 and "甲" in stale.get_data(as_text=True)
    assert calls == once
