"""Where a round and a city's batch stand: the current round, the cities, a batch found or
created on first write, whether it is locked, and the deadline that applies to it.

The bottom of the rounds package, below every other feature package: it imports only its
models. Which applications the province counts (``counted``) is applications' own
(``applications/queries.py``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..clock import now
from ..domain.deadlines import ReportingWindow, effective_deadline, reporting_window
from ..extensions import db
from .models import BatchState, City, CityBatch, Disclosure, Round

LOCKED_MESSAGE = "本市（州）的申报已报送，申报内容为只读；如需修改，请联系省厅退回。"
LOCKED_FILES_MESSAGE = "本市（州）的申报已报送，材料为只读；如需修改，请联系省厅退回。"
# The province opened (or made current) another round: 开启新批次 tells it that the cities can no
# longer report this one, so what they entered in it is read-only too.
NOT_CURRENT_MESSAGE = "这份申报属于“{title}”，该批次已不是当前批次，申报和材料为只读；如需修改，请联系省厅。"


def current_round() -> Round | None:
    """The round marked current (else the latest year)."""
    return db.session.scalar(
        select(Round).order_by(Round.is_current.desc(), Round.year.desc()).limit(1))


def all_cities() -> list[City]:
    return list(db.session.scalars(select(City).order_by(City.sort_order)))


def find_batch(round_id: int, city_id: int) -> CityBatch | None:
    """The city's batch, or ``None`` before its first write: reading never creates one."""
    return db.session.scalar(select(CityBatch).where(CityBatch.round_id == round_id,
                                                     CityBatch.city_id == city_id))


def batch_for_write(round_id: int, city_id: int) -> CityBatch:
    """The city's batch for a write, created (未开始) if this is the first."""
    batch = find_batch(round_id, city_id)
    if batch is None:
        batch = CityBatch(round_id=round_id, city_id=city_id, state=BatchState.NOT_STARTED,
                          disclosure=Disclosure.ACTIVE, is_late=False, report_count=0)
        db.session.add(batch)
        db.session.flush()
    return batch


def batch_or_blank(round_id: int, city_id: int) -> CityBatch:
    """The city's batch for reading: the stored one, or an unsaved 未开始 stand-in that is
    never added to the session (a GET must not create rows)."""
    batch = find_batch(round_id, city_id)
    if batch is None:
        batch = CityBatch(round_id=round_id, city_id=city_id, state=BatchState.NOT_STARTED,
                          disclosure=Disclosure.ACTIVE, is_late=False, report_count=0)
    return batch


def batch_is_locked(round_id: int, city_id: int) -> bool:
    """Reported or accepted, or the round is no longer the current one: the city's applications
    and files are read-only (:func:`lock_reason` says which)."""
    if not round_is_current(round_id):
        return True
    state = db.session.scalar(select(CityBatch.state).where(CityBatch.round_id == round_id,
                                                            CityBatch.city_id == city_id))
    return state is not None and BatchState(state).locked


def round_is_current(round_id: int) -> bool:
    round_ = db.session.get(Round, round_id)  # usually in the session already: no query
    return round_ is not None and round_.is_current


def lock_reason(round_id: int, *, files: bool = False) -> str:
    """Why a locked batch's applications (or files) are read-only, as the clerk is told."""
    if not round_is_current(round_id):
        round_ = db.session.get(Round, round_id)
        return NOT_CURRENT_MESSAGE.format(title=round_.title if round_ is not None else "")
    return LOCKED_FILES_MESSAGE if files else LOCKED_MESSAGE


def note_activity(round_id: int, city_id: int) -> None:
    """The first application moves a batch from 未开始 to 填报中."""
    batch = batch_for_write(round_id, city_id)
    if batch.state_enum is BatchState.NOT_STARTED:
        batch.state = BatchState.FILLING


def deadline_of(round_: Round, batch: CityBatch | None) -> datetime:
    """The deadline that applies to the city: its extension where it has one."""
    return effective_deadline(round_.deadline, batch.extension_deadline if batch else None)


def window_of(round_: Round, batch: CityBatch | None) -> ReportingWindow:
    return reporting_window(now(), round_.deadline, batch.extension_deadline if batch else None)


REPORTED_STATES = (BatchState.REPORTED.value, BatchState.ACCEPTED.value)


def cities_not_reported(round_id: int | None = None) -> dict[int, int]:
    """Round id (every round, or only ``round_id``) -> how many of the 21 cities have not (or no
    longer) reported: the province is told before it publishes results while cities are still
    working."""
    cities = db.session.scalar(select(func.count()).select_from(City)) or 0
    reported_stmt = select(CityBatch.round_id, func.count()).where(CityBatch.state.in_(REPORTED_STATES))
    rounds_stmt = select(Round.id)
    if round_id is not None:
        reported_stmt = reported_stmt.where(CityBatch.round_id == round_id)
        rounds_stmt = rounds_stmt.where(Round.id == round_id)
    reported = {id_: n for id_, n in db.session.execute(reported_stmt.group_by(CityBatch.round_id))}
    return {id_: cities - reported.get(id_, 0) for id_ in db.session.scalars(rounds_stmt)}
