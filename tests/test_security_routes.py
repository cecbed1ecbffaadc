"""Walks app.url_map so that routes added later are covered automatically."""
import re

import pytest

from xkxl_intranet.auth.scoping import ADMIN_ENDPOINTS, AUDITOR_ENDPOINTS, EXPERT_ENDPOINTS

from helpers import application_values

PUBLIC_ENDPOINTS = {"auth.login", "core.healthz", "core.favicon", "static"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _concrete_url(rule) -> str:
    # Any value will do: authentication and CSRF are checked before the object is looked up.
    def fill(match):
        converter = match.group(1) or "string"
        return "1" if converter in ("int", "float", "id") else "x"
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", fill, rule.rule)


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC_ENDPOINTS]


def test_url_map_is_not_empty(app):
    assert len(_rules(app)) >= 8


def test_every_route_refuses_anonymous_users(app, client):
    checked = 0
    for rule in _rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_concrete_url(rule), method=method)
            assert response.status_code in (302, 303, 401), (rule.rule, method, response.status_code)
            if response.status_code in (302, 303):
                assert "/login" in response.headers["Location"], (rule.rule, method)
            checked += 1
    assert checked >= 8


def test_htmx_request_from_anonymous_user_gets_401_with_redirect(client):
    response = client.get("/audit/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"


@pytest.mark.parametrize("who", ["province_client", "city_client", "expert_client", "admin_client", "auditor_client"])
def test_every_unsafe_route_refuses_a_request_without_csrf_token(app, request, who):
    logged_in = request.getfixturevalue(who)
    checked = 0
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & UNSAFE):
            url = _concrete_url(rule)
            response = logged_in.open(url, method=method, csrf=False, data={})
            assert response.status_code == 400, (rule.rule, method, response.status_code)
            assert "请求来源无法验证" in response.get_data(as_text=True)
            bad = logged_in.open(url, method=method, csrf=False, data={"csrf_token": "forged"})
            assert bad.status_code == 400, (rule.rule, method)
            checked += 1
    assert checked >= 3  # login, logout, account routes at least


def test_every_page_but_an_experts_own_is_not_found_for_an_expert(app, expert_client):
    """评审专家: no city page, no dashboard, no list, no report, no audit trail, no province
    page; their home is their review list. A route added later is closed to them until it is
    listed in ``auth.scoping.EXPERT_ENDPOINTS``."""
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in EXPERT_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = expert_client.open(_concrete_url(rule), method=method, data={})
            if rule.endpoint == "core.index":
                assert response.status_code == 302 and response.headers["Location"] == "/review/"
            else:
                assert response.status_code == 404, (rule.rule, method, response.status_code)
            checked += 1
    assert checked >= 60
    assert expert_client.get("/review/").status_code == 200


def test_login_form_requires_csrf(client):
    response = client.post("/login", data={"username": "province", "password": "x"}, csrf=False)
    assert response.status_code == 400


def test_security_headers_and_vary(city_client):
    response = city_client.get("/")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _hidden_csrf_token(html: str) -> str:
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the form has lost its hidden csrf_token"
    return match.group(1)


def test_a_real_form_posts_with_its_hidden_token_and_no_header(app, city_client):
    """The test client adds an X-CSRFToken header to every POST; a browser without JavaScript
    does not. This posts exactly what the form holds, as a plain browser would."""
    page = city_client.get("/applications/new").get_data(as_text=True)
    data = {**application_values(), "csrf_token": _hidden_csrf_token(page)}
    saved = city_client.post("/applications/new", data=data, csrf=False)
    assert saved.status_code == 303 and "/applications/" in saved.headers["Location"]

    detail = city_client.get(saved.headers["Location"]).get_data(as_text=True)
    review = {"decision": "draft", "comment": "", "csrf_token": _hidden_csrf_token(detail)}
    reviewed = city_client.post(saved.headers["Location"] + "/review", data=review, csrf=False)
    assert reviewed.status_code == 303


def test_a_form_without_its_token_is_refused_and_saves_nothing(app, city_client):
    refused = city_client.post("/applications/new", data=application_values(), csrf=False)
    assert refused.status_code == 400
    assert "请求来源无法验证" in refused.get_data(as_text=True)
    listing = city_client.get("/applications/").get_data(as_text=True)
    assert "四川测试科技有限公司" not in listing


@pytest.mark.parametrize(("who", "allowed", "home"), [
    ("admin_client", ADMIN_ENDPOINTS, "/admin/users"),
    ("auditor_client", AUDITOR_ENDPOINTS, "/audit/"),
])
def test_every_page_but_its_own_is_not_found_for_the_administrator_and_the_auditor(app, request, who, allowed, home):
    """三权分立: the 系统管理员 opens accounts and 系统设置与状态, the 安全审计员 the trail and its
    export, both their own account; every other page (applications, batches, reports, files, the
    review, and the other's pages) is a 404, and a route added later stays closed to them until it
    is listed in ``auth.scoping.CONFINED_ENDPOINTS``."""
    client = request.getfixturevalue(who)
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in allowed:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_concrete_url(rule), method=method, data={})
            if rule.endpoint == "core.index":
                assert response.status_code == 302 and response.headers["Location"] == home
            else:
                assert response.status_code == 404, (rule.rule, method, response.status_code)
            checked += 1
    assert checked >= 60
    for url in (home, "/account/", "/account/password"):
        assert client.get(url).status_code == 200, url
