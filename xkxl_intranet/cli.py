"""Command-line tools: ``flask --app xkxl_intranet <command>``."""
from __future__ import annotations

import click
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import or_, select

from .applications.evaluation import recount_all
from .auth.services import create_user
from .batches.settings import ensure_reference_data
from .domain.errors import Refused
from .extensions import db
from .notice.report import check_report
from .rounds.models import City
from .rounds.state import current_round


def register_cli(app: Flask) -> None:
    @app.cli.command("init-db")
    @click.option("--demo", is_flag=True, help="同时创建演示账号和演示数据（截止时间改为10天后）")
    def init_db(demo: bool) -> None:
        """升级数据库结构，载入21个市（州）和2022年批次，为未保存通知的批次补记通知；已有数据保留。"""
        upgrade()
        created = ensure_reference_data()
        db.session.commit()
        click.echo(f"数据库已就绪：新增市（州）{created['cities']} 个，新增批次 {created['rounds']} 个。")
        if created["notices"]:
            click.echo(f"已为 {created['notices']} 个批次保存通知（notices/2022.toml：此前的批次均按它运行）。")
        _recheck()
        if demo:
            report = _seed_demo()
            db.session.commit()
            round_ = current_round()
            assert round_ is not None  # the reference data above includes the current round
            click.echo(f"演示数据：{round_.title}，截止时间 {round_.deadline:%Y-%m-%d %H:%M}（北京时间）。")
            if report["created"]:
                click.echo("演示账号（用户名）：" + " ".join(report["created"]))
                click.echo(f"演示账号密码：{report['password']}")
            else:
                click.echo("演示账号已存在，密码未改变（可用 XKXL_DEMO_PASSWORD 在首次创建时指定）。")

    register_notice_check(app)

    @app.cli.command("recheck")
    def recheck() -> None:
        """按本版本的校核规则重新核对全部申报，更新列表中的错误和待确认提示数（升级后 init-db 会自动运行）。"""
        _recheck()

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["city", "province", "viewer", "expert"]), required=True)
    @click.option("--city", "city_name", default=None, help="市（州）名称、拼音或行政区划代码")
    @click.option("--name", "display_name", default="", help="姓名或名称")
    def create_user_command(username: str, role: str, city_name: str | None, display_name: str) -> None:
        """创建账号并打印初始密码；首次登录须修改密码。"""
        city = None
        if city_name:
            city = db.session.scalar(select(City).where(
                or_(City.name == city_name, City.pinyin == city_name, City.code == city_name)))
            if city is None:
                raise click.ClickException(f"找不到市（州）“{city_name}”")
        try:
            user, password = create_user(None, username=username,
                                         display_name=display_name or username, role=role, city=city)
        except Refused as err:
            raise click.ClickException(err.message) from err
        db.session.commit()
        click.echo(f"已创建账号 {user.username}，初始密码：{password}（首次登录须修改）")


def register_notice_check(app: Flask) -> None:
    @app.cli.command("notice-check")
    @click.argument("paths", nargs=-1, required=True)
    def notice_check(paths: tuple[str, ...]) -> None:
        """检查通知文件（notices/<年度>.toml）能否用于开启批次：逐条列出问题，或显示所声明的内容和摘要；有问题时退出码为 1。"""
        usable = True
        for path in paths:
            ok, lines = check_report(path)
            usable = usable and ok
            for line in lines:
                click.echo(line)
        if not usable:
            raise SystemExit(1)


def _seed_demo() -> dict:
    """The demo data. Imported here, not at the top: the demo writes its 申报书 with python-docx
    and reads them back at once (its batches are reported, which waits for readings), so only
    `init-db --demo` loads the document readers; the web process, which registers these
    commands, never does (docs/architecture.md, "Jobs")."""
    from .demo import seed_demo

    return seed_demo()


def _recheck() -> None:
    changed = recount_all()
    db.session.commit()
    if changed:
        click.echo(f"已按本版本的校核规则重新核对申报：{changed} 份申报的错误或提示数有变化。")
