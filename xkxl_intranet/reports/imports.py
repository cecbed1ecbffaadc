"""The indicator template and its import: the use case around the workbook reader.

A clerk downloads the template (blank or prefilled with the city's applications), fills it in
and uploads it. The upload is read once when it arrives (:mod:`.template_reader`: cells, no
database) and what was read is kept under a random token between preview and confirm
(:mod:`.import_store`). The preview matches each column to the city's applications by
统一社会信用代码 and runs the same checks as the form; confirming checks everything again on the
same cells, then saves every application of the file or none.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy.orm.exc import StaleDataError

from ..applications.evaluation import evaluate_input
from ..applications.models import Application
from ..applications.operations import save_application
from ..audit.services import record
from ..auth.models import User
from ..auth.scoping import is_own_city_clerk
from ..clock import now
from ..domain.credit_code import normalize_code
from ..domain.declaration import Form
from ..domain.errors import NotFound, Refused
from ..domain.findings import Severity
from ..domain.parsing import ParsedInput, differs
from ..extensions import db
from ..generated import rows
from ..rounds.models import City, Round
from ..rounds.state import batch_is_locked
from . import import_store
from .import_store import ParsedImport
from .layouts import TemplateMeta, template_fingerprint
from .summary import city_applications_stmt
from .template_reader import BLOCK, ERROR, WARNING, ImportColumn, Problem
from .workbooks import indicator_template

LOCKED_IMPORT_MESSAGE = "本市（州）已报送，申报为只读，不能导入；如需修改，请联系省厅退回。"


def _clerk_city(user: User, city: City) -> City:
    """The template and the import are the city clerk's own: for anyone else, not there."""
    if not is_own_city_clerk(user, city.id):
        raise NotFound
    return city


def import_locked(round_: Round, city: City) -> bool:
    """A reported city's applications are read-only: nothing can be imported."""
    return batch_is_locked(round_.id, city.id)


# ---- the indicator template -----------------------------------------------------------------------

def template_name(city: City, *, filled: bool) -> str:
    return f"申报指标模板_{city.name}{'_含现有申报' if filled else ''}.xlsx"


def template_versions(user: User, round_: Round, city: City, *, filled: bool) -> list[Any]:
    """What the template depends on (its file's key, see :mod:`generated`): the round, the city
    and, filled, the id, version and place of each of the city's applications (one query)."""
    _clerk_city(user, city)
    versions = [round_.id, round_.year, round_.title, city.id, city.code, city.name, filled]
    if filled:
        stmt = city_applications_stmt(user, round_, city).with_only_columns(
            Application.id, Application.version, Application.position)
        versions.append(rows(db.session.execute(stmt)))
    return versions


def template_workbook(user: User, round_: Round, city: City, *, filled: bool) -> bytes:
    """The Excel template of every field of the round's 申报书; ``filled`` prefills the city's
    applications."""
    _clerk_city(user, city)
    applications = []
    if filled:
        applications = [a.values() for a in db.session.scalars(city_applications_stmt(user, round_, city))]
    form = round_.form
    meta = TemplateMeta(template_fingerprint(form), round_year=round_.year, city_code=city.code,
                        generated_at=now().isoformat(timespec="seconds"))
    return indicator_template(title=f"{round_.title}申报指标填报模板（{city.name}）", form=form, meta=meta,
                              applications=applications)


# ---- the upload between preview and confirm ---------------------------------------------------------

def receive_import(user: User, stream: BinaryIO, *, name: str, round_: Round, city: City) -> str:
    """Take the clerk's upload: read it once and keep what was read (see :mod:`.import_store`);
    returns the token the session keeps. :class:`Refused` for a file over the size limit."""
    _clerk_city(user, city)
    return import_store.receive(stream, name=name, expected_year=round_.year, form=round_.form)


def pending_import(token: str | None) -> ParsedImport | None:
    return import_store.load(token)


def discard_import(token: str | None) -> None:
    import_store.discard(token)


# ---- preview and confirm --------------------------------------------------------------------------------

@dataclass
class ImportItem:
    column: ImportColumn
    application: Application | None
    problems: list[Problem] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # labels of the fields that would change

    @property
    def action(self) -> str:
        if self.column.problems:
            return "无法导入"
        if self.application is None:
            return "新建"
        return "更新" if self.changes else "无变化"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]


@dataclass
class ImportPreview:
    name: str
    items: list[ImportItem]
    problems: list[Problem]  # about the whole file
    digest: str = ""

    @property
    def all_problems(self) -> list[Problem]:
        cells = sorted((p for item in self.items for p in item.problems), key=lambda p: p.sort_key)
        return self.problems + cells

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.all_problems if p.severity == BLOCK]

    @property
    def blocked(self) -> bool:
        return bool(self.blocking)

    def count(self, severity: str) -> int:
        return sum(1 for p in self.all_problems if p.severity == severity and not p.acknowledged)

    def of_severity(self, severity: str) -> list[Problem]:
        """The problems of one level, in sheet order: the page lists what blocks first, then
        the errors (imported as drafts), then the hints."""
        return [p for p in self.all_problems if p.severity == severity]

    @property
    def headline(self) -> str:
        """The counts at the top of the preview: what must be changed before the import, and
        what else there is."""
        others = [f"{n} 处错误（导入后须在申报中修改）" if severity == ERROR else f"{n} 条提示"
                  for severity in (ERROR, WARNING) if (n := self.count(severity))]
        if self.blocked:
            return (f"有 {len(self.blocking)} 处问题须修改后才能导入"
                    + (f"；另有 {'、'.join(others)}" if others else ""))
        return f"可以导入；有 {'、'.join(others)}" if others else "检查通过，可以导入"

    @property
    def created(self) -> list[ImportItem]:
        return [i for i in self.items if i.action == "新建"]

    @property
    def updated(self) -> list[ImportItem]:
        return [i for i in self.items if i.action == "更新"]

    @property
    def unchanged(self) -> list[ImportItem]:
        return [i for i in self.items if i.action == "无变化"]


def _typed(column: ImportColumn, form: Form) -> ParsedInput:
    """A column as the checks and the save take it: its cells as read once, when the file arrived,
    for each field of the round's 申报书."""
    return ParsedInput({key: column.parsed.get(key) for key in form.fields}, column.errors)


def _changes(application: Application, values: dict[str, Any], form: Form) -> list[str]:
    stored = application.values()
    return [f.label for key, f in form.fields.items() if differs(f, stored.get(key), values.get(key))]


def _digest(file_sha256: str, items: list[ImportItem], locked: bool) -> str:
    state = [file_sha256, locked] + [[i.column.letter, i.application.id if i.application else None,
                                      i.application.version if i.application else None] for i in items]
    return hashlib.sha256(json.dumps(state).encode("utf-8")).hexdigest()


def _item(column: ImportColumn, match: Application | None, *, round_: Round, city: City) -> ImportItem:
    """One column checked as the form checks an application; the reader's own parse problems
    are already at their cells."""
    item = ImportItem(column, match, list(column.problems))
    evaluation = evaluate_input(_typed(column, round_.form), city=city, round_=round_, application=match)
    for finding in evaluation.findings:
        if finding.rule.startswith("parse:"):
            continue
        severity = ERROR if finding.severity is Severity.ERROR else WARNING
        acknowledged = severity == WARNING and evaluation.is_acknowledged(finding)
        item.problems.append(column.problem(finding.field, finding.message, severity=severity,
                                            rule=finding.rule, acknowledged=acknowledged))
    item.problems.sort(key=lambda p: p.sort_key)
    if match is not None and not column.problems:
        item.changes = _changes(match, evaluation.result.values, round_.form)
    return item


def preview_import(user: User, parsed: ParsedImport, *, round_: Round, city: City) -> ImportPreview:
    """Match and check everything read from the upload; nothing is written. Run again on confirm."""
    _clerk_city(user, city)
    result = parsed.result
    preview = ImportPreview(name=parsed.name, items=[], problems=list(result.problems))
    locked = import_locked(round_, city)
    if locked:
        preview.problems.insert(0, Problem(LOCKED_IMPORT_MESSAGE))
    existing = {normalize_code(a.credit_code): a
                for a in db.session.scalars(city_applications_stmt(user, round_, city)) if a.credit_code}
    for column in result.columns:
        match = existing.get(normalize_code(column.credit_code)) if column.credit_code else None
        preview.items.append(_item(column, match, round_=round_, city=city))
    preview.digest = _digest(parsed.sha256, preview.items, locked)
    return preview


def _save_item(user: User, item: ImportItem, *, round_: Round, city: City) -> Application:
    application = item.application
    label = f"{item.column.label}（{item.column.title}）"
    try:
        saved, _ = save_application(user, application, _typed(item.column, round_.form), city=city, round_=round_,
                                    expected_version=application.version if application else None)
    except (Refused, StaleDataError) as err:
        raise Refused(f"{label}未能保存：{err}") from None
    if saved is None:  # cannot happen: unreadable values block the preview
        raise Refused(f"{label}有无法识别的内容，未导入任何数据。")
    return saved


def apply_import(user: User, parsed: ParsedImport, *, round_: Round, city: City,
                 expected_digest: str | None) -> ImportPreview:
    """Re-check everything, then save every application of the file, or none (the route rolls
    back on :class:`Refused`). Rule errors and warnings do not stop it: the applications are
    saved as drafts with those findings, as the form allows."""
    preview = preview_import(user, parsed, round_=round_, city=city)
    name = parsed.name
    if preview.blocked:
        raise Refused("文件中有无法读取的内容，未导入任何数据：" + "；".join(p.text for p in preview.blocking[:5])
                      + ("……" if len(preview.blocking) > 5 else ""))
    if expected_digest != preview.digest:
        raise Refused("自预览以来本市（州）的申报或上传的文件已有变化，请核对下面新的预览后再确认导入。")
    created: list[str] = []
    updated: list[str] = []
    for item in preview.items:
        if item.action != "无变化":
            saved = _save_item(user, item, round_=round_, city=city)
            (created if item.application is None else updated).append(saved.title)
    record("reports.imported", user=user, object_type="city", object_id=city.id, city_id=city.id,
           summary=f"Excel导入申报指标：新建 {len(created)} 份、更新 {len(updated)} 份（文件“{name}”）",
           after={"file": name, "created": created, "updated": updated,
                  "unchanged": [i.column.title for i in preview.unchanged]})
    db.session.flush()
    return preview
