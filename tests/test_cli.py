from xkxl_intranet.auth.models import User
from xkxl_intranet.extensions import db
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
