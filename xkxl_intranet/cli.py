"""Command-line tools: ``flask --app xkxl_intranet <command>``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import select

from .applications.evaluation import recount_all
from .auth.models import Role, User
from .auth.services import create_user
from .batches.reminders import reminder_settings, send_due_reminders
from .batches.round_notice import kept_notice_toml
from .batches.settings import ensure_reference_data, open_round
from .clock import now
from .domain.city_names import CityKey, matching_cities
from .domain.errors import Refused
from .extensions import db
from .notice.loader import NoticeError, load_notice
from .notice.report import check_report
from .rounds.models import City, Round
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
            try:
                report = _seed_demo()
            except Refused as err:  # XKXL_DEMO_PASSWORD that the password policy refuses
                db.session.rollback()
                raise click.ClickException(err.message) from err
            db.session.commit()
            round_ = current_round()
            assert round_ is not None  # the reference data above includes the current round
            click.echo(f"演示数据：{round_.title}，截止时间 {round_.deadline:%Y-%m-%d %H:%M}（北京时间）。")
            if report["created"]:
                click.echo("演示账号（用户名）：" + " ".join(report["created"]))
                click.echo("三权分立：province 省厅（业务）· admin 系统管理员（账号管理、系统设置与状态）"
                           " · auditor 安全审计员（审计日志）")
                click.echo(f"演示账号密码：{report['password']}")
            else:
                click.echo("演示账号已存在，密码未改变（可用 XKXL_DEMO_PASSWORD 在首次创建时指定）。")

    register_notice_check(app)
    register_notifications_cli(app)

    @app.cli.command("recheck")
    def recheck() -> None:
        """按本版本的校核规则重新核对全部申报，更新列表中的错误和待确认提示数（升级后 init-db 会自动运行）。"""
        _recheck()

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice([role.value for role in Role]), required=True,
                  help="city 市（州）、province 省厅、viewer 只读、expert 评审专家、admin 系统管理员、auditor 安全审计员")
    @click.option("--city", "city_name", default=None, help="市（州）名称（可简写，如 成都、凉山州）、拼音或行政区划代码")
    @click.option("--name", "display_name", default="", help="姓名或名称")
    def create_user_command(username: str, role: str, city_name: str | None, display_name: str) -> None:
        """创建账号并打印初始密码；首次登录须修改密码。"""
        city = None
        if city_name:
            everyone = {CityKey(c.name, c.pinyin, c.code): c for c in db.session.scalars(select(City))}
            found = matching_cities(city_name, list(everyone))
            if not found:
                raise click.ClickException(f"找不到市（州）“{city_name}”：请写名称（成都市或成都）、拼音（chengdu）"
                                           "或行政区划代码（510100）")
            if len(found) > 1:
                raise click.ClickException(f"“{city_name}”可指{'、'.join(c.name for c in found)}：请写全名称")
            city = everyone[found[0]]
        try:
            user, password = create_user(None, username=username,
                                         display_name=display_name or username, role=role, city=city)
        except Refused as err:
            raise click.ClickException(err.message) from err
        db.session.commit()
        click.echo(f"已创建账号 {user.username}，初始密码：{password}（首次登录须修改）")


def register_notice_check(app: Flask) -> None:
    """``flask notice check|export|open`` (docs/notices.md), and ``flask notice-check``, the name
    ``check`` had before the group (deploy scripts and notes may still say it)."""
    notice = AppGroup("notice", help="通知文件：检查、导出批次保存的通知、依据通知开启新批次（docs/notices.md）。")
    app.cli.add_command(notice)
    notice.add_command(_check_command("check"))
    app.cli.add_command(_check_command("notice-check"))

    @notice.command("export")
    @click.argument("year", type=int)
    @click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
    def export_notice(year: int, folder: Path) -> None:
        """把某年度批次开启时保存的通知写成通知文件（FOLDER/<年度>.toml），并显示其路径：下一年度的文件可由它改起。"""
        round_ = db.session.scalar(select(Round).where(Round.year == year))
        if round_ is None:
            years = "、".join(str(y) for y in db.session.scalars(select(Round.year).order_by(Round.year)))
            raise click.ClickException(f"没有{year}年的申报批次（现有批次：{years or '无'}）。")
        text = kept_notice_toml(round_)
        if text is None:
            raise click.ClickException(f"{year}年的批次没有可导出的通知：请先运行 flask init-db 补记，"
                                       "或在「申报批次」页打开该批次的「通知」查看原因。")
        target = folder / f"{year}.toml"
        if target.exists():
            raise click.ClickException(f"{target} 已存在，未覆盖：请换一个目录，或先移走该文件。")
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        click.echo(str(target))

    @notice.command("open")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--user", "username", default=None, help="以该省厅账号的名义开启（审计记录写明）；不写则记为系统")
    @click.option("--confirm-replace", is_flag=True,
                  help="当前批次尚未结束（截止时间未到或有待受理的报送）时仍开启：开启后各页面只显示新批次")
    def open_notice(path: Path, username: str | None, confirm_replace: bool) -> None:
        """依据通知文件开启新批次，与「申报批次」页的「开启新年度批次」相同：新批次成为当前批次并保存该通知。"""
        user = None
        if username is not None:
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None or not user.is_province:
                raise click.ClickException(f"“{username}”不是省厅账号：只有省厅账号可以开启新批次。")
        try:
            notice_ = load_notice(path)
            round_ = open_round(user, notice_, notice_file=str(path), confirm_replace=confirm_replace)
        except NoticeError as error:
            raise click.ClickException("\n".join([f"{path}：有 {len(error.problems)} 处问题，未开启批次",
                                                  *(f"  - {problem}" for problem in error.problems)])) from error
        except Refused as error:
            db.session.rollback()
            raise click.ClickException(error.message) from error
        db.session.commit()
        click.echo(f"已开启新批次：{round_.title}（{round_.year}年），截止 {round_.deadline:%Y-%m-%d %H:%M}（北京时间），"
                   f"通知摘要 {round_.notice_digest}。各市（州）和账号沿用。")


def _check_command(name: str) -> click.Command:
    @click.command(name)
    @click.argument("paths", nargs=-1, required=True)
    def notice_check(paths: tuple[str, ...]) -> None:
        """检查通知文件（notices/<年度>.toml）能否用于开启批次：逐条列出问题，或显示所声明的内容和摘要；有问题时退出码为 1。"""
        usable = True
        for path in paths:
            ok, lines = check_report(path, now())
            usable = usable and ok
            for line in lines:
                click.echo(line)
        if not usable:
            raise SystemExit(1)
    return notice_check


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


def register_notifications_cli(app: Flask) -> None:
    """``flask notifications remind``: the scheduled reminders the worker sends every few minutes
    (batches/reminders.py), for cron or a test; running it again sends nothing twice."""
    group = AppGroup("notifications", help="站内通知：发送到期的提醒（报送截止、评审截止、密码到期）。")
    app.cli.add_command(group)

    @group.command("remind")
    def remind() -> None:
        """发送当前到期的提醒；已发送过的不再重复。"""
        done = send_due_reminders(now(), **reminder_settings(app.config))
        db.session.commit()
        click.echo(f"已发送 {done.total} 条提醒。")

