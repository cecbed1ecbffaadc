"""``flask --app xkxl_intranet backup DEST`` and ``flask --app xkxl_intranet restore ARCHIVE``."""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask, current_app

from ..clock import now
from ..domain.errors import Refused
from ..extensions import db
from ..filenames import human_size
from ..files.cli import verify_storage
from ..files.storage import upload_root
from ..generated import clear_folder
from .archive import Manifest
from .audit_cli import register_audit_cli
from .backup import AUTO, KINDS, BackupResult, Progress, make_backup
from .chain import prune
from .restore import restore_backup


class TerminalProgress(Progress):
    """Steps as lines; a progress bar with percentage and time left on a terminal (only the
    label when the output goes to a log, e.g. from cron)."""

    def step(self, message: str) -> None:
        click.echo(message)

    @contextlib.contextmanager
    def bar(self, total: int, label: str) -> Iterator[Callable[[int], None]]:
        with click.progressbar(length=max(total, 1), label=label, show_eta=True, show_percent=True,
                               update_min_steps=max(total // 200, 1)) as bar:
            yield bar.update


def _app_version() -> str:
    try:
        return metadata.version("xkxl_intranet")
    except metadata.PackageNotFoundError:
        return ""


def _contents(manifest: Manifest) -> str:
    counts = manifest.counts
    return (f"{counts.get('application', 0)} 份申报，{counts.get('stored_file', 0)} 条文件记录，"
            f"{counts.get('user_account', 0)} 个账号，{counts.get('audit_event', 0)} 条审计记录；"
            f"数据库结构版本 {manifest.revision or '（空）'}")


def schema_note(revision: str | None) -> str | None:
    """What the operator does next when the backup's schema is not this program's."""
    config = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(config.migrate.get_config(config.directory))
    head = script.get_current_head()
    if revision == head:
        return None
    try:
        known = revision is None or script.get_revision(revision) is not None
    except CommandError:
        known = False
    if known:
        return (f"备份的数据库结构版本 {revision} 比本程序（{head}）旧：请运行 "
                "flask --app xkxl_intranet db upgrade（或 init-db）升级后再启动服务。")
    return (f"备份的数据库结构版本 {revision} 本程序不认识（比本程序新？）：请安装做备份时的程序版本"
            "或更新的版本，不要在此版本上启动服务。")


def _described(result: BackupResult) -> str:
    if result.base is None:
        return f"完整备份完成（{result.blobs_written} 个上传文件）"
    return (f"增量备份完成（新写入 {result.blobs_written} 个上传文件，{result.blobs_in_chain} 个已在备份链中；"
            f"基于 {result.base.path.name}，完整备份为 {result.base.full_name}）")


def _report_backup_problems(manifest: Manifest) -> bool:
    for member in manifest.missing:
        click.echo(f"警告：数据库有记录但存储中缺失，未能备份：{member}")
    for member in manifest.damaged:
        click.echo(f"警告：存储中的文件与记录的 SHA-256 不一致（已按现状备份）：{member}")
    if manifest.missing or manifest.damaged:
        click.echo("备份已写入，但数据本身有问题：请运行 flask --app xkxl_intranet verify-files 查看。")
        return True
    return False


def register_cli(app: Flask) -> None:
    register_audit_cli(app)
    _register_backup(app)
    _register_restore(app)


def _register_backup(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("dest", type=click.Path(path_type=Path))
    @click.option("--kind", type=click.Choice(KINDS), default=AUTO, show_default=True,
                  help="auto：DEST 为目录且其中有可用的备份链时做增量备份，否则完整备份；"
                       "full：完整备份；incremental：增量备份，没有可用的备份链时报错")
    def backup(dest: Path, kind: str) -> None:
        """备份：数据库和它引用的全部上传文件写入一个归档（含每个文件 SHA-256 的清单）。

        服务运行中也可以备份，内容为同一时刻的数据。DEST 为文件名（.tar、.tar.gz 或 .tgz），
        或一个目录（在其中按时间命名）。备份到目录时，上传文件按内容的 SHA-256 只写入备份链
        （最近 XKXL_BACKUP_FULL_DAYS 天内的完整备份及其后的增量备份）中还没有的；每个备份都含
        完整的数据库。归档权限为 600：其中有密码散列和密钥。"""
        try:
            result = make_backup(dest, database_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
                                 upload_root=upload_root(),
                                 config_file=Path(current_app.instance_path) / "config.py",
                                 audit_key_file=Path(current_app.config["AUDIT_KEY_FILE"]),
                                 progress=TerminalProgress(), app_version=_app_version(), kind=kind,
                                 full_every_days=current_app.config["BACKUP_FULL_DAYS"])
        except Refused as err:
            raise click.ClickException(err.message) from err
        click.echo(f"{_described(result)}：{result.path}（{human_size(result.size)}）")
        click.echo(f"内容：{_contents(result.manifest)}")
        click.echo(f"SHA-256：{result.sha256}（另存于 {result.path.name}.sha256）")
        if _report_backup_problems(result.manifest):
            sys.exit(1)

    @app.cli.command("backup-prune")
    @click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
    @click.option("--keep-days", type=click.IntRange(min=1), required=True,
                  help="保留天数：备份链中最新的备份超过这个天数，整条链才删除")
    def backup_prune(folder: Path, keep_days: int) -> None:
        """删除 FOLDER 中超过保留天数的备份，按备份链整条删除：完整备份要等到其后的增量备份
        都过期才删除，最新的一条链总是保留。"""
        pruned = prune(folder, keep_days=keep_days, moment=now())
        for chain in pruned:
            click.echo(f"已删除备份链 {chain.full_name}：{len(chain.paths)} 个备份文件")
        if not pruned:
            click.echo(f"没有超过 {keep_days} 天的备份链需要删除")


def _register_restore(app: Flask) -> None:
    @app.cli.command("restore")
    @click.argument("archive", type=click.Path(path_type=Path))
    @click.option("--force", is_flag=True,
                  help="实例已有数据或仍被使用时也恢复（被替换的数据库和文件另存在实例目录中）")
    @click.option("--chain-dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
                  help="增量备份所依赖的完整备份等所在的目录（默认与 ARCHIVE 同一目录）")
    def restore(archive: Path, force: bool, chain_dir: Path | None) -> None:
        """恢复备份到空的实例：先核对归档中每个文件的 SHA-256，全部一致才写入；增量备份连同它所
        依赖的备份一起读取和核对。最后核对恢复的文件（verify-files）。"""
        if not archive.is_file():
            raise click.ClickException(f"备份文件（ARCHIVE）{archive} 不存在或不是文件")
        db.session.remove()
        db.engine.dispose()
        try:
            result = restore_backup(archive, database_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
                                    upload_root=upload_root(), instance_path=Path(current_app.instance_path),
                                    force=force, progress=TerminalProgress(),
                                    audit_key_file=Path(current_app.config["AUDIT_KEY_FILE"]),
                                    chain_dir=chain_dir)
        except Refused as err:
            raise click.ClickException(err.message) from err
        db.engine.dispose()
        click.echo(f"已恢复 {result.manifest.created_at} 的备份：{_contents(result.manifest)}")
        if result.chain_read:
            click.echo("按备份链恢复，另读取并核对了：" + "、".join(path.name for path in result.chain_read))
        forgotten = clear_folder(current_app.config["GENERATED_FOLDER"])
        if forgotten:
            click.echo(f"已清除恢复前生成的 {forgotten} 个报表、回执等文件（下载时按恢复的数据重新生成）。")
        for path in result.kept:
            click.echo(f"原有数据另存为：{path}")
        if note := schema_note(result.manifest.revision):
            click.echo(note)
        if result.forced_while_live:
            click.echo("恢复时实例仍被使用：请立即重启服务（systemctl restart xkxl）。")
        click.echo("核对恢复的文件（verify-files）：")
        if verify_storage():
            sys.exit(1)
