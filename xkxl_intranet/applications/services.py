"""Applications: query, check, save, review, delete. Services flush; routes commit."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping

from flask import abort
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import load_only

from ..audit.services import record
from ..auth.scoping import scope_to_city
from ..clock import now
from ..domain.checks import CheckResult, check_application, check_values, sort_findings
from ..domain.findings import Finding, Severity
from ..domain.indicators import FIELDS, Kind, format_field
from ..extensions import db
from ..rounds.models import City, Round
from .models import Application, ReviewState


class ApplicationError(ValueError):
    """A refused operation; ``str(err)`` is the Chinese message for the clerk."""


class EditConflict(ApplicationError):
    """Someone else saved the application after this editor loaded it."""

    def __init__(self, application: Application, changes: list[tuple[str, str, str]]):
        who = application.updated_by.display_name if application.updated_by else "其他用户"
        super().__init__(
            f"保存未成功：{who} 已于 {application.updated_at:%H:%M:%S} 修改了这份申报（版本 {application.version}）。"
            "您填写的内容仍保留在下面的表格中；请对照下列差异核对后再保存。")
        self.application = application
        self.changes = changes  # (label, your value, saved value)


# ---- reading ---------------------------------------------------------------------------

def applications_stmt(round_: Round):
    """Every query for applications starts here: the round, confined to the user's city."""
    return scope_to_city(select(Application).where(Application.round_id == round_.id),
                         Application.city_id)


def get_application_or_404(application_id: int) -> Application:
    application = db.session.scalar(
        scope_to_city(select(Application).where(Application.id == application_id),
                      Application.city_id))
    if application is None:
        abort(404)
    return application


def list_applications(round_: Round, *, q: str = "", state: str = "", city_id: int | None = None,
                      problems: str = "") -> list[Application]:
    stmt = applications_stmt(round_).join(City, Application.city_id == City.id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Application.enterprise_name.ilike(like),
                              Application.platform_name.ilike(like),
                              Application.credit_code.ilike(like.upper())))
    if state in {s.value for s in ReviewState}:
        stmt = stmt.where(Application.review_state == state)
    if city_id:
        stmt = stmt.where(Application.city_id == city_id)
    if problems == "errors":
        stmt = stmt.where(Application.error_count > 0)
    elif problems == "warnings":
        stmt = stmt.where(Application.open_warning_count > 0)
    # A list needs a dozen of the 120-odd columns; loading only those keeps 840 rows cheap.
    stmt = stmt.options(load_only(
        Application.id, Application.round_id, Application.city_id, Application.position,
        Application.enterprise_name, Application.platform_name, Application.credit_code,
        Application.review_state, Application.province_mark, Application.error_count,
        Application.open_warning_count, Application.updated_at, Application.version))
    stmt = stmt.order_by(City.sort_order, Application.position, Application.id)
    return list(db.session.scalars(stmt))


def state_counts(round_: Round) -> dict[str, int]:
    stmt = scope_to_city(
        select(Application.review_state, func.count()).where(Application.round_id == round_.id),
        Application.city_id).group_by(Application.review_state)
    return {state: count for state, count in db.session.execute(stmt)}


# ---- duplicates across the round ---------------------------------------------------------

def platform_key(name: str | None) -> str | None:
    """Compare platform names ignoring width, case, spaces and punctuation."""
    if not name:
        return None
    text = unicodedata.normalize("NFKC", name).lower()
    key = "".join(ch for ch in text if ch.isalnum())
    return key[:200] or None


def org_code_key(code: str | None) -> str | None:
    """Characters 9-17 of a credit code are the 9-character 组织机构代码; compare on those."""
    if not code:
        return None
    if len(code) == 18:
        return code[8:17]
    if len(code) == 9:
        return code
    return None


@dataclass(frozen=True)
class DuplicateHit:
    kind: str  # "credit_code" | "platform_name"
    other_id: int
    city_name: str
    enterprise_name: str
    platform_name: str
    same_city: bool


def _duplicate_hits(application: Application, rows) -> list[DuplicateHit]:
    hits = []
    for other in rows:
        if other.id == application.id:
            continue
        for kind, mine, theirs in (("credit_code", application.org_code_key, other.org_code_key),
                                   ("platform_name", application.platform_key, other.platform_key)):
            if mine and mine == theirs:
                hits.append(DuplicateHit(kind, other.id, other.city.name, other.enterprise_name or "",
                                         other.platform_name or "", other.city_id == application.city_id))
    return hits


def duplicates_for(application: Application) -> list[DuplicateHit]:
    """Other applications of the round, in any city, with the same code or platform."""
    conditions = []
    if application.org_code_key:
        conditions.append(Application.org_code_key == application.org_code_key)
    if application.platform_key:
        conditions.append(Application.platform_key == application.platform_key)
    if not conditions:
        return []
    # Deliberately not scoped: a clerk must learn that another city put the same enterprise
    # forward. Only the city, enterprise and platform names are shown, never a link.
    rows = db.session.scalars(select(Application).where(
        Application.round_id == application.round_id, Application.id != (application.id or 0),
        or_(*conditions)))
    return _duplicate_hits(application, rows)


def duplicate_ids(round_: Round) -> set[int]:
    """Ids of every application in the round that shares its code or platform with another."""
    ids: set[int] = set()
    for column in (Application.org_code_key, Application.platform_key):
        shared = (select(column).where(Application.round_id == round_.id, column.is_not(None))
                  .group_by(column).having(func.count() > 1))
        ids.update(db.session.scalars(select(Application.id).where(
            Application.round_id == round_.id, column.in_(shared))))
    return ids


def duplicate_findings(hits: list[DuplicateHit]) -> list[Finding]:
    findings = []
    for kind in ("credit_code", "platform_name"):
        same = [h for h in hits if h.kind == kind]
        if not same:
            continue
        where = "、".join(sorted({f"{h.city_name}（{h.enterprise_name or '未填企业名称'}，{h.platform_name or '未填平台名称'}）" for h in same}))
        what = "统一社会信用代码（组织机构代码）" if kind == "credit_code" else "平台名称"
        findings.append(Finding(kind, Severity.WARNING,
                                f"本批次中{what}与以下申报重复：{where}。同一企业或平台重复推荐，请与相关市（州）核实。",
                                f"duplicate:{kind}"))
    return findings


# ---- checking ------------------------------------------------------------------------------

@dataclass
class Evaluation:
    """Everything the pages need to show what is wrong and what still blocks."""

    result: CheckResult
    duplicates: list[DuplicateHit] = field(default_factory=list)
    acknowledged: dict[str, Any] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return self.result.findings

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def is_acknowledged(self, finding: Finding) -> bool:
        ack = self.acknowledged.get(finding.rule)
        # An acknowledgement covers the warning as it read then; new figures need a new look.
        return bool(ack and ack.get("note", "").strip() and ack.get("message") == finding.message)

    @property
    def open_warnings(self) -> list[Finding]:
        return [f for f in self.warnings if not self.is_acknowledged(f)]

    @property
    def blocking(self) -> list[Finding]:
        return self.errors + self.open_warnings

    def by_field(self) -> dict[str, list[Finding]]:
        return self.result.by_field()


def _with_duplicates(result: CheckResult, hits: list[DuplicateHit]) -> CheckResult:
    result.findings.extend(duplicate_findings(hits))
    sort_findings(result.findings)
    return result


def evaluate(application: Application) -> Evaluation:
    """Check the stored values (the same rules as typing, import and reporting)."""
    result = check_values(application.values(), clerk_city_code=application.city.code)
    hits = duplicates_for(application)
    return Evaluation(_with_duplicates(result, hits), hits, dict(application.acknowledgements or {}))


def evaluate_input(raw: Mapping[str, Any], *, city: City, round_: Round,
                   application: Application | None) -> Evaluation:
    """Check what the clerk is typing, before anything is saved."""
    result = check_application(raw, clerk_city_code=city.code)
    probe = Application(round_id=round_.id, city_id=city.id)
    probe.id = application.id if application else None
    probe.org_code_key = org_code_key(result.values.get("credit_code"))
    probe.platform_key = platform_key(result.values.get("platform_name"))
    hits = duplicates_for(probe)
    acknowledged = dict(application.acknowledgements or {}) if application else {}
    return Evaluation(_with_duplicates(result, hits), hits, acknowledged)


def _store_counts(application: Application, evaluation: Evaluation) -> None:
    application.error_count = len(evaluation.errors)
    application.warning_count = len(evaluation.warnings)
    application.open_warning_count = len(evaluation.open_warnings)


def refresh_counts(application_ids: set[int]) -> None:
    """Re-evaluate applications whose duplicate status may have changed."""
    if not application_ids:
        return
    for other in db.session.scalars(select(Application).where(Application.id.in_(application_ids))):
        _store_counts(other, evaluate(other))


# ---- writing ---------------------------------------------------------------------------------

def json_value(key: str, value: Any) -> Any:
    """A value as the audit trail keeps it: the text a clerk would read."""
    if value is None:
        return None
    return format_field(FIELDS[key], value)


def _snapshot(application: Application) -> dict[str, Any]:
    return {key: json_value(key, getattr(application, key)) for key in FIELDS}


def next_position(round_: Round, city: City) -> int:
    current = db.session.scalar(select(func.max(Application.position)).where(
        Application.round_id == round_.id, Application.city_id == city.id))
    return (current or 0) + 1


def is_editable(application: Application) -> bool:
    """Whether the city may still change the application (later: not once reported)."""
    from ..rounds.batches import batch_is_locked  # late import: rounds builds on applications

    return not batch_is_locked(application.round_id, application.city_id)


def ensure_editable(application: Application) -> None:
    if not is_editable(application):
        raise ApplicationError("本市（州）的申报已报送，申报内容为只读；如需修改，请联系省厅退回。")


def save_application(application: Application | None, raw: Mapping[str, Any], *, city: City,
                     round_: Round, expected_version: int | None) -> tuple[Application | None, Evaluation]:
    """Create or update from what the clerk typed.

    Values that cannot be read (letters in a number…) are not saved: the clerk sees the
    message beside the field and keeps what they typed. Rule errors and warnings do not
    stop a draft from being saved; they stop it from entering the city's batch.
    """
    evaluation = evaluate_input(raw, city=city, round_=round_, application=application)
    if evaluation.result.parse_errors:
        return None, evaluation
    values = evaluation.result.values
    if application is not None:
        ensure_editable(application)
        if expected_version is not None and expected_version != application.version:
            changes = [(FIELDS[k].label, json_value(k, values.get(k)) or "", json_value(k, getattr(application, k)) or "")
                       for k in FIELDS if values.get(k) != getattr(application, k)]
            raise EditConflict(application, changes)
    creating = application is None
    before = {} if creating else _snapshot(application)
    old_keys = set() if creating else {application.org_code_key, application.platform_key}
    if creating:
        from ..rounds.batches import note_activity

        note_activity(round_.id, city.id)
        application = Application(round_id=round_.id, city_id=city.id, review_state=ReviewState.DRAFT,
                                  position=next_position(round_, city), acknowledgements={},
                                  created_at=now(), created_by_id=current_user.id)
        db.session.add(application)
    for key in FIELDS:
        value = values.get(key)
        if FIELDS[key].kind is Kind.MULTI and value is not None:
            value = list(value)
        setattr(application, key, value)
    application.org_code_key = org_code_key(application.credit_code)
    application.platform_key = platform_key(application.platform_name)
    application.updated_at = now()
    application.updated_by_id = current_user.id
    db.session.flush()

    evaluation = evaluate(application)
    _store_counts(application, evaluation)
    after = _snapshot(application)
    if creating:
        record("application.created", object_type="application", object_id=application.id,
               city_id=city.id, summary=f"新建申报：{application.title}",
               after={k: v for k, v in after.items() if v not in (None, "")})
    else:
        changed = [k for k in FIELDS if before.get(k) != after.get(k)]
        if changed:
            record("application.updated", object_type="application", object_id=application.id,
                   city_id=city.id,
                   summary=f"修改申报：{application.title}（{len(changed)}项：" + "、".join(FIELDS[k].label for k in changed[:5]) + ("等）" if len(changed) > 5 else "）"),
                   before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    if application.state is ReviewState.PASSED and evaluation.blocking:
        application.review_state = ReviewState.DRAFT
        record("application.review_reverted", object_type="application", object_id=application.id,
               city_id=city.id, summary="修改后存在未解决的问题，初审状态退回草稿",
               before={"review_state": ReviewState.PASSED.label}, after={"review_state": ReviewState.DRAFT.label})
    # Others who share (or shared) a code or platform name see the change in their flags.
    new_keys = {application.org_code_key, application.platform_key}
    affected = {h.other_id for h in evaluation.duplicates}
    if old_keys - new_keys:
        affected |= {a.id for a in db.session.scalars(select(Application).options(load_only(Application.id)).where(
            Application.round_id == round_.id, Application.id != application.id,
            or_(Application.org_code_key.in_(old_keys - {None}), Application.platform_key.in_(old_keys - {None}))))}
    refresh_counts(affected)
    db.session.flush()
    return application, evaluation


def acknowledge_warning(application: Application, rule: str, note: str) -> Evaluation:
    ensure_editable(application)
    evaluation = evaluate(application)
    warning = next((w for w in evaluation.warnings if w.rule == rule), None)
    if warning is None:
        raise ApplicationError("该提示已不存在（可能数据已修改），无需确认。")
    note = (note or "").strip()
    if not note:
        raise ApplicationError("请填写确认说明，说明该提示为何可以接受。")
    acknowledgements = dict(application.acknowledgements or {})
    acknowledgements[rule] = {"note": note[:500], "message": warning.message,
                              "by": current_user.username, "at": now().isoformat(timespec="seconds")}
    application.acknowledgements = acknowledgements
    evaluation.acknowledged = acknowledgements
    _store_counts(application, evaluation)
    record("application.warning_acknowledged", object_type="application", object_id=application.id,
           city_id=application.city_id, summary=f"确认提示：{warning.message}",
           after={"rule": rule, "note": note[:500]})
    db.session.flush()
    return evaluation


def set_review(application: Application, decision: str, comment: str) -> Evaluation:
    """市州初审: 通过 only when nothing blocks; 不推荐 needs a reason; 草稿 withdraws."""
    ensure_editable(application)
    try:
        target = ReviewState(decision)
    except ValueError:
        raise ApplicationError("请选择初审结论：通过或不推荐。") from None
    comment = (comment or "").strip()
    evaluation = evaluate(application)
    if target is ReviewState.PASSED:
        missing = [f.message for f in evaluation.blocking] + extra_requirements(application)
        if missing:
            raise ApplicationError("尚有以下问题，不能初审通过：" + "；".join(missing[:20])
                                   + ("……" if len(missing) > 20 else ""))
    if target is ReviewState.NOT_RECOMMENDED and not comment:
        raise ApplicationError("不推荐时请填写初审意见（不推荐的理由）。")
    before = {"review_state": application.state.label, "review_comment": application.review_comment}
    application.review_state = target
    application.review_comment = comment[:2000]
    application.reviewed_at = now()
    application.reviewed_by_id = current_user.id
    _store_counts(application, evaluation)
    record("application.reviewed", object_type="application", object_id=application.id,
           city_id=application.city_id, summary=f"市州初审：{target.label}（{application.title}）",
           before=before, after={"review_state": target.label, "review_comment": application.review_comment})
    db.session.flush()
    return evaluation


def extra_requirements(application: Application) -> list[str]:
    """Requirements outside the figures (the uploaded 申报书), from the files domain."""
    from ..files.services import missing_requirements  # late import: files builds on applications

    return missing_requirements(application)


def delete_application(application: Application) -> None:
    ensure_editable(application)
    if application.state is not ReviewState.DRAFT:
        raise ApplicationError("只有草稿状态的申报可以删除；请先撤回初审结论。")
    shared = {h.other_id for h in duplicates_for(application)}
    record("application.deleted", object_type="application", object_id=application.id,
           city_id=application.city_id, summary=f"删除申报：{application.title}",
           before={k: v for k, v in _snapshot(application).items() if v not in (None, "")})
    db.session.delete(application)
    db.session.flush()
    refresh_counts(shared)


def history(application: Application, limit: int = 30):
    from ..audit.models import AuditEvent

    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "application",
                                 AuditEvent.object_id == str(application.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
