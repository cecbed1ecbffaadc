"""Who scores what: the province gives reported applications to experts by hand or "each to N
experts, balanced", never to an expert who declared a conflict of interest with the
enterprise; an expert declares one (回避) from their list. Operations take the acting user,
raise :class:`Refused` / :class:`NotFound`, and only flush."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..applications.models import Application
from ..audit.services import record
from ..auth.models import Role, User
from ..clock import now
from ..domain.deadlines import format_deadline
from ..domain.errors import Refused
from ..domain.notices import NoticeKind
from ..extensions import db
from ..notifications.operations import Link, notify, province_accounts
from .models import ACTIVE_STATES, Assignment, Conflict, ReviewRound, SheetState
from .queries import (
    conflict_with,
    conflicts_of,
    enterprise_keys,
    expert_accounts,
    expert_loads,
    is_reviewable,
    reviewable_applications,
    sheets_by_application,
)

NOT_REVIEWABLE = "只有市（州）已报送且市州初审通过的申报可以分配评审专家。"


def _expert_name(expert: User) -> str:
    return f"{expert.display_name or expert.username}（{expert.username}）"


def _create(user: User, review: ReviewRound, application: Application, expert: User) -> Assignment:
    assignment = Assignment(review_round_id=review.id, application_id=application.id, expert_id=expert.id,
                            state=SheetState.ASSIGNED, scores={}, comments={}, overall_comment="",
                            assigned_at=now(), assigned_by_id=user.id)
    db.session.add(assignment)
    db.session.flush()
    # No city_id: a city never learns who reviews its applications.
    record("review.assigned", user=user, object_type="assignment", object_id=assignment.id,
           summary=f"分配评审：{application.title}（{application.city.name}）→ 专家 {_expert_name(expert)}",
           after={"application_id": application.id, "expert": expert.username})
    return assignment


def assign(user: User, review: ReviewRound, application: Application, expert: User) -> Assignment:
    """Give one application to one expert, by hand."""
    if application.round_id != review.round_id or not is_reviewable(application):
        raise Refused(NOT_REVIEWABLE)
    if expert.role != Role.EXPERT or not expert.is_enabled:
        raise Refused("只能分配给启用中的评审专家账号。")
    existing = next((a for a in sheets_by_application(review).get(application.id, [])
                     if a.expert_id == expert.id), None)
    if existing is not None and existing.state == SheetState.RECUSED:
        raise Refused(f"专家 {_expert_name(expert)} 已对这份申报申请回避：{existing.recusal_reason}")
    if existing is not None:
        raise Refused(f"这份申报已分配给专家 {_expert_name(expert)}。")
    conflict = conflict_with(conflicts_of(review, expert.id), expert.id, application)
    if conflict is not None:
        raise Refused(f"专家 {_expert_name(expert)} 已申报与“{conflict.enterprise_name}”存在利益冲突"
                      f"（{conflict.reason}），不能分配。")
    assignment = _create(user, review, application, expert)
    _notify_assigned(expert, review, [application.title])
    return assignment


def _notify_assigned(expert: User, review: ReviewRound, titles: list[str]) -> None:
    """An expert learns of new sheets to score: one notice per assigning, however many."""
    shown = "、".join(titles[:5]) + (f"等{len(titles)}份" if len(titles) > 5 else "")
    notify([expert], NoticeKind.EXPERT_ASSIGNED, f"新分配给您 {len(titles)} 份申报评审",
           f"请在评审截止时间（{format_deadline(review.deadline)}）前完成评分：{shown}。", Link("review.mine"))


@dataclass
class Balanced:
    """What "each application to N experts, balanced" did."""

    created: list[Assignment] = field(default_factory=list)
    short: list[tuple[Application, int]] = field(default_factory=list)  # (application, experts it has)
    loads: dict[int, int] = field(default_factory=dict)  # expert id -> sheets after assigning

    @property
    def message(self) -> str:
        text = f"已新分配 {len(self.created)} 份评分任务。"
        if self.short:
            text += ("以下申报可分配的专家不足（已排除申报回避的专家）：" + "；".join(
                f"{a.title}（现有{n}位）" for a, n in self.short[:10]) + "。")
        return text


def assign_balanced(user: User, review: ReviewRound, n: int,
                    expert_ids: Iterable[int] | None = None) -> Balanced:
    """Top every reviewable application up to ``n`` experts, each time choosing among the
    eligible experts those with the fewest sheets, so that loads differ by at most one where
    conflicts allow. An expert already on the application (or recused from it) or with a
    declared conflict with its enterprise is skipped. Ties rotate with the application, so the
    same experts are not always paired."""
    experts = [e for e in expert_accounts() if expert_ids is None or e.id in set(expert_ids)]
    if not experts:
        raise Refused("没有可分配的评审专家：请先由系统管理员在“账号管理”中创建评审专家账号，或至少选择一位专家。")
    result = Balanced(loads={e.id: 0 for e in experts})
    result.loads.update({k: v for k, v in expert_loads(review).items() if k in result.loads})
    conflicts = conflicts_of(review)
    sheets = sheets_by_application(review)
    for index, application in enumerate(reviewable_applications(review.round)):
        on_it = sheets.get(application.id, [])
        taken = {a.expert_id for a in on_it}
        have = sum(a.state in ACTIVE_STATES for a in on_it)
        eligible = [e for e in experts if e.id not in taken
                    and conflict_with(conflicts, e.id, application) is None]
        eligible.sort(key=lambda e: (result.loads[e.id], (experts.index(e) - index) % len(experts)))
        chosen = eligible[:max(n - have, 0)]
        for expert in chosen:
            result.created.append(_create(user, review, application, expert))
            result.loads[expert.id] += 1
        if have + len(chosen) < n:
            result.short.append((application, have + len(chosen)))
    for expert in experts:
        titles = [a.application.title for a in result.created if a.expert_id == expert.id]
        if titles:
            _notify_assigned(expert, review, titles)
    return result


def unassign(user: User, assignment: Assignment) -> None:
    """Take an application back from an expert; a submitted sheet stays (reopen it instead)."""
    if assignment.is_submitted:
        raise Refused("已提交的评分表不能撤销分配；如需重新评分，请退回该评分表。")
    before = {"expert": assignment.expert.username, **assignment.snapshot()}
    record("review.unassigned", user=user, object_type="assignment", object_id=assignment.id,
           summary=f"撤销分配：{assignment.application.title} ← 专家 {_expert_name(assignment.expert)}",
           before=before)
    db.session.delete(assignment)
    db.session.flush()


def declare_conflict(expert: User, assignment: Assignment, reason: str) -> Conflict:
    """The expert declares a conflict of interest with the application's enterprise: this sheet
    and any other open one of the same enterprise are recused, and no later assignment gives
    them an application of it."""
    reason = (reason or "").strip()
    if assignment.expert_id != expert.id:
        raise Refused("只能对分配给自己的申报申请回避。")
    if not reason:
        raise Refused("请填写回避理由（如：曾在该企业任职、近三年有合作关系）。")
    if not assignment.is_open:
        raise Refused("评分表已提交，不能再申请回避；如确有利益冲突，请联系省厅退回该评分表。")
    application = assignment.application
    code, name = enterprise_keys(application)
    conflict = Conflict(review_round_id=assignment.review_round_id, expert_id=expert.id, org_code_key=code,
                        name_key=name, enterprise_name=application.enterprise_name or application.title,
                        reason=reason[:1000], application_id=application.id, declared_at=now(),
                        declared_by_id=expert.id)
    db.session.add(conflict)
    db.session.flush()
    recused = []
    for sheet in sheets_by_application(assignment.review_round).values():
        for other in sheet:
            if other.expert_id == expert.id and other.is_open and \
                    conflict_with([conflict], expert.id, other.application) is not None:
                other.state = SheetState.RECUSED
                other.recused_at = now()
                other.recusal_reason = conflict.reason
                recused.append(other)
    record("review.conflict_declared", user=expert, object_type="assignment", object_id=assignment.id,
           summary=f"专家 {_expert_name(expert)} 申请回避：{conflict.enterprise_name}（{conflict.reason[:200]}）",
           after={"enterprise": conflict.enterprise_name, "reason": conflict.reason,
                  "recused_assignments": [a.id for a in recused]})
    db.session.flush()
    # The province acts next: the recused applications need another expert.
    notify(province_accounts(), NoticeKind.EXPERT_RECUSED,
           f"专家 {_expert_name(expert)} 申请回避 {len(recused)} 份申报，请另行分配",
           f"{conflict.enterprise_name}：{conflict.reason[:200]}。回避的申报："
           + "、".join(a.application.title for a in recused[:10]) + "。",
           Link("applications.detail", {"application_id": application.id}))
    return conflict
