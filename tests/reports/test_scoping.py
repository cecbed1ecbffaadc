"""Every report route, walked from the URL map: another city's report is a 404 for a clerk, and
the province-wide routes do not exist for clerks."""
from .helpers import city_id, make_passed

STAFF_ONLY = {"reports.roster_xlsx", "reports.roster_pdf", "reports.compare"}
CITY_ONLY = {"reports.own_summary", "reports.template_xlsx", "reports.import_page", "reports.import_upload",
             "reports.import_confirm", "reports.import_cancel", "reports.move", "reports.contact"}


def _report_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("reports.")]


def test_another_citys_reports_are_not_found_on_every_route(app, city_client):
    make_passed(app, "mianyang")
    other = city_id(app, "510700")
    data = {"application_id": 1, "direction": "up", "contact_name": "x", "contact_phone": "13900000000"}
    checked = 0
    for rule in _report_rules(app):
        if "city_id" not in rule.arguments:
            continue
        url = rule.build({"city_id": other}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = city_client.open(url, method=method, data=data)
            assert response.status_code == 404, (rule.rule, method, response.status_code)
            checked += 1
    assert checked >= 5


def test_no_report_exists_for_an_expert(app, expert_client):
    make_passed(app, "chengdu")
    checked = 0
    for rule in _report_rules(app):
        values = {"city_id": city_id(app, "510100"), "list_key": "all"}
        url = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert expert_client.open(url, method=method, data={}).status_code == 404, (rule.rule, method)
            checked += 1
    assert checked >= 15


def test_province_wide_routes_are_not_found_for_clerks_and_clerk_routes_for_staff(
        app, city_client, province_client, viewer_client):
    endpoints = {r.endpoint for r in _report_rules(app)}
    assert endpoints >= STAFF_ONLY and endpoints >= CITY_ONLY
    for rule in _report_rules(app):
        values = {"city_id": city_id(app, "510100"), "list_key": "all"}
        url = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint in STAFF_ONLY:
                assert city_client.open(url, method=method).status_code == 404, rule.rule
            if rule.endpoint in CITY_ONLY:
                for client in (province_client, viewer_client):
                    assert client.open(url, method=method, data={}).status_code == 404, (rule.rule, method)
