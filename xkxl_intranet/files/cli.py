"""``flask --app xkxl_intranet verify-files``: does the storage hold exactly what the rows say?"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from ..applications.document import read_pending_forms
from ..extensions import db
from .models import StoredFile
from .storage import StorageScan, path_for, scan_storage, upload_root
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
    rows = db.session.execute(select(StoredFile.id, StoredFile.storage_name, StoredFile.size,
                                     StoredFile.sha256, StoredFile.original_name)
                              .order_by(StoredFile.id)).all()
    tally.rows = len(rows)
    for file_id, storage_name, size, digest, name in rows:
        tally.known.add(storage_name)
        problem = _row_problem(root, f"文件 #{file_id}“{name}”", storage_name, size, digest,
                               quick=quick)
        if problem is None:
            tally.intact += 1
        else:
            click.echo(problem)
            tally.problems += 1


def _remove(path: Path, done: str, failed: str) -> bool:
    try:
        os.unlink(path)
    except OSError as err:
        click.echo(f"{failed}：{path}（{err}）")
        return False
    click.echo(f"{done}：{path}")
    return True


def _check_storage(scan: StorageScan, tally: _Tally, *, delete_orphans: bool,
                   grace_minutes: int) -> None:
    for path in scan.stale_tmp:
        if not _remove(path, "已清理过期临时文件", "无法清理临时文件"):
            tally.problems += 1
    for path in scan.orphans:
        if delete_orphans:
            if _remove(path, "已删除孤立文件", "无法删除孤立文件"):
                continue
        else:
            click.echo(f"孤立文件（无记录对应）：{path}")
        tally.problems += 1
    if scan.recent:
        click.echo(f"跳过 {len(scan.recent)} 个最近 {grace_minutes} 分钟内写入的文件（可能正在上传）")


def register_cli(app: Flask) -> None:
    @app.cli.command("verify-files")
    @click.option("--quick", is_flag=True, help="只比较文件大小，不重新计算 SHA-256")
    @click.option("--delete-orphans", is_flag=True,
                  help="删除没有记录对应的孤立文件（默认只报告）")
    @click.option("--grace-minutes", default=60, show_default=True, type=int,
                  help="比这更新的临时文件和未登记文件视为正在上传，不作判断")
    def verify_files(quick: bool, delete_orphans: bool, grace_minutes: int) -> None:
        """核对上传文件：记录对应的文件是否缺失、SHA-256 是否一致，存储中是否有孤立文件；
        清理上传中断留下的过期临时文件。发现问题时以非零状态退出。"""
        root = upload_root()
        tally = _Tally()
        _check_rows(root, tally, quick=quick)
        scan = scan_storage(root, tally.known, grace_seconds=grace_minutes * 60)
        _check_storage(scan, tally, delete_orphans=delete_orphans, grace_minutes=grace_minutes)
        click.echo(f"共 {tally.rows} 条文件记录，{tally.intact} 个完好；发现问题 {tally.problems} 个。")
        if tally.problems:
            sys.exit(1)

    @app.cli.command("read-forms")
    @click.option("--all", "everything", is_flag=True, help="全部重新读取（默认只读取尚未读取或由旧版本读取的）")
    def read_forms(everything: bool) -> None:
        """读取申报书中的数据（上传于自动读取功能启用之前的，或读取规则更新后）；已报送的申报保持报送时的状态。"""
        read, skipped = read_pending_forms(everything=everything)
        db.session.commit()
        click.echo(f"已读取 {read} 份申报书；{skipped} 份属于已报送的批次，未重新读取。")
