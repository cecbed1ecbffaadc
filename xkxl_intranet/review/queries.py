"""Reading the review: the round's review, the applications it covers, the experts, and score
sheets, always through the acting user's scope (``review.rules.scope_assignments``)."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import lazyload, load_only

from ..applications.models import Application
from ..applications.queries import counted
from ..auth.models import Role, User
from ..domain.duplicates import platform_key
from ..domain.errors import NotFound
from ..extensions import db
from ..rounds.models import BatchState, City, CityBatch, Round
from .models import ACTIVE_STATES, Assignment, Conflict, ReviewRound, SheetState
from .rules import scope_assignments


def review_for(round_: Round | None) -> ReviewRound | None:
    """The round's review, or ``None`` before the province has set it up."""
    if round_ is None:
        return None
    return db.session.scalar(select(ReviewRound).where(ReviewRound.round_id == round_.id))


# What the review's lists and prints read of an application: a dozen of its 120-odd columns.
REVIEW_COLUMNS = (
    Application.id, Application.round_id, Application.city_id, Application.position, Application.version,
    Application.enterprise_name, Application.platform_name, Application.credit_code, Application.org_code_key,
    Application.review_state, Application.province_mark, Application.province_note, Application.quota_exempt)


def reviewable_applications(round_: Round) -> list[Application]:
    """What the experts review: what the cities reported (初审通过 in a 已报送/已受理 batch),
    city by city in 附件3 order."""
    return list(db.session.scalars(
        select(Application).join(City, Application.city_id == City.id).where(counted(round_))
        .options(load_only(*REVIEW_COLUMNS))
        .order_by(City.sort_order, Application.position, Application.id)))


def batch_states(round_: Round) -> dict[int, BatchState]:
    """City id -> the state of its batch in the round (cities without a batch are left out)."""
    rows = db.session.execute(select(CityBatch.city_id, CityBatch.state).where(CityBatch.round_id == round_.id))
    return {city_id: BatchState(state) for city_id, state in rows}


def is_reviewable(application: Application) -> bool:
    return db.session.scalar(select(func.count()).select_from(Application).where(
        Application.id == application.id, counted(application.round))) == 1


def expert_accounts(*, enabled_only: bool = True) -> list[User]:
    stmt = select(User).where(User.role == Role.EXPERT)
    if enabled_only:
        stmt = stmt.where(User.is_enabled)
    return list(db.session.scalars(stmt.order_by(User.username)))


def get_assignment(user: User, assignment_id: int) -> Assignment:
    """A score sheet ``user`` may read; :class:`NotFound` otherwise (another expert's)."""
    assignment = db.session.scalar(scope_assignments(
        select(Assignment).where(Assignment.id == assignment_id), user))
    if assignment is None:
        raise NotFound
    return assignment


def round_assignments(review: ReviewRound) -> list[Assignment]:
    """Every sheet of the review, recused ones included, in a stable order. Each sheet's
    application and review are found in the session (the caller has loaded them), not read
    again with every sheet."""
    return list(db.session.scalars(
        select(Assignment).where(Assignment.review_round_id == review.id)
        .options(lazyload(Assignment.application), lazyload(Assignment.review_round))
        .order_by(Assignment.application_id, Assignment.id)))


def sheets_by_application(review: ReviewRound) -> dict[int, list[Assignment]]:
    grouped: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in round_assignments(review):
        grouped[assignment.application_id].append(assignment)
    return grouped


def expert_sheets(expert: User, review: ReviewRound) -> list[Assignment]:
    """An expert's own sheets in the review (recused ones included, shown as such)."""
    return list(db.session.scalars(
        select(Assignment).join(Application, Assignment.application_id == Application.id)
        .join(City, Application.city_id == City.id)
        .where(Assignment.review_round_id == review.id, Assignment.expert_id == expert.id)
        .order_by(City.sort_order, Application.position, Application.id)))


def sheet_for(expert: User, application: Application) -> Assignment | None:
    """The expert's sheet for the application, if it is assigned to them."""
    return db.session.scalar(select(Assignment).where(Assignment.expert_id == expert.id,
                                                      Assignment.application_id == application.id))


def expert_loads(review: ReviewRound) -> dict[int, int]:
    """Expert id -> how many sheets they hold in the review (recused ones do not count)."""
    rows = db.session.execute(
        select(Assignment.expert_id, func.count()).where(Assignment.review_round_id == review.id,
                                                         Assignment.state.in_(ACTIVE_STATES))
        .group_by(Assignment.expert_id))
    return {expert_id: int(n) for expert_id, n in rows}


def open_sheet_count(expert: User, review: ReviewRound) -> int:
    return db.session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.review_round_id == review.id, Assignment.expert_id == expert.id,
        Assignment.state.in_((SheetState.ASSIGNED.value, SheetState.DRAFT.value)))) or 0


def submitted_count(review: ReviewRound) -> int:
    return db.session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.review_round_id == review.id, Assignment.state == SheetState.SUBMITTED)) or 0


# ---- conflicts of interest ------------------------------------------------------------------------

def enterprise_keys(application: Application) -> tuple[str | None, str | None]:
    """How an enterprise is recognised across applications: its 组织机构代码 and its name
    compared ignoring width, spaces and punctuation (as the duplicate check does)."""
    return application.org_code_key, platform_key(application.enterprise_name)


def conflicts_of(review: ReviewRound, expert_id: int | None = None) -> list[Conflict]:
    stmt = select(Conflict).where(Conflict.review_round_id == review.id)
    if expert_id is not None:
        stmt = stmt.where(Conflict.expert_id == expert_id)
    return list(db.session.scalars(stmt.order_by(Conflict.declared_at, Conflict.id)))


def conflict_with(conflicts: list[Conflict], expert_id: int, application: Application) -> Conflict | None:
    """The expert's declared conflict that covers the application's enterprise, if any."""
    code, name = enterprise_keys(application)
    for conflict in conflicts:
        if conflict.expert_id != expert_id:
            continue
        if (code and conflict.org_code_key == code) or (name and conflict.name_key == name):
            return conflict
    return None
