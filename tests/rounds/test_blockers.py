"""What stops 报送 says where it is resolved and how: every blocker on /rounds/batch links to the
place (the warning's entry on the application page, the field in the form, the application's
materials) and says briefly what to do there; the list of applications links its problem tags."""
import re
from datetime import datetime, timedelta

import pytest

from xkxl_intranet import clock
from xkxl_intranet.applications.evaluation import refresh_counts
from xkxl_intranet.applications.models import Application
from xkxl_intranet.batches.reporting import ACKNOWLEDGE_HOW, CORRECT_HOW, UPLOAD_HOW, readiness
from xkxl_intranet.domain.indicators import FIELDS
from xkxl_intranet.extensions import db
from xkxl_intranet.files.models import StoredFile
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import current_round

from helpers import create_application, get_application, logged_in_client

BEFORE = datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture(autouse=True)
def before_deadline():
    clock.set_now(BEFORE)
    yield
    clock.set_now(None)


def _passed(app, client, **overrides) -> int:
    application_id = create_application(app, **overrides)
    assert client.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 303
    return application_id


def _blockers_html(page: str) -> list[str]:
    return re.findall(r'<li class="is-error blocker">(.*?)</li>', page, re.S)


def _set(app, application_id: int, **values) -> None:
    """Change stored data behind the form's back (as a rule or another city's save would)."""
    with app.app_context():
        application = db.session.get(Application, application_id)
        declared = application.round.form.fields
        application.store_values(application.round.form,
                                 application.values() | {k: v for k, v in values.items() if k in declared})
        for key, value in values.items():
            if key not in declared:  # a column of the row itself (province_mark, review_state…)
                setattr(application, key, value)
        refresh_counts({application_id})
        db.session.commit()


def _without_form(app, application_id: int) -> None:
    with app.app_context():
        for stored in db.session.scalars(db.select(StoredFile).where(StoredFile.application_id == application_id)):
            stored.superseded_at = clock.now()
        db.session.commit()


@pytest.fixture
def blocked(app, city_client):
    """成都: one passed application that 绵阳 then puts forward too (a duplicate, a warning), one
    whose figures break a rule (an error), one whose 申报书 is gone."""
    duplicated = _passed(app, city_client)
    create_application(app, "mianyang", credit_code=get_application(app, duplicated).credit_code)
    wrong = _passed(app, city_client)
    users = get_application(app, wrong).values()["users_industrial"]
    _set(app, wrong, users_paying=users + 1)
    formless = _passed(app, city_client)
    _without_form(app, formless)
    return duplicated, wrong, formless


def test_every_blocker_says_where_and_how_it_is_resolved(app, blocked):
    duplicated, wrong, formless = blocked
    with app.app_context():
        ready = readiness(current_round(), db.session.scalar(db.select(City).where(City.code == "510100")))
        by_application = {(b.application_id, b.where): b for b in ready.blockers}
    duplicate = by_application[(duplicated, "application")]
    assert "统一社会信用代码与绵阳市的申报重复" in duplicate.text
    assert (duplicate.how, duplicate.action, duplicate.anchor) == (
        ACKNOWLEDGE_HOW, "去确认", "finding-duplicate-credit_code")
    error = by_application[(wrong, "edit")]
    assert f"「{FIELDS['users_paying'].label}」" in error.text
    assert (error.how, error.action, error.anchor) == (CORRECT_HOW, "去修改", "users_paying")
    missing = by_application[(formless, "files")]
    assert missing.text.endswith("：尚未上传申报书")
    assert (missing.how, missing.action, missing.anchor) == (UPLOAD_HOW, "去上传", f"files-{formless}-form")
    assert len(ready.blockers) == 3


def test_the_batch_page_links_each_blocker_to_where_it_is_resolved(app, city_client, blocked):
    duplicated, wrong, formless = blocked
    page = city_client.get("/rounds/batch").get_data(as_text=True)
    assert "以下问题解决后才能报送" in page
    items = _blockers_html(page)
    assert len(items) == 3
    duplicate = next(i for i in items if "申报重复" in i)
    assert f'href="/applications/{duplicated}#finding-duplicate-credit_code">去确认</a>' in duplicate
    assert "（在申报页面核实后填写说明并确认）" in duplicate
    error = next(i for i in items if f"/applications/{wrong}/edit" in i)
    assert f'href="/applications/{wrong}/edit#users_paying">去修改</a>' in error
    assert "（在申报修改页面更正后保存）" in error
    missing = next(i for i in items if "尚未上传申报书" in i)
    assert f'href="/files/applications/{formless}#files-{formless}-form">去上传</a>' in missing
    # The same list on the confirmation page.
    assert len(_blockers_html(city_client.get("/rounds/batch/report").get_data(as_text=True))) == 3

    # Each link lands on an element of that id.
    detail = city_client.get(f"/applications/{duplicated}").get_data(as_text=True)
    assert re.search(r'<li class="is-warning" id="finding-duplicate-credit_code">.*?申报重复', detail, re.S)
    assert 'id="users_paying"' in city_client.get(f"/applications/{wrong}/edit").get_data(as_text=True)
    files = city_client.get(f"/files/applications/{formless}").get_data(as_text=True)
    assert f'id="files-{formless}-form"' in files

    # Confirmed there with a note, the duplicate no longer blocks; its entry keeps its id.
    response = city_client.post(f"/applications/{duplicated}/acknowledge",
                                data={"rule": "duplicate:credit_code", "note": "已与绵阳市核实，由成都推荐"})
    assert response.status_code in (200, 303)
    items = _blockers_html(city_client.get("/rounds/batch").get_data(as_text=True))
    assert len(items) == 2 and not any("申报重复" in i for i in items)
    detail = city_client.get(f"/applications/{duplicated}").get_data(as_text=True)
    assert 'id="finding-duplicate-credit_code"' in detail and "已与绵阳市核实" in detail


def test_blockers_without_an_application_link_to_their_page_or_to_nothing(app, city_client):
    create_application(app)  # a draft: nothing passed yet
    items = _blockers_html(city_client.get("/rounds/batch").get_data(as_text=True))
    assert len(items) == 1
    assert 'href="/applications/?state=draft">去初审</a>' in items[0]
    clock.set_now(BEFORE + timedelta(days=3))  # the deadline has passed: nothing to open
    items = _blockers_html(logged_in_client(app, "chengdu").get("/rounds/batch").get_data(as_text=True))
    late = [i for i in items if "截止" in i]
    assert late and "href" not in late[0]


def test_the_list_links_its_problem_tags_to_the_findings(app, city_client, blocked):
    duplicated, wrong, _ = blocked
    page = city_client.get("/applications/").get_data(as_text=True)
    findings = f'href="/applications/{duplicated}#findings"'
    assert re.search(rf'<a class="tag tag-warning" {findings} title="在申报页面核实后填写说明并确认">待确认 1</a>', page)
    assert re.search(rf'<a class="tag tag-danger" {findings} title="[^"]*在申报页面核实后填写说明并确认">重复申报</a>', page)
    other = logged_in_client(app, "mianyang").get("/applications/").get_data(as_text=True)
    assert "重复申报</a>" in other
    assert re.search(rf'href="/applications/{wrong}#findings" title="[^"]*">错误 1</a>', page)
