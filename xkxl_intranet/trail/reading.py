"""Reading the trail is itself a security event (等保 安全审计: the auditor's own actions are
audited): viewing it records ``audit.viewed``, at most once a minute per person and filter (the
filter's boxes send a request per keystroke, paging does not change what is being looked at),
and every export records ``audit.exported`` with its filter, format and size."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from ..audit.services import record, record_unless_lately
from ..auth.models import User
from ..auth.scoping import reads_whole_trail
from ..clock import now, to_shanghai
from ..domain.errors import NotFound, Refused
from ..extensions import db
from ..rounds.models import City, Round
from .export import trail_csv, trail_workbook
from .queries import ACTION_LABELS, TrailFilter, filtered, newest_first

VIEW_RECORD_INTERVAL = timedelta(minutes=1)
# An export is written on a render thread (generated.py) while the request waits: 20,000 events
# took 22.6 s as .xlsx and 8.7 s as .csv on two cores shared with five test suites (2026-12-07),
# so this bound keeps one under about a minute on such a machine. More is asked for with
# narrower dates.
EXPORT_MAX_ROWS = 50_000
EXPORT_FORMATS = {"xlsx": trail_workbook, "csv": lambda events, labels, heading: trail_csv(events, labels)}


def filter_text(f: TrailFilter) -> str:
    """The filter as the trail's boxes name it, e.g. 「市（州）：成都市；操作：登录；从 2022-03-01」."""
    parts = []
    if f.city_id:
        city = db.session.get(City, f.city_id)
        parts.append(f"市（州）：{city.name if city else f.city_id}")
    if f.username:
        parts.append(f"用户：{f.username}")
    if f.action:
        parts.append(f"操作：{ACTION_LABELS.get(f.action, f.action)}")
    if f.date_from:
        parts.append(f"从 {f.date_from}")
    if f.date_to:
        parts.append(f"至 {f.date_to}")
    return "；".join(parts) or "全部记录"


def note_viewed(user: User, f: TrailFilter) -> bool:
    """Record that ``user`` looked at the trail through ``f``, unless they already looked through
    the same filter (any page) within :data:`VIEW_RECORD_INTERVAL`. Returns whether it recorded."""
    return record_unless_lately("audit.viewed", user=user, summary=f"查看审计日志：{filter_text(f)}",
                                within=VIEW_RECORD_INTERVAL, object_type="audit",
                                city_id=user.city_id) is not None


@dataclass(frozen=True)
class TrailExport:
    """What an export will hold: ``depends_on`` keys the generated file (the filter, the scope's
    newest event and count, the exporter), ``write()`` makes it (on a render thread)."""

    file_format: str
    total: int
    described: str
    depends_on: tuple
    write: Callable[[], tuple[bytes, str]]


def export_trail(user: User, f: TrailFilter, round_: Round | None, *, file_format: str,
                 combined_duties: bool = False) -> TrailExport:
    """The whole trail that ``f`` selects, newest first, as ``file_format`` (xlsx or csv), for
    whoever reads the whole trail. More than :data:`EXPORT_MAX_ROWS` events are refused, naming
    the date boxes that narrow them. The file itself is written by ``write()``."""
    if not reads_whole_trail(user, combined_duties=combined_duties) or file_format not in EXPORT_FORMATS:
        raise NotFound
    stmt = filtered(user, f, round_, combined_duties=combined_duties)
    total, newest = db.session.execute(
        select(func.count(), func.max(stmt.subquery().c.id))).one()
    if total > EXPORT_MAX_ROWS:
        raise Refused(f"符合条件的记录有 {total} 条，超过单次导出上限 {EXPORT_MAX_ROWS} 条："
                      "请用「从」「至」日期缩小范围后分次导出。")
    described = filter_text(f)

    def write() -> tuple[bytes, str]:
        at = to_shanghai(now())
        heading = f"审计日志导出 · 筛选：{described} · 共 {total} 条 · 导出人 {user.username} · {at:%Y-%m-%d %H:%M}"
        events = db.session.scalars(newest_first(stmt).execution_options(yield_per=1000))
        return EXPORT_FORMATS[file_format](events, ACTION_LABELS, heading), f"审计日志_{at:%Y%m%d-%H%M}.{file_format}"

    return TrailExport(file_format, total or 0, described,
                       (user.id, sorted(f.query(page=None).items()), total, newest), write)


def note_exported(user: User, export: TrailExport) -> None:
    """The export's own audit row, written before the file is sent."""
    record("audit.exported", user=user, object_type="audit", city_id=user.city_id,
           summary=f"导出审计日志（.{export.file_format}，{export.total} 条）：{export.described}")
