"""The command of applications: ``flask read-forms`` (ask for the 申报书 to be read again)."""
from __future__ import annotations

import click
from flask import Flask

from ..extensions import db
from .document import read_pending_forms


def register_cli(app: Flask) -> None:
    @app.cli.command("read-forms")
    @click.option("--all", "everything", is_flag=True, help="全部重新读取（默认只读取尚未读取或由旧版本读取的）")
    def read_forms(everything: bool) -> None:
        """安排读取申报书中的数据（上传于自动读取功能启用之前的，或读取规则更新后），由后台任务读取；
        已报送的申报保持报送时的状态。"""
        asked, skipped = read_pending_forms(everything=everything)
        db.session.commit()
        click.echo(f"已安排读取 {asked} 份申报书（由后台任务读取，完成后申报页自动更新）；"
                   f"{skipped} 份属于已报送的批次，未重新读取。")
