"""三权分立 (issue 22, deliverable 4): the 系统管理员 manages accounts and reads the system's
settings and health, the 安全审计员 reads and exports the whole audit trail, the province does the
business; one duty per account unless the deployment sets COMBINED_DUTIES."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.scoping import scope_to_city
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import CityBatch
from xkxl_intranet.trail.queries import SECURITY_ACTION_PREFIXES, is_security_action

from helpers import audit_events, create_application, logged_in_client, login, user_by_name

BUSINESS_PAGES = ("/applications/", "/rounds/", "/rounds/dashboard", "/reports/", "/files/", "/review/ranking")


def _edit(client, user: User, **changes):
    data = {"display_name": user.display_name, "role": user.role, "city_id": str(user.city_id or ""),
            "phone": user.phone or "", "is_enabled": "y", **changes}
    if data["is_enabled"] is None:
        del data["is_enabled"]  # an unchecked box sends nothing
    return client.post(f"/admin/users/{user.id}", data=data)


# ---- the province: business, no accounts, no security events ------------------------------------

def test_the_province_manages_no_accounts_and_reads_no_security_events(app, client, province_client, admin_client):
    assert province_client.get("/admin/users").status_code == 404
    assert province_client.get("/admin/users/new").status_code == 404
    assert province_client.get("/admin/system").status_code == 404
    assert province_client.get("/audit/export.xlsx").status_code == 404
    login(client, "chengdu")  # a log-in (security) …
    login(app.test_client(), "mianyang", "wrong")  # … a failure (security) …
    create_application(app)  # … and a business event
    admin_client.post("/admin/users/new", data={"username": "li.ming", "display_name": "李明", "role": "viewer",
                                                "city_id": "", "phone": ""})  # an account change (security)
    trail = province_client.get("/audit/").get_data(as_text=True)
    assert "新建申报" in trail  # the business history stays the province's
    for label in ("登录成功", "登录失败", "创建账号", "查看审计日志"):
        assert label not in trail, label
    assert not re.search(r'<option value="(auth|account|audit)\.', trail)  # nor among the filter's choices
    # The city reads its own business history, without its own log-ins.
    city = logged_in_client(app, "chengdu").get("/audit/").get_data(as_text=True)
    assert "新建申报" in city and "登录成功" not in city


def test_the_security_actions_are_named_in_one_place():
    assert SECURITY_ACTION_PREFIXES == ("auth.", "account.", "audit.", "download.", "access.")
    assert is_security_action("auth.login_failed") and is_security_action("account.updated")
    assert is_security_action("audit.viewed") and not is_security_action("application.created")
    assert not is_security_action("file.uploaded") and not is_security_action("batch.reported")


# ---- the administrator: accounts and the system, nothing of the business ------------------------

def test_the_administrator_sees_no_business(app, admin_client):
    create_application(app)
    for url in (*BUSINESS_PAGES, "/audit/", "/audit/export.csv"):
        assert admin_client.get(url).status_code == 404, url
    home = admin_client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/admin/users"
    with app.app_context():
        for username in ("admin", "auditor"):
            user = db.session.scalar(select(User).where(User.username == username))
            assert db.session.scalars(scope_to_city(select(Application), Application.city_id, user)).all() == []
            assert db.session.scalars(scope_to_city(select(CityBatch), CityBatch.city_id, user)).all() == []


def test_the_administrator_creates_accounts_of_every_role(app, admin_client):
    form = admin_client.get("/admin/users/new").get_data(as_text=True)
    for role, label in (("admin", "系统管理员"), ("auditor", "安全审计员"), ("province", "省厅大数据与信息化处"),
                        ("city", "市（州）经信部门"), ("expert", "评审专家"), ("viewer", "只读（领导查阅）")):
        assert f'<option value="{role}">{label}</option>' in form
    created = admin_client.post("/admin/users/new", data={"username": "shenji2", "display_name": "审计员二",
                                                          "role": "auditor", "city_id": "", "phone": ""})
    assert created.status_code == 200 and "账号已创建" in created.get_data(as_text=True)
    assert audit_events(app, "account.created")[-1].after["role"] == "auditor"
    listed = admin_client.get("/admin/users").get_data(as_text=True)
    assert "安全审计员" in listed and "系统管理员" in listed


def test_the_last_enabled_administrator_is_kept(app, admin_client, province_client):
    admin = user_by_name(app, "admin")
    # Their own account: neither disabled nor demoted by themselves.
    refused = _edit(admin_client, admin, is_enabled=None).get_data(as_text=True)
    assert "不能停用自己的账号或修改自己的角色" in refused
    # Where the province may manage accounts too, it still cannot leave the system without one.
    app.config["COMBINED_DUTIES"] = True
    for change in ({"is_enabled": None}, {"role": "province"}):
        response = _edit(province_client, admin, **change)
        assert "至少保留一个启用的系统管理员账号" in response.get_data(as_text=True), change
    assert user_by_name(app, "admin").is_enabled and user_by_name(app, "admin").role == "admin"
    # With a second administrator, the first may go.
    admin_client.post("/admin/users/new", data={"username": "admin2", "display_name": "系统管理员二",
                                                "role": "admin", "city_id": "", "phone": ""})
    assert _edit(province_client, admin, is_enabled=None).status_code == 303
    assert not user_by_name(app, "admin").is_enabled
    second = user_by_name(app, "admin2")
    assert "至少保留一个启用的系统管理员账号" in _edit(province_client, second, role="viewer").get_data(as_text=True)


def test_the_system_page_shows_the_settings_in_effect_and_the_health(app, admin_client):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=30)
    app.config["LOGIN_GUESSES_PER_ADDRESS"] = 7
    app.config["PASSWORD_MAX_AGE_DAYS"] = 0
    app.config["LOGIN_FIRST_DELAY_SECONDS"] = 5
    page = admin_client.get("/admin/system").get_data(as_text=True)
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>", page))
    assert rows["空闲自动退出"] == "30分钟"
    assert rows["同一地址不计等待的登录失败"] == "7 次"
    assert rows["超出后首次等待（此后每次加倍）"] == "5秒" and rows["最长等待"] == "15分钟"
    assert rows["同一账号同时登录的会话上限"] == "3 个"
    assert rows["审计记录在线保存天数（之后移入签名归档）"] == "180 天"
    assert re.search(r"<td>审计记录散列链密钥文件</td><td><code>[^<]*audit-chain\.key</code>", page)
    assert rows["单个上传文件上限"] == "200 MB"
    assert rows["密码有效期"] == "不过期" and rows["省厅和系统管理员须用两步验证登录"] == "关闭"
    assert rows["省厅账号兼管账号和审计（三权合一）"] == "关闭"
    assert rows["会话最长时间（自登录起）"] == "12小时"
    with app.app_context():
        backend = db.engine.dialect.name  # sqlite, or postgresql under make test-postgres
    assert f"<code>{backend}</code>" in page and "剩余" in page and "后台任务队列" in page
    assert re.search(r"数据库结构版本</dt><dd><code>[0-9a-f]{12}</code>", page)


# ---- the auditor: the whole trail, its export, nothing else ---------------------------------------

def test_the_auditor_reads_the_whole_trail_and_nothing_else(app, client, auditor_client, admin_client):
    login(client, "chengdu")
    login(app.test_client(), "mianyang", "wrong")
    create_application(app)
    viewer = user_by_name(app, "viewer")
    _edit(admin_client, viewer, phone="028-86264000")
    auditor_client.get("/audit/")
    trail = auditor_client.get("/audit/?username=").get_data(as_text=True)  # the first look is on it
    for label in ("登录", "登录失败", "修改账号", "新建申报", "查看审计日志"):
        assert f"<td>{label}</td>" in trail, label
    # The objects are named but not linked: the auditor opens no account, application or batch.
    assert 'href="/admin/users/' not in trail and 'href="/applications/' not in trail
    for url in (*BUSINESS_PAGES, "/admin/users", "/admin/system"):
        assert auditor_client.get(url).status_code == 404, url
    home = auditor_client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/audit/"


def test_viewing_the_trail_is_recorded_once_per_filter_and_minute(app, auditor_client):
    start = clock.now()
    clock.set_now(start)
    auditor_client.get("/audit/")
    auditor_client.get("/audit/?page=2")  # the same filter
    auditor_client.get("/audit/?action=auth.login_failed", headers={"HX-Request": "true"})
    views = audit_events(app, "audit.viewed")
    assert [v.summary for v in views] == ["查看审计日志：全部记录", "查看审计日志：操作：登录失败"]
    assert views[0].username == "auditor"
    clock.set_now(start + timedelta(seconds=61))
    auditor_client.get("/audit/")
    assert len(audit_events(app, "audit.viewed")) == 3


def test_the_auditor_exports_the_filtered_trail(app, client, auditor_client):
    login(client, "chengdu", "wrong")
    login(client, "chengdu", "=HYPERLINK(\"http://evil\")")  # typed by a stranger: stays text
    login(client, "mianyang")
    create_application(app)
    workbook = auditor_client.get("/audit/export.xlsx?action=auth.login_failed")
    assert workbook.status_code == 200 and "attachment" in workbook.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "筛选：操作：登录失败" in rows[0][0] and "共 2 条" in rows[0][0]
    assert rows[1][:7] == ("时间", "用户名", "姓名/名称", "来源IP", "市（州）", "操作", "操作代码")
    assert [row[6] for row in rows[2:]] == ["auth.login_failed", "auth.login_failed"]
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=3) for cell in row if cell.value)
    exported = audit_events(app, "audit.exported")
    assert len(exported) == 1 and exported[0].summary == "导出审计日志（.xlsx，2 条）：操作：登录失败"

    text = auditor_client.get("/audit/export.csv?username=chengdu").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][0] == "时间" and len(lines) >= 3  # the titles first, as csv readers expect
    assert {line[6] for line in lines[1:]} >= {"auth.login_failed", "application.created"}
    assert not any(cell.startswith("=") for line in lines for cell in line)
    assert len(audit_events(app, "audit.exported")) == 2
    # The export link carries the filter shown.
    page = auditor_client.get("/audit/?username=chengdu").get_data(as_text=True)
    assert 'href="/audit/export.xlsx?username=chengdu"' in page


def test_an_export_too_large_is_refused_naming_the_date_boxes(app, auditor_client, monkeypatch):
    from xkxl_intranet.trail import reading

    monkeypatch.setattr(reading, "EXPORT_MAX_ROWS", 1)
    create_application(app)
    create_application(app)
    response = auditor_client.get("/audit/export.csv?username=chengdu")
    assert response.status_code == 303 and response.headers["Location"] == "/audit/?username=chengdu"
    assert "请用「从」「至」日期缩小范围" in auditor_client.get("/audit/?username=chengdu").get_data(as_text=True)
    assert audit_events(app, "audit.exported") == []


# ---- COMBINED_DUTIES: a small deployment's choice ----------------------------------------------

def test_combined_duties_give_the_province_accounts_and_the_whole_trail(app, client, province_client):
    login(client, "chengdu", "wrong")
    assert province_client.get("/admin/users").status_code == 404
    app.config["COMBINED_DUTIES"] = True
    assert province_client.get("/admin/users").status_code == 200
    assert province_client.get("/admin/system").status_code == 200
    trail = province_client.get("/audit/").get_data(as_text=True)
    assert "<td>登录失败</td>" in trail
    assert province_client.get("/audit/export.csv").status_code == 200
    home = province_client.get("/").get_data(as_text=True)
    assert "账号管理" in home and "系统设置与状态" in home and "全部申报" in home
    # The business pages stay the province's.
    assert province_client.get("/applications/").status_code == 200
