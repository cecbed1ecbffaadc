"""Crafted input is a 4xx, never a 500: ids beyond the database's integer range, pagination
fed with parameters it does not know, query arguments out of range."""
from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from xkxl_intranet.audit.services import record
from xkxl_intranet.extensions import db

from helpers import create_application, logged_in_client, user_by_name

HUGE = ("9223372036854775807", "9223372036854775808", "2147483648", "99999999999999999999999")


@pytest.mark.parametrize("url", [
    "/audit/?page=9223372036854775807",
    "/audit/?page=-9223372036854775809",
    "/applications/9223372036854775808",
    "/files/9223372036854775808/download",
    "/rounds/cities/9223372036854775808",
    "/rounds/receipts/9223372036854775808",
    "/reports/cities/2147483648/summary",
    "/applications/?city_id=9223372036854775808",
    "/files/city?city_id=9223372036854775808&round_id=9223372036854775808",
    "/audit/?city_id=9223372036854775808",
])
def test_the_reported_urls_are_answered_without_a_server_error(app, province_client, url):
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = province_client.get(url)
    assert response.status_code < 500, (url, response.status_code)
    if "/9223372036854775808" in url or "/2147483648/" in url:
        assert response.status_code == 404


def _events(app, n: int) -> None:
    user = user_by_name(app, "province")
    with app.app_context():
        for i in range(n):
            record("auth.login", user=user, object_type="user", object_id=user.id, summary=f"登录 {i}")
        db.session.commit()


def test_pagination_builds_its_links_from_the_parameters_it_knows(app, auditor_client):
    _events(app, 120)  # log-ins: the auditor reads them
    response = auditor_client.get(
        "/audit/?page=2&endpoint=x&_anchor=evil&_external=1&_scheme=javascript&username=province&x=1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    links = re.findall(r'<nav class="pager">(.*?)</nav>', page, re.S)[0]
    hrefs = re.findall(r'href="([^"]+)"', links)
    assert hrefs and all(h.startswith("/audit/?") for h in hrefs)
    for href in hrefs:
        assert "#" not in href and "endpoint" not in href and "_scheme" not in href and "x=1" not in href
        assert "username=province" in href
    last = auditor_client.get("/audit/?page=9223372036854775807&username=province").get_data(as_text=True)
    assert "第 3 页" in last and "上一页" in last and "下一页" not in last


def test_every_id_in_a_route_goes_through_the_id_converter(app):
    from xkxl_intranet.urls import IdConverter

    for rule in app.url_map.iter_rules():
        for name, converter in (rule._converters or {}).items():
            if isinstance(converter, IntegerConverter):
                assert isinstance(converter, IdConverter), (rule.rule, name)


def _urls_with(app, value: str):
    for rule in app.url_map.iter_rules():
        if not any(isinstance(c, IntegerConverter) for c in (rule._converters or {}).values()):
            continue
        url = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
                     lambda m: value if m.group(1) in ("int", "id") else "form", rule.rule)
        yield rule, url


@pytest.mark.parametrize("who", ["province", "chengdu", "viewer"])
def test_no_route_answers_a_huge_id_with_a_server_error(app, who):
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    create_application(app)
    client = logged_in_client(app, who)
    checked = 0
    for value in HUGE:
        for rule, url in _urls_with(app, value):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method, data={"application_id": value})
                assert response.status_code in (404, 405), (who, method, url, response.status_code)
                checked += 1
    assert checked > 40


def test_form_fields_that_name_records_take_no_huge_ids(app, city_client):
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    city_id = user_by_name(app, "chengdu").city_id
    for value in HUGE:
        moved = city_client.post(f"/reports/cities/{city_id}/summary/move",
                                 data={"application_id": value, "direction": "up"})
        assert moved.status_code < 500, value
        checked = city_client.post("/applications/check", data={"application_id": value},
                                   headers={"HX-Request": "true"})
        assert checked.status_code < 500, value
