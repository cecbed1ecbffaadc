"""``flask --app xkxl_intranet verify-files``: does the storage hold exactly what the rows say?"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import inspect, select, text

from ..clock import SHANGHAI
from ..extensions import db
from ..filenames import human_size
from .models import StoredFile
from .owners import FILE_TABLES
from .storage import Leftover, StorageScan, path_for, scan_storage, upload_root
from .zipstream import sha256_file


@dataclass
class _Tally:
    rows: int = 0
    intact: int = 0
    problems: int = 0
    known: set[str] = field(default_factory=set)  # storage names that have a row


def _row_problem(root: Path, label: str, storage_name: str, size: int, digest: str, *,
                 quick: bool) -> str | None:
    """What is wrong with the file of one row (``label``: which row), or ``None``."""
    try:
        path = path_for(storage_name, root)
    except ValueError:
        return f"无效存储名：{label}的存储名 {storage_name!r} 不合法"
    if not path.is_file():
        return f"缺失：{label}（{path}）"
    actual_size = path.stat().st_size
    if actual_size != size:
        return f"大小不一致：{label} 记录 {size} 字节，实际 {actual_size} 字节"
    if not quick and sha256_file(path) != digest:
        return f"SHA-256 不一致：{label}（{path}）"
    return None


def _check_rows(root: Path, tally: _Tally, *, quick: bool) -> None:
    rows = [(f"文件 #{file_id}“{name}”", storage_name, size, digest) for file_id, storage_name, size, digest, name in
            db.session.execute(select(StoredFile.id, StoredFile.storage_name, StoredFile.size,
                                      StoredFile.sha256, StoredFile.original_name)
                               .order_by(StoredFile.id)).all()]
    rows += _rows_of_other_owners()
    tally.rows = len(rows)
    for label, storage_name, size, digest in rows:
        tally.known.add(storage_name)
        problem = _row_problem(root, label, storage_name, size, digest, quick=quick)
        if problem is None:
            tally.intact += 1
        else:
            click.echo(problem)
            tally.problems += 1


def _rows_of_other_owners() -> list[tuple[str, str, int, str]]:
    """The rows of the other tables that own stored bytes (files/owners.py), read by name."""
    present = set(inspect(db.engine).get_table_names())
    rows = []
    for table, label in FILE_TABLES.items():
        if table == StoredFile.__tablename__ or table not in present:
            continue
        for row_id, storage_name, size, digest, name in db.session.execute(text(
                f'SELECT id, storage_name, size, sha256, original_name FROM "{table}" ORDER BY id')):
            rows.append((f"{label} #{row_id}“{name}”", storage_name, size, digest))
    return rows


def _remove(path: Path) -> str | None:
    try:
        os.unlink(path)
    except OSError as err:
        return str(err)
    return None


KIND_LABELS = {"orphan": "孤立文件（无记录对应）", "temp": "临时文件（上传未完成）",
               "pin": "备份临时链接"}


def _settle(item: Leftover, *, delete_orphans: bool, grace_minutes: int) -> tuple[str, bool]:
    """Deal with one leftover as the grace period allows; (what was done, is it a problem)."""
    if item.kind == "pin":
        return "备份进行中或被中断时留下的硬链接，不占额外空间；下次备份时清理", False
    if not item.old:
        return f"写入不足 {grace_minutes} 分钟，可能正在上传，未处理", False
    if item.kind == "temp":
        failed = _remove(item.path)
        return (f"无法清理：{failed}", True) if failed else ("上传中断留下，已清理", False)
    if not delete_orphans:
        return "未删除（--delete-orphans 删除）", True
    failed = _remove(item.path)
    return (f"无法删除：{failed}", True) if failed else ("已删除", False)


def _check_storage(scan: StorageScan, tally: _Tally, *, delete_orphans: bool,
                   grace_minutes: int) -> None:
    """One section for every file no row points at, whatever its age, so that right after a
    crash the operator sees what it left; only files older than the grace period are removed."""
    if not scan.leftovers:
        return
    click.echo(f"存储中无记录对应的文件 {len(scan.leftovers)} 个（不论新旧都列出；"
               "服务已停止时，它们就是崩溃或中断留下的）：")
    for item in scan.leftovers:
        done, problem = _settle(item, delete_orphans=delete_orphans, grace_minutes=grace_minutes)
        written = datetime.fromtimestamp(item.mtime, SHANGHAI)
        click.echo(f"  {KIND_LABELS[item.kind]}：{item.path}（{human_size(item.size)}，"
                   f"{written:%Y-%m-%d %H:%M:%S} 写入）— {done}")
        tally.problems += problem
    if any(not item.old and item.kind != "pin" for item in scan.leftovers):
        click.echo(f"  最近 {grace_minutes} 分钟内写入的文件不计为问题；服务已停止时可用 "
                   "--grace-minutes 0 立即清理临时文件（加 --delete-orphans 同时删除孤立文件）。")


def verify_storage(*, quick: bool = False, delete_orphans: bool = False, grace_minutes: int = 60) -> int:
    """Check every row's file and list what no row points at; returns the number of problems."""
    root = upload_root()
    tally = _Tally()
    _check_rows(root, tally, quick=quick)
    scan = scan_storage(root, tally.known, grace_seconds=grace_minutes * 60)
    _check_storage(scan, tally, delete_orphans=delete_orphans, grace_minutes=grace_minutes)
    click.echo(f"共 {tally.rows} 条文件记录，{tally.intact} 个完好；发现问题 {tally.problems} 个。")
    return tally.problems


def register_cli(app: Flask) -> None:
    @app.cli.command("verify-files")
    @click.option("--quick", is_flag=True, help="只比较文件大小，不重新计算 SHA-256")
    @click.option("--delete-orphans", is_flag=True,
                  help="删除没有记录对应、且早于宽限期的孤立文件（默认只报告）")
    @click.option("--grace-minutes", default=60, show_default=True, type=int,
                  help="比这更新的临时文件和孤立文件可能正在上传：照样列出，但不清理、不删除")
    def verify_files(quick: bool, delete_orphans: bool, grace_minutes: int) -> None:
        """核对上传文件：记录对应的文件是否缺失、SHA-256 是否一致；列出存储中没有记录对应的
        文件和临时文件（不论新旧，崩溃后立即可查），清理早于宽限期的临时文件。
        发现问题时以非零状态退出。"""
        if grace_minutes < 0:
            raise click.ClickException(f"宽限期 --grace-minutes 不能为负数：{grace_minutes}")
        if verify_storage(quick=quick, delete_orphans=delete_orphans, grace_minutes=grace_minutes):
            sys.exit(1)
