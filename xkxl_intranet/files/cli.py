"""``flask --app xkxl_intranet verify-files``: does the storage hold exactly what the rows say?"""
from __future__ import annotations

import os
import sys

import click
from flask import Flask
from sqlalchemy import select

from ..extensions import db
from .storage import path_for, scan_storage, upload_root
from .zipstream import sha256_file


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
        from .models import StoredFile

        root = upload_root()
        problems = 0
        rows = db.session.execute(select(StoredFile.id, StoredFile.storage_name, StoredFile.size,
                                         StoredFile.sha256, StoredFile.original_name)
                                  .order_by(StoredFile.id)).all()
        known = set()
        checked = 0
        for file_id, storage_name, size, digest, name in rows:
            known.add(storage_name)
            try:
                path = path_for(storage_name, root)
            except ValueError:
                click.echo(f"无效存储名：文件 #{file_id}“{name}”的存储名 {storage_name!r} 不合法")
                problems += 1
                continue
            if not path.is_file():
                click.echo(f"缺失：文件 #{file_id}“{name}”（{path}）")
                problems += 1
                continue
            actual_size = path.stat().st_size
            if actual_size != size:
                click.echo(f"大小不一致：文件 #{file_id}“{name}” 记录 {size} 字节，实际 {actual_size} 字节")
                problems += 1
                continue
            if not quick and sha256_file(path) != digest:
                click.echo(f"SHA-256 不一致：文件 #{file_id}“{name}”（{path}）")
                problems += 1
                continue
            checked += 1

        scan = scan_storage(root, known, grace_seconds=grace_minutes * 60)
        for path in scan.stale_tmp:
            try:
                os.unlink(path)
                click.echo(f"已清理过期临时文件：{path}")
            except OSError as err:
                click.echo(f"无法清理临时文件：{path}（{err}）")
                problems += 1
        for path in scan.orphans:
            if delete_orphans:
                try:
                    os.unlink(path)
                    click.echo(f"已删除孤立文件：{path}")
                    continue
                except OSError as err:
                    click.echo(f"无法删除孤立文件：{path}（{err}）")
            else:
                click.echo(f"孤立文件（无记录对应）：{path}")
            problems += 1
        if scan.recent:
            click.echo(f"跳过 {len(scan.recent)} 个最近 {grace_minutes} 分钟内写入的文件（可能正在上传）")

        click.echo(f"共 {len(rows)} 条文件记录，{checked} 个完好；发现问题 {problems} 个。")
        if problems:
            sys.exit(1)
