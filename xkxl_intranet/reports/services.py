"""Reports: queries that build the report data, the clerk's 附件3 order and contact details,
and the indicator import (preview, then confirm). Services flush; routes commit."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import abort, current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import load_only
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..applications.models import Application, ProvinceMark, ReviewState
from flask_login import current_user
from ..applications.evaluation import evaluate_input
from ..applications.operations import save_application
from ..applications.queries import applications_stmt
from ..domain.errors import Refused as ApplicationError
from ..audit.services import record
from ..auth.scoping import scope_to_city
from ..clock import now
from ..domain.credit_code import normalize_code
from ..domain.findings import ParseError, Severity
from ..domain.indicators import FIELDS, SECTIONS, Field, Kind, format_field, parse_phone
from ..extensions import db
from ..rounds.state import batch_is_locked, find_batch
from ..rounds.models import City, Round
from . import importing
from .charts import BarChart, bar_chart, competition_ranks
from .layouts import (DEFAULT_DISCLOSURE, ROSTER_KEY_FIELDS, ROSTER_LISTS, Roster, RosterEntry,
                      RosterSheet, Summary, SummaryRow, TemplateMeta)
from .workbooks import indicator_template


class ReportError(ValueError):
    """A refused step; ``str(err)`` is the Chinese message for the clerk."""


# ---- scoping -------------------------------------------------------------------------------------

def city_or_404(city_id: int) -> City:
    """The city if the user may see its reports; another city's is simply not found."""
    city = db.session.scalar(scope_to_city(select(City).where(City.id == city_id), City.id, current_user))
    if city is None:
        abort(404)
    return city


# ---- 附件3 推荐信息汇总表 ---------------------------------------------------------------------

_SUMMARY_COLUMNS = (Application.id, Application.round_id, Application.city_id, Application.position,
                    Application.version, Application.review_state, Application.platform_name,
                    Application.enterprise_name, Application.contact_name, Application.contact_mobile)


def _city_applications(round_: Round, city: City):
    return (scope_to_city(select(Application), Application.city_id, current_user)
            .where(Application.round_id == round_.id, Application.city_id == city.id)
            .order_by(Application.position, Application.id))


def passed_applications(round_: Round, city: City) -> list[Application]:
    """The city's 初审通过 applications in 附件3 order."""
    stmt = (_city_applications(round_, city).options(load_only(*_SUMMARY_COLUMNS))
            .where(Application.review_state == ReviewState.PASSED))
    return list(db.session.scalars(stmt))


def build_summary(round_: Round, city: City) -> Summary:
    batch = find_batch(round_.id, city.id)
    rows = tuple(SummaryRow(n, a.id, a.platform_name or "", a.enterprise_name or "", a.contact_name or "",
                            a.contact_mobile or "")
                 for n, a in enumerate(passed_applications(round_, city), start=1))
    return Summary(round_title=round_.title, city_name=city.name, department_name=city.department_name or "",
                   contact_name=city.contact_name or "", contact_phone=city.contact_phone or "",
                   disclosure=(batch.disclosure if batch and batch.disclosure else DEFAULT_DISCLOSURE),
                   rows=rows)


def passed_counts(round_: Round) -> dict[int, int]:
    """City id -> number of 初审通过 applications (the rows of each city's 附件3)."""
    rows = db.session.execute(scope_to_city(
        select(Application.city_id, func.count()).where(Application.round_id == round_.id,
                                                        Application.review_state == ReviewState.PASSED),
        Application.city_id, current_user).group_by(Application.city_id))
    return {city_id: count for city_id, count in rows}


def summary_locked(round_: Round, city: City) -> bool:
    return batch_is_locked(round_.id, city.id)


def move_application(round_: Round, city: City, application_id: int, direction: str) -> str:
    """Move a 初审通过 application one place up or down on the city's 附件3.

    Every application of the city is renumbered densely (1..n) keeping everything else in
    place. Positions are written with a plain UPDATE: the order is not part of what a clerk
    edits in the form, so it must not make an open edit form look stale (version column).
    """
    if direction not in ("up", "down"):
        raise ReportError("请选择上移或下移。")
    if batch_is_locked(round_.id, city.id):
        raise ReportError("本市（州）已报送，推荐信息汇总表的顺序不能再调整；如需修改，请联系省厅退回。")
    applications = list(db.session.scalars(_city_applications(round_, city).options(load_only(*_SUMMARY_COLUMNS))))
    passed = [a for a in applications if a.review_state == ReviewState.PASSED]
    moving = next((a for a in passed if a.id == application_id), None)
    if moving is None:
        abort(404)
    index = passed.index(moving)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(passed):
        return f"“{moving.title}”已在{'第一' if direction == 'up' else '最后一'}位。"
    before = [a.title for a in passed]
    other = passed[other_index]
    i, j = applications.index(moving), applications.index(other)
    applications[i], applications[j] = applications[j], applications[i]
    changes = [{"b_id": a.id, "b_position": n} for n, a in enumerate(applications, start=1) if a.position != n]
    table = Application.__table__
    if changes:
        stmt = update(table).where(table.c.id == bindparam("b_id")).values(position=bindparam("b_position"))
        db.session.execute(stmt, changes)
    for n, a in enumerate(applications, start=1):
        set_committed_value(a, "position", n)
    after = [a.title for a in applications if a.review_state == ReviewState.PASSED]
    record("summary.reordered", user=current_user, object_type="city", object_id=city.id, city_id=city.id,
           summary=f"调整推荐信息汇总表顺序：“{moving.title}”{'上移' if direction == 'up' else '下移'}至第 {other_index + 1} 位",
           before={"order": before}, after={"order": after})
    db.session.flush()
    return f"已将“{moving.title}”{'上移' if direction == 'up' else '下移'}至第 {other_index + 1} 位。"


def update_contact(city: City, contact_name: str, contact_phone: str) -> None:
    """The contact printed on the city's 附件3 (联系人 / 联系方式)."""
    name = " ".join((contact_name or "").split())
    if not name:
        raise ReportError("请填写「联系人」。")
    if len(name) > 40:
        raise ReportError(f"「联系人」不能超过40个字，当前为{len(name)}个字。")
    try:
        phone = parse_phone(contact_phone, "联系方式")
    except ParseError as err:
        raise ReportError(err.message) from None
    if not phone:
        raise ReportError("请填写「联系方式」。")
    if len(phone) > 40:
        raise ReportError(f"「联系方式」不能超过40个字符，当前为{len(phone)}个。")
    before = {"contact_name": city.contact_name, "contact_phone": city.contact_phone}
    after = {"contact_name": name, "contact_phone": phone}
    if before == after:
        return
    city.contact_name, city.contact_phone = name, phone
    record("city.contact_updated", user=current_user, object_type="city", object_id=city.id, city_id=city.id,
           summary=f"修改推荐信息汇总表联系人：{name} {phone}", before=before, after=after)
    db.session.flush()


# ---- the roster -------------------------------------------------------------------------------------

def _state_label(state: str | None) -> str:
    try:
        return ReviewState(state).label
    except ValueError:
        return state or ""


def _mark_label(mark: str | None) -> str:
    return ProvinceMark(mark).label if mark else ""


def roster_entries(round_: Round, mark: str | None = None) -> list[RosterEntry]:
    """Every application of the round (or those with ``mark``), city by city in 附件3 order:
    one query of the columns the roster prints."""
    figures = [getattr(Application, key) for key in ROSTER_KEY_FIELDS]
    stmt = (select(Application.province_mark, City.name, Application.platform_name, Application.enterprise_name,
                   Application.credit_code, Application.contact_name, Application.contact_mobile,
                   Application.review_state, *figures)
            .join(City, Application.city_id == City.id)
            .where(Application.round_id == round_.id)
            .order_by(City.sort_order, Application.position, Application.id))
    stmt = scope_to_city(stmt, Application.city_id, current_user)
    if mark:
        stmt = stmt.where(Application.province_mark == mark)
    entries = []
    for mark_value, city, platform, enterprise, code, contact, mobile, state, *numbers in db.session.execute(stmt):
        entries.append(RosterEntry(mark_value, (city, platform or "", enterprise or "", code or "", contact or "",
                                                mobile or "", _state_label(state), _mark_label(mark_value),
                                                *numbers)))
    return entries


MARK_LIST_NAMES = {ProvinceMark.RECOMMENDED: "推荐工信部名单", ProvinceMark.CULTIVATION: "列入省级培育名单",
                   ProvinceMark.NOT_SELECTED: "未入选名单"}


def build_roster(round_: Round, list_key: str) -> Roster:
    roster_list = ROSTER_LISTS[list_key]
    entries = roster_entries(round_, roster_list.mark)
    sheets = [RosterSheet("全部" if roster_list.mark is None else roster_list.name[:31],
                          f"{round_.title}{roster_list.name}", tuple(entries))]
    if roster_list.mark is None:
        for mark in ProvinceMark:
            sheets.append(RosterSheet(mark.label, f"{round_.title}{MARK_LIST_NAMES[mark]}",
                                      tuple(e for e in entries if e.mark == mark.value)))
    return Roster(round_.title, roster_list, now(), tuple(sheets))


def roster_counts(round_: Round) -> dict[str, int]:
    rows = db.session.execute(scope_to_city(
        select(Application.province_mark, func.count()).where(Application.round_id == round_.id),
        Application.city_id, current_user).group_by(Application.province_mark))
    by_mark = {mark: count for mark, count in rows}
    return {"all": sum(by_mark.values()), **{m.value: by_mark.get(m.value, 0) for m in ProvinceMark}}


# ---- comparison ---------------------------------------------------------------------------------------

NUMERIC_FIELDS: tuple[Field, ...] = tuple(f for s in SECTIONS for f in s.fields if f.is_numeric)
DEFAULT_INDICATOR = "apps_total"
SCOPES = {"all": "全部申报", "passed": "市州初审通过", "marked": "已有省厅标记"}
SORTS = {"rank": "排名", "city": "市（州）", "name": "平台名称"}


def indicator_groups() -> list[tuple[str, list[Field]]]:
    """The numeric fields of the declaration by section, for the indicator picker."""
    return [(s.heading, [f for f in s.fields if f.is_numeric]) for s in SECTIONS if any(f.is_numeric for f in s.fields)]


def display_value(f: Field, value: Any) -> str:
    if value is None:
        return ""
    if f.kind is Kind.INT:
        return f"{int(value):,}"
    return f"{Decimal(value):,.2f}"


@dataclass(frozen=True)
class ComparisonRow:
    application_id: int
    city_name: str
    city_order: int
    position: int
    platform_name: str
    enterprise_name: str
    state_label: str
    mark_label: str
    value: Any
    text: str
    rank: int | None


@dataclass
class Comparison:
    field: Field
    scope: str
    sort: str
    descending: bool
    rows: list[ComparisonRow]
    chart: BarChart
    filled: int
    total: Any
    average: Any
    highest: Any

    def text(self, value: Any) -> str:
        return display_value(self.field, value)


def comparison(round_: Round, key: str, *, scope: str = "all", sort: str = "rank",
               descending: bool = False) -> Comparison:
    f = FIELDS.get(key)
    if f is None or not f.is_numeric:
        f = FIELDS[DEFAULT_INDICATOR]
    scope = scope if scope in SCOPES else "all"
    sort = sort if sort in SORTS else "rank"
    column = getattr(Application, f.key)
    stmt = (select(Application.id, City.name, City.sort_order, Application.position, Application.platform_name,
                   Application.enterprise_name, Application.review_state, Application.province_mark, column)
            .join(City, Application.city_id == City.id).where(Application.round_id == round_.id))
    stmt = scope_to_city(stmt, Application.city_id, current_user)
    if scope == "passed":
        stmt = stmt.where(Application.review_state == ReviewState.PASSED)
    elif scope == "marked":
        stmt = stmt.where(Application.province_mark.is_not(None))
    records = list(db.session.execute(stmt))
    ranks = competition_ranks([r[-1] for r in records])
    rows = [ComparisonRow(app_id, city, order, position or 0, platform or "", enterprise or "", _state_label(state),
                          _mark_label(mark), value, display_value(f, value), rank)
            for (app_id, city, order, position, platform, enterprise, state, mark, value), rank in zip(records, ranks)]
    if sort == "rank":
        present = sorted((r for r in rows if r.rank is not None), key=lambda r: (r.rank, r.city_order, r.position),
                         reverse=descending)
        rows = present + sorted((r for r in rows if r.rank is None), key=lambda r: (r.city_order, r.position))
    elif sort == "city":
        rows.sort(key=lambda r: (r.city_order, r.position, r.application_id), reverse=descending)
    else:
        rows.sort(key=lambda r: (r.platform_name, r.application_id), reverse=descending)
    values = [r.value for r in rows if r.value is not None]
    total = sum(values) if values else None
    average = (Decimal(total) / len(values)).quantize(Decimal("0.01")) if values else None
    chart = bar_chart([(f"{r.city_name[:2]}·{r.platform_name or r.enterprise_name}"[:18], r.value, r.text)
                       for r in rows])
    return Comparison(f, scope, sort, descending, rows, chart, len(values), total, average,
                      max(values) if values else None)


# ---- the indicator template -----------------------------------------------------------------------------

def template_workbook(round_: Round, city: City, *, filled: bool) -> bytes:
    """The Excel template of every indicator; ``filled`` prefills the city's applications."""
    applications = []
    if filled:
        applications = [a.values() for a in db.session.scalars(_city_applications(round_, city))]
    meta = TemplateMeta(round_year=round_.year, city_code=city.code,
                        generated_at=now().isoformat(timespec="seconds"))
    return indicator_template(title=f"{round_.title}申报指标填报模板（{city.name}）", meta=meta,
                              applications=applications)


# ---- import: the uploaded workbook between preview and confirm ---------------------------------------------

IMPORT_TTL_SECONDS = 24 * 3600
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")


def imports_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sweep_imports(max_age: float = IMPORT_TTL_SECONDS) -> int:
    """Delete uploaded workbooks older than a day (never confirmed nor cancelled)."""
    removed = 0
    limit = time.time() - max_age
    for path in imports_folder().glob("*.xlsx"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def store_import(stream) -> str:
    """Keep an uploaded workbook under a random token (the session holds the token)."""
    sweep_imports()
    token = secrets.token_urlsafe(24)
    path = imports_folder() / f"{token}.xlsx"
    size = 0
    with open(path, "wb") as out:
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            if size > importing.MAX_FILE_BYTES:
                out.close()
                path.unlink(missing_ok=True)
                raise ReportError(f"文件过大：指标模板不超过 {importing.MAX_FILE_BYTES // 1048576} MB。")
            out.write(chunk)
    return token


def import_path(token: str | None) -> Path | None:
    if not token or not _TOKEN_RE.fullmatch(token):
        return None
    path = imports_folder() / f"{token}.xlsx"
    return path if path.is_file() else None


def discard_import(token: str | None) -> None:
    path = import_path(token)
    if path is not None:
        path.unlink(missing_ok=True)


# ---- import: preview and confirm ------------------------------------------------------------------------------

@dataclass
class ImportItem:
    column: importing.ImportColumn
    application: Application | None
    problems: list[importing.Problem] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # labels of the fields that would change

    @property
    def action(self) -> str:
        if self.column.problems:
            return "无法导入"
        if self.application is None:
            return "新建"
        return "更新" if self.changes else "无变化"

    @property
    def errors(self) -> list[importing.Problem]:
        return [p for p in self.problems if p.severity == importing.ERROR]

    @property
    def warnings(self) -> list[importing.Problem]:
        return [p for p in self.problems if p.severity == importing.WARNING]


@dataclass
class ImportPreview:
    name: str
    items: list[ImportItem]
    problems: list[importing.Problem]  # about the whole file
    digest: str = ""

    @property
    def all_problems(self) -> list[importing.Problem]:
        cells = sorted((p for item in self.items for p in item.problems), key=lambda p: p.sort_key)
        return self.problems + cells

    @property
    def blocking(self) -> list[importing.Problem]:
        return [p for p in self.all_problems if p.severity == importing.BLOCK]

    @property
    def blocked(self) -> bool:
        return bool(self.blocking)

    def count(self, severity: str) -> int:
        return sum(1 for p in self.all_problems if p.severity == severity and not p.acknowledged)

    @property
    def created(self) -> list[ImportItem]:
        return [i for i in self.items if i.action == "新建"]

    @property
    def updated(self) -> list[ImportItem]:
        return [i for i in self.items if i.action == "更新"]

    @property
    def unchanged(self) -> list[ImportItem]:
        return [i for i in self.items if i.action == "无变化"]


def _comparable(f: Field, value: Any) -> Any:
    if value is None:
        return None
    if f.kind is Kind.MULTI:
        return tuple(value) or None
    return format_field(f, value)


def _changes(application: Application, values: dict[str, Any]) -> list[str]:
    return [f.label for key, f in FIELDS.items()
            if _comparable(f, values.get(key)) != _comparable(f, getattr(application, key))]


def _digest(file_sha256: str, items: list[ImportItem], locked: bool) -> str:
    state = [file_sha256, locked] + [[i.column.letter, i.application.id if i.application else None,
                                      i.application.version if i.application else None] for i in items]
    return hashlib.sha256(json.dumps(state).encode("utf-8")).hexdigest()


def preview_import(path: Path, *, name: str, round_: Round, city: City) -> ImportPreview:
    """Read and check everything; nothing is written. Run again on confirm."""
    result = importing.read_workbook(path, name=name, expected_year=round_.year)
    preview = ImportPreview(name=name, items=[], problems=list(result.problems))
    locked = batch_is_locked(round_.id, city.id)
    if locked:
        preview.problems.insert(0, importing.Problem(
            "本市（州）已报送，申报为只读，不能导入；如需修改，请联系省厅退回。"))
    existing = {normalize_code(a.credit_code): a
                for a in db.session.scalars(applications_stmt(current_user, round_).where(Application.city_id == city.id))
                if a.credit_code}
    for column in result.columns:
        match = existing.get(normalize_code(column.credit_code)) if column.credit_code else None
        item = ImportItem(column, match, list(column.problems))
        evaluation = evaluate_input(column.raw, city=city, round_=round_, application=match)
        for finding in evaluation.findings:
            if finding.rule.startswith("parse:"):
                continue  # already reported at its cell by the reader
            severity = importing.ERROR if finding.severity is Severity.ERROR else importing.WARNING
            item.problems.append(column.problem(finding.field, finding.message, severity=severity,
                                                rule=finding.rule,
                                                acknowledged=severity == importing.WARNING
                                                and evaluation.is_acknowledged(finding)))
        item.problems.sort(key=lambda p: p.sort_key)
        if match is not None and not column.problems:
            item.changes = _changes(match, evaluation.result.values)
        preview.items.append(item)
    with open(path, "rb") as fh:
        file_sha256 = hashlib.sha256(fh.read()).hexdigest()
    preview.digest = _digest(file_sha256, preview.items, locked)
    return preview


def apply_import(path: Path, *, name: str, round_: Round, city: City, expected_digest: str | None) -> ImportPreview:
    """Re-check everything, then save every application of the file, or none (the route rolls
    back on :class:`ReportError`). Rule errors and warnings do not stop it: the applications
    are saved as drafts with those findings, as the form allows."""
    preview = preview_import(path, name=name, round_=round_, city=city)
    if preview.blocked:
        raise ReportError("文件中有无法读取的内容，未导入任何数据：" + "；".join(p.text for p in preview.blocking[:5])
                          + ("……" if len(preview.blocking) > 5 else ""))
    if expected_digest != preview.digest:
        raise ReportError("自预览以来本市（州）的申报或上传的文件已有变化，请核对下面新的预览后再确认导入。")
    created, updated = [], []
    for item in preview.items:
        if item.action == "无变化":
            continue
        application = item.application
        try:
            saved, evaluation = save_application(current_user, application, item.column.raw, city=city, round_=round_,
                                                 expected_version=application.version if application else None)
        except (ApplicationError, StaleDataError) as err:
            raise ReportError(f"{item.column.label}（{item.column.title}）未能保存：{err}") from None
        if saved is None:  # cannot happen: unreadable values block the preview
            raise ReportError(f"{item.column.label}（{item.column.title}）有无法识别的内容，未导入任何数据。")
        (created if application is None else updated).append(saved.title)
    record("reports.imported", user=current_user, object_type="city", object_id=city.id, city_id=city.id,
           summary=f"Excel导入申报指标：新建 {len(created)} 份、更新 {len(updated)} 份（文件“{name}”）",
           after={"file": name, "created": created, "updated": updated,
                  "unchanged": [i.column.title for i in preview.unchanged]})
    db.session.flush()
    return preview
