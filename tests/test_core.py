import re
from datetime import datetime

from sqlalchemy.exc import OperationalError

from xkxl_intranet import clock
from xkxl_intranet.core import routes as core_routes
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import City, Round

from helpers import logged_in_client, monitored_health


def test_healthz_reports_database_state(app, client):
    response = monitored_health(app, client)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["state"] == "ok"
    assert body["database"]["cities"] == 21
    assert body["database"]["revision"]


def test_healthz_tells_anyone_else_only_its_verdict(app, client, city_client, province_client, admin_client,
                                                   monkeypatch):
    """Anonymous, a clerk, a wrong or absent token: {"status": …} alone (the database, revision
    and free space would tell an intruder what runs here); the administrator and the monitor's
    token (compared in constant time) read the details."""
    for anyone in (client, city_client, province_client):
        response = anyone.get("/healthz")
        assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert client.get("/healthz", headers={"Authorization": "Bearer "}).get_json() == {"status": "ok"}
    app.config["HEALTH_TOKEN"] = "the-monitor-s-token"
    for wrong in ("Bearer the-monitor-s-toke", "Bearer the-monitor-s-token-", "Basic the-monitor-s-token"):
        assert client.get("/healthz", headers={"Authorization": wrong}).get_json() == {"status": "ok"}
    compared = []
    real = core_routes.hmac.compare_digest
    monkeypatch.setattr(core_routes.hmac, "compare_digest", lambda a, b: compared.append(1) or real(a, b))
    monitor = client.get("/healthz", headers={"Authorization": "Bearer the-monitor-s-token"}).get_json()
    assert monitor["database"]["state"] == "ok" and "uploads" in monitor and "queue" in monitor and compared
    assert admin_client.get("/healthz").get_json()["database"]["revision"]


def test_healthz_says_error_and_nothing_else_when_the_database_does_not_answer(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json() == {"status": "error"}


def test_reference_data_has_21_cities_and_the_2022_round(app):
    with app.app_context():
        cities = db.session.scalars(db.select(City).order_by(City.sort_order)).all()
        assert len(cities) == 21
        assert (cities[0].code, cities[0].name, cities[0].pinyin) == ("510100", "成都市", "chengdu")
        assert cities[-1].name == "凉山彝族自治州" and cities[-1].code == "513400"
        round_ = db.session.scalar(db.select(Round))
        assert round_.notice_number == "川经信办函〔2022〕71号"
        assert round_.ministry_notice_number == "工信厅信发函〔2022〕38号"
        assert round_.deadline == datetime(2022, 3, 21, 23, 59, 59, tzinfo=clock.SHANGHAI)
        assert str(round_.deadline.tzinfo) == "Asia/Shanghai"
        assert not round_.is_demo


def test_layout_shows_round_deadline_and_countdown(app, city_client):
    clock.set_now(datetime(2022, 3, 18, 12, 0, tzinfo=clock.SHANGHAI))
    page = city_client.get("/").get_data(as_text=True)
    assert "2022年跨行业跨领域工业互联网平台" in page
    assert "2022年03月21日 23:59" in page
    assert "剩余 3 天 11 小时 59 分" in page
    clock.set_now(datetime(2022, 3, 21, 22, 30, tzinfo=clock.SHANGHAI))
    city_client = logged_in_client(app, "chengdu")
    assert "剩余 1 小时 29 分 59 秒" in city_client.get("/").get_data(as_text=True)
    assert "data-countdown-deadline" in page
    assert "演示数据" not in page
    clock.set_now(datetime(2022, 3, 22, 0, 0, tzinfo=clock.SHANGHAI))  # 1.5 h later: still logged in
    assert "已截止" in city_client.get("/").get_data(as_text=True)


def test_no_page_loads_anything_from_outside(city_client, province_client, admin_client, auditor_client, client):
    pages = [client.get("/login"), city_client.get("/"), admin_client.get("/admin/users"),
             admin_client.get("/admin/system"), province_client.get("/audit/"), auditor_client.get("/audit/")]
    for response in pages:
        html = response.get_data(as_text=True)
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"^(https?:)?//", url), url
    assert "/static/vendor/htmx-2.0.11.min.js" in pages[0].get_data(as_text=True)


def test_htmx_is_vendored_with_its_version(client):
    response = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert response.status_code == 200
    assert b"htmx 2.0.11" in response.data[:200]
    response.close()


def test_body_carries_csrf_header_for_htmx(city_client):
    page = city_client.get("/").get_data(as_text=True)
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'>", page)


def test_navigation_depends_on_role(city_client, province_client, viewer_client, admin_client, auditor_client):
    for client in (province_client, city_client, viewer_client):
        page = client.get("/").get_data(as_text=True)
        assert "账号管理" not in page and "系统设置与状态" not in page and "操作记录" in page
        assert "审计日志" not in page  # the business history, not the auditor's whole trail
    # The administrator's and the auditor's homes are their own pages, their menus theirs alone.
    admin_home = admin_client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "账号管理" in admin_home and "系统设置与状态" in admin_home
    assert "审计日志" not in admin_home and "全部申报" not in admin_home and "报表" not in admin_home
    auditor_home = auditor_client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "<h1>审计日志</h1>" in auditor_home
    assert "账号管理" not in auditor_home and "全部申报" not in auditor_home and "报表" not in auditor_home


def test_error_pages_are_chinese(app):
    @app.route("/__boom")
    def boom():
        raise RuntimeError("boom")

    city_client = logged_in_client(app, "chengdu")
    response = city_client.get("/no-such-page")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = city_client.get("/__boom")
    assert response.status_code == 500 and "系统内部错误" in response.get_data(as_text=True)


def test_413_page_is_chinese(app, city_client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = city_client.post("/account/password", data={"current_password": "x" * 5000})
    assert response.status_code == 413
    assert "提交的内容过大" in response.get_data(as_text=True)


def test_403_page_is_chinese(app):
    from flask import abort

    @app.route("/__forbidden")
    def forbidden():
        abort(403)

    city_client = logged_in_client(app, "chengdu")
    response = city_client.get("/__forbidden")
    assert response.status_code == 403 and "没有权限" in response.get_data(as_text=True)


def test_audit_trail_lists_and_filters(app, client, auditor_client, province_client, city_client, other_city_client):
    from helpers import login
    login(client, "chengdu", "bad")
    login(app.test_client(), "mianyang", "bad")
    page = auditor_client.get("/audit/?username=chengdu").get_data(as_text=True)
    assert "登录失败" in page and "chengdu" in page and "mianyang" not in page
    # Log-in failures are security events: the auditor's alone, not the city's nor the province's.
    for reader in (city_client, province_client):
        assert "登录失败" not in reader.get("/audit/").get_data(as_text=True)
    # htmx filter returns the fragment alone.
    fragment = auditor_client.get("/audit/?action=auth.login_failed", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "登录失败" in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_clock_is_aware_shanghai():
    clock.set_now(None)
    assert str(clock.now().tzinfo) == "Asia/Shanghai"
    moment = datetime(2022, 3, 21, 15, 59, 59, tzinfo=clock.ZoneInfo("UTC"))
    clock.set_now(moment)
    assert clock.now().hour == 23 and clock.now() == moment
    clock.set_now(None)
    assert abs((clock.now() - datetime.now(clock.SHANGHAI)).total_seconds()) < 5
