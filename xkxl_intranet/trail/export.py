"""The audit trail as a file the 安全审计员 takes away: a workbook (.xlsx) or a CSV, one row per
event, newest first, with what the trail page shows and the event's raw keys (its action's code,
its object's type and id, the values before and after as JSON) for whoever checks it elsewhere.

Nothing a person typed becomes a formula: the workbook writes every value through
``xlsx.append_row`` (``xlsx.put`` for a write-only sheet);
the CSV, which Excel would read as formulas, prefixes a cell that starts like one with ``'``
(OWASP's advice for CSV injection)."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook

from ..audit.models import AuditEvent
from ..clock import to_shanghai
from ..xlsx import BOLD, append_row, save_workbook

COLUMNS = (("时间", 20), ("用户名", 16), ("姓名/名称", 24), ("来源IP", 16), ("市（州）", 12),
           ("操作", 18), ("操作代码", 26), ("对象类型", 12), ("对象编号", 10), ("说明", 60),
           ("修改前", 40), ("修改后", 40))
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _json(value: dict[str, Any] | None) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else ""


def event_row(event: AuditEvent, labels: dict[str, str]) -> list[str]:
    person = event.user.display_name if event.user is not None else ""
    return [to_shanghai(event.at).strftime("%Y-%m-%d %H:%M:%S"), event.username or "", person or "",
            event.ip or "", event.city.name if event.city is not None else "",
            labels.get(event.action, event.action), event.action, event.object_type or "",
            event.object_id or "", event.summary or "", _json(event.before), _json(event.after)]


def trail_workbook(events: Iterable[AuditEvent], labels: dict[str, str], heading: str) -> bytes:
    """A write-only workbook: its rows go to the file as they come, so a long trail does not
    hold every cell's object in memory."""
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("审计日志")
    for index, (_, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    ws.freeze_panes = "A3"

    append_row(ws, [heading], BOLD)
    append_row(ws, [title for title, _ in COLUMNS], BOLD)
    for event in events:
        append_row(ws, event_row(event, labels))
    return save_workbook(workbook)


def _csv_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def trail_csv(events: Iterable[AuditEvent], labels: dict[str, str]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel and WPS open the Chinese as Chinese. The column
    titles are the first line, as tools that read CSV expect (the workbook's title row, naming
    the filter, is for people; the export's audit row names it for the CSV)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([title for title, _ in COLUMNS])
    for event in events:
        writer.writerow([_csv_safe(value) for value in event_row(event, labels)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
