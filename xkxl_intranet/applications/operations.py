"""Writing applications: save, acknowledge a warning, 市州初审, delete.

Each operation takes the acting user and plain values, raises :class:`Refused` with the
clerk's message, and only flushes: the route commits (``web.unit_of_work``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select

from ..audit.services import record
from ..auth.models import User
from ..clock import now
from ..domain.declaration import Form
from ..domain.duplicates import org_code_key, platform_key
from ..domain.errors import Refused
from ..domain.evaluation import Evaluation
from ..domain.parsing import ParsedInput, differs, format_field
from ..extensions import db
from ..files.operations import delete_application_files
from ..files.queries import missing_requirements
from ..rounds.models import City, Round
from ..rounds.state import batch_is_locked, lock_reason, note_activity
from .evaluation import evaluate, evaluate_input, recheck, refresh_counts
from .models import Application, ReviewState
from .reverting import clear_review, no_longer_passes, record_reverted


class EditConflict(Refused):
    """Someone else saved the application after this editor loaded it."""

    def __init__(self, application: Application, changes: list[tuple[str, str, str]]):
        who = application.updated_by.display_name if application.updated_by else "其他用户"
        super().__init__(
            f"保存未成功：{who} 已于 {application.updated_at:%H:%M:%S} 修改了这份申报（版本 {application.version}）。"
            "您填写的内容仍保留在下面的表格中；请对照下列差异核对后再保存。")
        self.application = application
        self.changes = changes  # (label, your value, saved value)


def json_value(form: Form, key: str, value: Any) -> Any:
    """A value as the audit trail keeps it: the text a clerk would read."""
    if value is None:
        return None
    return format_field(form.fields[key], value)


def _snapshot(application: Application) -> dict[str, Any]:
    form = application.round.form
    return {key: json_value(form, key, value) for key, value in application.values().items()}


def next_position(round_: Round, city: City) -> int:
    current = db.session.scalar(select(func.max(Application.position)).where(
        Application.round_id == round_.id, Application.city_id == city.id))
    return (current or 0) + 1


def is_editable(application: Application) -> bool:
    """Whether the city may still change the application: not once its batch is reported."""
    return not batch_is_locked(application.round_id, application.city_id)


def ensure_editable(application: Application) -> None:
    if not is_editable(application):
        raise Refused(lock_reason(application.round_id))


def ensure_city_open(round_: Round, city: City) -> None:
    """A reported (or accepted) batch takes no new application: only 退回 reopens it; nor does
    a round that is no longer the current one."""
    if batch_is_locked(round_.id, city.id):
        raise Refused(lock_reason(round_.id))


def edit_conflict(application: Application, values: Mapping[str, Any]) -> EditConflict:
    """What the editor's values (read once) and the saved ones differ in, as a clerk sees them:
    the saved choices are a list, the parsed ones a tuple, and they are equal."""
    form, saved = application.round.form, application.values()
    changes = [(f.label, json_value(form, k, values.get(k)) or "", json_value(form, k, saved[k]) or "")
               for k, f in form.fields.items() if differs(f, saved[k], values.get(k))]
    return EditConflict(application, changes)


def _new_application(user: User, round_: Round, city: City) -> Application:
    note_activity(round_.id, city.id)
    application = Application(round=round_, city=city, review_state=ReviewState.DRAFT,
                              position=next_position(round_, city), acknowledgements={},
                              created_at=now(), created_by_id=user.id)
    db.session.add(application)
    return application


def _assign(application: Application, form: Form, values: Mapping[str, Any]) -> None:
    application.store_values(form, values)
    application.org_code_key = org_code_key(application.credit_code)
    application.platform_key = platform_key(application.platform_name)


def _record_save(user: User, application: Application, form: Form, before: dict[str, Any] | None,
                 after: dict[str, Any]) -> None:
    if before is None:
        record("application.created", user=user, object_type="application",
               object_id=application.id, city_id=application.city_id,
               summary=f"新建申报：{application.title}",
               after={k: v for k, v in after.items() if v not in (None, "")})
        return
    changed = [k for k in form.fields if before.get(k) != after.get(k)]
    if not changed:
        return
    labels = "、".join(form.fields[k].label for k in changed[:5]) + ("等" if len(changed) > 5 else "")
    record("application.updated", user=user, object_type="application", object_id=application.id,
           city_id=application.city_id,
           summary=f"修改申报：{application.title}（{len(changed)}项：{labels}）",
           before={k: before[k] for k in changed}, after={k: after[k] for k in changed})


def _others_sharing(application: Application, keys: set[str | None]) -> set[int]:
    keys = keys - {None}
    if not keys:
        return set()
    return set(db.session.scalars(select(Application.id).where(
        Application.round_id == application.round_id, Application.id != application.id,
        or_(Application.org_code_key.in_(keys), Application.platform_key.in_(keys)))))


def save_application(user: User, application: Application | None, typed: ParsedInput, *,
                     city: City, round_: Round,
                     expected_version: int | None) -> tuple[Application | None, Evaluation]:
    """Create (``application=None``) or update from what the clerk typed, read once where it
    came in (:func:`parsing.parse_input`, or the indicator template's reader).

    Values that cannot be read (letters in a number…) are not saved: the clerk sees the
    message beside the field and keeps what they typed. Rule errors and warnings do not
    stop a draft from being saved; they stop it from entering the city's batch. The one
    evaluation of the input is also the saved application's: it is not checked twice.
    """
    if application is not None:
        ensure_editable(application)
    else:
        ensure_city_open(round_, city)
    evaluation = evaluate_input(typed, city=city, round_=round_, application=application)
    if evaluation.result.parse_errors:
        return None, evaluation
    values = evaluation.values
    if application is not None and expected_version is not None \
            and expected_version != application.version:
        raise edit_conflict(application, values)
    before = None if application is None else _snapshot(application)
    old_keys = set() if application is None else {application.org_code_key, application.platform_key}
    if application is None:
        application = _new_application(user, round_, city)
    _assign(application, round_.form, values)
    application.updated_at = now()
    application.updated_by_id = user.id
    recheck(application, evaluation)  # what was checked is what is now stored
    reverted = no_longer_passes(application, evaluation)
    old_comment = clear_review(application) if reverted else ""
    # One UPDATE per save: everything above is written by this flush, so the version (the
    # optimistic lock the editor sends back) rises by exactly one.
    db.session.flush()
    _record_save(user, application, round_.form, before, _snapshot(application))
    if reverted:
        record_reverted(user, application, old_comment=old_comment, because="修改后存在未解决的问题，初审状态退回草稿")
    # Others who share (or shared) a code or platform name see the change in their flags.
    new_keys = {application.org_code_key, application.platform_key}
    refresh_counts({h.other_id for h in evaluation.duplicates}
                   | _others_sharing(application, old_keys - new_keys))
    db.session.flush()
    return application, evaluation


def acknowledge_warning(user: User, application: Application, rule: str, note: str) -> Evaluation:
    ensure_editable(application)
    evaluation = evaluate(application)
    warning = next((w for w in evaluation.warnings if w.rule == rule), None)
    if warning is None:
        raise Refused("该提示已不存在（可能数据已修改），无需确认。")
    note = (note or "").strip()
    if not note:
        raise Refused("请填写确认说明，说明该提示为何可以接受。")
    acknowledgements = dict(application.acknowledgements or {})
    acknowledgements[rule] = {"note": note[:500], "message": warning.message,
                              "by": user.username, "by_name": user.display_name or user.username,
                              "at": now().isoformat(timespec="seconds")}
    application.acknowledgements = acknowledgements
    evaluation.acknowledged = acknowledgements  # the same checks, with this warning acknowledged
    recheck(application, evaluation)
    record("application.warning_acknowledged", user=user, object_type="application",
           object_id=application.id, city_id=application.city_id,
           summary=f"确认提示：{warning.message}", after={"rule": rule, "note": note[:500]})
    db.session.flush()
    return evaluation


def review_blockers(application: Application, evaluation: Evaluation) -> list[str]:
    """What stops 初审通过: open findings, then what the files still lack."""
    return [f.message for f in evaluation.blocking] + missing_requirements(application)


def set_review(user: User, application: Application, decision: str, comment: str) -> Evaluation:
    """市州初审: 通过 only when nothing blocks; 不推荐 needs a reason; 草稿 withdraws."""
    ensure_editable(application)
    try:
        target = ReviewState(decision)
    except ValueError:
        raise Refused("请选择初审结论：通过或不推荐。") from None
    comment = (comment or "").strip()
    evaluation = evaluate(application)
    if target is ReviewState.PASSED:
        missing = review_blockers(application, evaluation)
        if missing:
            raise Refused("尚有以下问题，不能初审通过：" + "；".join(missing[:20])
                          + ("……" if len(missing) > 20 else ""))
    if target is ReviewState.NOT_RECOMMENDED and not comment:
        raise Refused("不推荐时请填写初审意见（不推荐的理由）。")
    before = {"review_state": application.state.label, "review_comment": application.review_comment}
    if target is ReviewState.DRAFT:
        clear_review(application)
    else:
        application.review_state = target
        application.review_comment = comment[:2000]
        application.reviewed_at = now()
        application.reviewed_by_id = user.id
    recheck(application, evaluation)  # a conclusion changes no check: the counts stay right
    record("application.reviewed", user=user, object_type="application", object_id=application.id,
           city_id=application.city_id,
           summary=(f"撤回初审结论，退回草稿（{application.title}）" if target is ReviewState.DRAFT
                    else f"市州初审：{target.label}（{application.title}）"),
           before=before, after={"review_state": target.label, "review_comment": comment[:2000]})
    db.session.flush()
    return evaluation


def delete_application(user: User, application: Application) -> None:
    ensure_editable(application)
    if application.state is not ReviewState.DRAFT:
        raise Refused("只有草稿状态的申报可以删除；请先撤回初审结论。")
    shared = _others_sharing(application, {application.org_code_key, application.platform_key})
    record("application.deleted", user=user, object_type="application", object_id=application.id,
           city_id=application.city_id, summary=f"删除申报：{application.title}",
           before={k: v for k, v in _snapshot(application).items() if v not in (None, "")})
    delete_application_files(user, application)
    db.session.delete(application)
    db.session.flush()
    refresh_counts(shared)
