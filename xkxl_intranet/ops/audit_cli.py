"""``flask audit verify`` and ``flask audit archive --before DATE DEST``: the auditor's tools."""
from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..audit.archive import archive_before, verify
from ..audit.chain import chain_key
from ..clock import SHANGHAI, now
from ..domain.errors import Refused

audit_cli = AppGroup("audit", help="审计记录：核对散列链、归档旧记录。")


@audit_cli.command("verify")
@click.option("--archives", "archive_folder", type=click.Path(path_type=Path), default=None,
              help="同时核对此目录中的归档文件（SHA-256、签名和其中的链）")
def verify_command(archive_folder: Path | None) -> None:
    """逐条核对审计记录的散列链；有断裂时以非零状态退出，并指出第一处断裂。"""
    verdict = verify(chain_key(), archive_folder)
    click.echo(f"已核对 {verdict.checked} 条审计记录。")
    if verdict.broken is not None:  # no head to write down: the chain is not whole
        click.echo(verdict.broken.describe(), err=True)
        click.echo("散列链有断裂，以上为第一处；其后的记录未能确认。", err=True)
        sys.exit(1)
    click.echo("散列链完整。")
    click.echo(f"链头：序号 {verdict.head_seq}，散列 {verdict.head_hash or '（空）'}（请记下，下次核对时比对）")


@audit_cli.command("archive")
@click.option("--before", "before", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="此日期（北京时间0时）之前的记录移入归档，格式 2024-01-31")
@click.option("--expired", is_flag=True,
              help="按保留期限（AUDIT_RETENTION_DAYS）归档到 AUDIT_ARCHIVE_DIR（PostgreSQL 分权时由属主账号定时运行）")
@click.argument("dest", type=click.Path(path_type=Path), required=False)
def archive_command(before: datetime | None, expired: bool, dest: Path | None) -> None:
    """把 --before 之前的审计记录（链的开头一段）移入 DEST 中签名的归档文件，并从数据库中删除。"""
    config = current_app.config
    if expired:
        days = int(config["AUDIT_RETENTION_DAYS"])
        if days <= 0:
            click.echo("保留期限为 0（不自动归档），未归档。")
            return
        moment = now() - timedelta(days=days)
        dest = dest or Path(config["AUDIT_ARCHIVE_DIR"])
    elif before is None or dest is None:
        raise click.UsageError("请给出 --before 日期和归档目录 DEST，或使用 --expired")
    else:
        moment = datetime.combine(date(before.year, before.month, before.day), time.min, SHANGHAI)
    try:
        done = archive_before(moment, dest, chain_key())
    except Refused as err:
        raise click.ClickException(err.message) from err
    if done is None:
        click.echo(f"{moment:%Y-%m-%d %H:%M} 之前没有在线的审计记录，未归档。")
        return
    click.echo(f"已归档 {done.rows} 条审计记录（序号 {done.first_seq}–{done.last_seq}）：{done.file}")
    click.echo(f"签名：{done.file.name}.sig；核对：flask audit verify --archives {dest}")


def register_audit_cli(app: Flask) -> None:
    app.cli.add_command(audit_cli)



