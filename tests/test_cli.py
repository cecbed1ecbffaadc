from datetime import datetime
from pathlib import Path

import pytest

from xkxl_intranet import clock
from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.auth.models import User
from xkxl_intranet.domain.city_names import CityKey, matching_cities
from xkxl_intranet.extensions import db
from xkxl_intranet.notice.loader import load_notice
from xkxl_intranet.notice.shipped import FIRST_NOTICE
from xkxl_intranet.rounds.models import Round


def test_init_db_demo_creates_accounts_and_moves_deadline(app, monkeypatch):
    monkeypatch.setenv("XKXL_DEMO_PASSWORD", "Demo-pass-2022")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0, result.output
    assert "演示账号密码：Demo-pass-2022" in result.output
    with app.app_context():
        names = set(db.session.scalars(db.select(User.username)))
        for name in ("province", "viewer", "chengdu", "zigong", "panzhihua", "luzhou", "deyang",
                     "mianyang", "guangyuan", "suining", "neijiang", "leshan", "nanchong", "meishan",
                     "yibin", "guangan", "dazhou", "yaan", "bazhong", "ziyang", "aba", "ganzi",
                     "liangshan"):
            assert name in names
        round_ = db.session.scalar(db.select(Round))
        assert round_.is_demo and round_.deadline.year >= 2024
        first_deadline = round_.deadline
    # Again: nothing lost, nothing moved, the password is not reprinted.
    result = runner.invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0 and "已存在" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(Round)).deadline == first_deadline


def test_demo_pages_say_demo(app, city_client):
    with app.app_context():
        db.session.scalar(db.select(Round)).is_demo = True
        db.session.commit()
    assert "演示数据" in city_client.get("/").get_data(as_text=True)
    assert "演示数据" in app.test_client().get("/login").get_data(as_text=True)


def test_create_user_command(app):
    result = app.test_cli_runner().invoke(args=["create-user", "zigong2", "--role", "city",
                                                "--city", "自贡市", "--name", "自贡市经信局"])
    assert result.exit_code == 0, result.output
    assert "首次登录须修改" in result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "zigong2"))
        assert user.city.name == "自贡市" and user.must_change_password
    bad = app.test_cli_runner().invoke(args=["create-user", "x1", "--role", "city", "--city", "纽约"])
    assert bad.exit_code != 0 and "找不到" in bad.output


def test_create_user_takes_a_city_by_its_short_name(app):
    """The help says 名称、拼音: 成都 for 成都市, 凉山 and 凉山州 for 凉山彝族自治州, 阿坝州 …; an
    ambiguous or unknown one is refused, naming the cities it could mean."""
    typed = {"成都": "成都市", "凉山": "凉山彝族自治州", "凉山州": "凉山彝族自治州", "阿坝州": "阿坝藏族羌族自治州",
             "甘孜": "甘孜藏族自治州", "Chengdu": "成都市", "510300": "自贡市", "自贡市": "自贡市"}
    runner = app.test_cli_runner()
    for number, (city, full) in enumerate(typed.items()):
        made = runner.invoke(args=["create-user", f"short{number}", "--role", "city", "--city", city])
        assert made.exit_code == 0, (city, made.output)
        with app.app_context():
            assert db.session.scalar(db.select(User).where(User.username == f"short{number}")).city.name == full
    for unclear in ("广", "市"):  # 广元市 and 广安市: one character names no city
        refused = runner.invoke(args=["create-user", "x2", "--role", "city", "--city", unclear])
        assert refused.exit_code != 0 and "找不到" in refused.output


def test_an_ambiguous_short_name_lists_the_cities_it_could_mean():
    cities = [CityKey("广元市", "guangyuan", "510800"), CityKey("广安市", "guangan", "511600"),
              CityKey("成都市", "chengdu", "510100")]
    assert [c.name for c in matching_cities("广元", cities)] == ["广元市"]
    assert [c.name for c in matching_cities("成都市", cities)] == ["成都市"]
    twins = [CityKey("南充市", "nanchong", "1"), CityKey("南充县", "nanchongx", "2")]
    assert [c.name for c in matching_cities("南充", twins)] == ["南充市", "南充县"]
    assert matching_cities("", cities) == [] and matching_cities("广", cities) == []


def test_the_demo_and_the_command_line_know_the_administrator_and_the_auditor(app, monkeypatch):
    monkeypatch.setenv("XKXL_DEMO_PASSWORD", "Demo-pass-2022")
    with app.app_context():  # the test accounts of these roles make way for the demo's
        for name in ("admin", "auditor"):
            db.session.delete(db.session.scalar(db.select(User).where(User.username == name)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0, result.output
    created = result.output.split("演示账号（用户名）：")[1].split("\n")[0].split()
    assert "admin" in created and "auditor" in created
    assert "admin 系统管理员" in result.output and "auditor 安全审计员" in result.output
    with app.app_context():
        roles = dict(db.session.execute(db.select(User.username, User.role)).all())
    assert roles["admin"] == "admin" and roles["auditor"] == "auditor"
    made = app.test_cli_runner().invoke(args=["create-user", "shenji", "--role", "auditor", "--name", "审计员"])
    assert made.exit_code == 0, made.output
    with app.app_context():
        assert db.session.scalar(db.select(User.role).where(User.username == "shenji")) == "auditor"


# ---------------------------------------------------------------- flask notice …

NEXT_YEAR_FILE = Path(__file__).resolve().parent / "notices" / "2023.toml"


@pytest.fixture
def after_2022():
    """The 2022 round is over (its deadline passed, nothing waits for 受理): a new round opens."""
    clock.set_now(datetime(2023, 5, 8, 9, 0, tzinfo=clock.SHANGHAI))
    yield
    clock.set_now(None)


def _rounds(app) -> dict[int, tuple[bool, str | None]]:
    with app.app_context():
        return {r.year: (r.is_current, r.notice_digest) for r in db.session.scalars(db.select(Round))}


def _opened_events(app) -> list[tuple[int | None, str, str]]:
    with app.app_context():
        return [(e.user_id, e.username, e.summary) for e in db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "round.opened").order_by(AuditEvent.id))]


def test_notice_check_and_its_old_name(app, tmp_path):
    bad = tmp_path / "2024.toml"
    bad.write_text(NEXT_YEAR_FILE.read_text(encoding="utf-8").replace("form_copies = 2", "form_copies = 0"),
                   encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notice", "check", str(NEXT_YEAR_FILE), str(bad)])
    assert result.exit_code == 1
    assert f"{NEXT_YEAR_FILE}：可以使用。2023年跨行业跨领域工业互联网平台" in result.output
    line = bad.read_text(encoding="utf-8").splitlines().index("form_copies = 0") + 1
    assert f"{bad}：有 1 处问题，不能使用\n  - 第{line}行 [paper]：“form_copies” = 0 份数应在1到10之间\n" in result.output
    assert runner.invoke(args=["notice-check", str(NEXT_YEAR_FILE), str(bad)]).output == result.output
    assert runner.invoke(args=["notice", "check", str(NEXT_YEAR_FILE)]).exit_code == 0


def test_notice_export_writes_the_kept_notice_and_says_where(app, tmp_path):
    runner = app.test_cli_runner()
    folder = tmp_path / "out"
    result = runner.invoke(args=["notice", "export", "2022", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{folder / '2022.toml'}\n"
    exported = load_notice(folder / "2022.toml")
    assert exported == load_notice(FIRST_NOTICE) and exported.digest == _rounds(app)[2022][1]
    again = runner.invoke(args=["notice", "export", "2022", str(folder)])
    assert again.exit_code != 0 and "已存在，未覆盖" in again.output
    unknown = runner.invoke(args=["notice", "export", "1999", str(folder)])
    assert unknown.exit_code != 0 and "没有1999年的申报批次（现有批次：2022）" in unknown.output


def test_notice_open_opens_a_round_as_the_page_does(app, after_2022):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notice", "open", str(NEXT_YEAR_FILE)])
    assert result.exit_code == 0, result.output
    assert "已开启新批次：2023年跨行业跨领域工业互联网平台（2023年），截止 2023-06-30 17:00" in result.output
    digest = load_notice(NEXT_YEAR_FILE).digest
    assert _rounds(app) == {2022: (False, _rounds(app)[2022][1]), 2023: (True, digest)}
    [(user_id, username, summary)] = _opened_events(app)
    assert (user_id, username) == (None, "")  # the system
    assert f"依据通知 {NEXT_YEAR_FILE}（摘要 {digest}）" in summary
    # the same file again: that year exists
    again = runner.invoke(args=["notice", "open", str(NEXT_YEAR_FILE)])
    assert again.exit_code != 0 and "2023年的申报批次已存在" in again.output
    assert len(_opened_events(app)) == 1


def test_notice_open_refuses_a_broken_file_and_a_non_province_user(app, after_2022, tmp_path):
    runner = app.test_cli_runner()
    broken = tmp_path / "2023.toml"
    broken.write_text(NEXT_YEAR_FILE.read_text(encoding="utf-8").replace('value = "served_industry"',
                                                                          'value = "served_industri"'),
                      encoding="utf-8")
    result = runner.invoke(args=["notice", "open", str(broken)])
    assert result.exit_code != 0
    assert f"{broken}：有 1 处问题，未开启批次" in result.output and "served_industri" in result.output
    city = runner.invoke(args=["notice", "open", str(NEXT_YEAR_FILE), "--user", "chengdu"])
    assert city.exit_code != 0 and "“chengdu”不是省厅账号" in city.output
    assert 2023 not in _rounds(app) and _opened_events(app) == []
    province = runner.invoke(args=["notice", "open", str(NEXT_YEAR_FILE), "--user", "province"])
    assert province.exit_code == 0, province.output
    assert [username for _, username, _ in _opened_events(app)] == ["province"]


def test_notice_open_asks_before_replacing_a_round_still_running(app):
    clock.set_now(datetime(2022, 3, 19, 12, 0, tzinfo=clock.SHANGHAI))  # 2022's reporting still open
    try:
        runner = app.test_cli_runner()
        refused = runner.invoke(args=["notice", "open", str(NEXT_YEAR_FILE)])
        assert refused.exit_code != 0 and "尚未结束：报送截止时间" in refused.output
        assert _rounds(app)[2022][0] and 2023 not in _rounds(app)
        confirmed = runner.invoke(args=["notice", "open", str(NEXT_YEAR_FILE), "--confirm-replace"])
        assert confirmed.exit_code == 0, confirmed.output
        assert _rounds(app)[2023][0]
    finally:
        clock.set_now(None)
