"""The province's view of every city at a glance: one row per city with its batch and
counts, in one query whatever the number of applications, sortable.

The dashboard is polled from every open province page and, whenever data changed, rendered
again; its query is therefore built once per process (the round is a bound parameter) and
each row's state is worked out once, not at every mention in the template."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import BindParameter, and_, bindparam, case, func, select

from ..applications.models import Application, ProvinceMark, ReviewState
from ..applications.queries import counted_in_round
from ..extensions import db
from ..rounds.models import BatchFacts, BatchState, City, CityBatch, Round


@dataclass(frozen=True, slots=True)
class CityInfo:
    """The city as the dashboard shows it (the names of :class:`City`)."""

    id: int
    name: str
    pinyin: str
    sort_order: int


@dataclass(frozen=True, slots=True)
class BatchInfo(BatchFacts):
    """The city's batch as the dashboard shows it (the names of :class:`CityBatch`)."""

    state: str
    is_late: bool
    reported_at: datetime | None
    extension_deadline: datetime | None
    paper_forms_received_on: date | None
    paper_disc_received_on: date | None
    paper_summary_received_on: date | None


@dataclass
class CityRow:
    city: CityInfo
    batch: BatchInfo | None
    total: int = 0
    passed: int = 0
    not_recommended: int = 0
    with_problems: int = 0
    marks: dict[str, int] = field(default_factory=dict)
    entered: int = 0  # every application, drafts included: tells 未开始 from 填报中
    state: BatchState = BatchState.NOT_STARTED
    # Bar lengths of the chart, in its SVG units (set by :func:`dashboard_view`).
    bar_total: float = 0.0
    bar_passed: float = 0.0

    def __post_init__(self) -> None:
        self.state = self._state()

    def _state(self) -> BatchState:
        if self.batch is None:
            return BatchState.FILLING if self.entered else BatchState.NOT_STARTED
        state = self.batch.state_enum
        if state is BatchState.NOT_STARTED and self.entered:
            return BatchState.FILLING
        return state


def _sum(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


CITY_COLUMNS = (City.id, City.name, City.pinyin, City.sort_order)
BATCH_COLUMNS = (CityBatch.state, CityBatch.is_late, CityBatch.reported_at, CityBatch.extension_deadline,
                 CityBatch.paper_forms_received_on, CityBatch.paper_disc_received_on,
                 CityBatch.paper_summary_received_on)
COUNT_NAMES = ("entered", "total", "passed", "not_recommended", "problems", *(m.value for m in ProvinceMark))


@lru_cache(maxsize=2)
def _rows_statement(include_unreported: bool):
    """Every city, its batch in the round, and its counts: one statement of plain columns
    (no ORM objects to build), built once per process."""
    round_id: BindParameter[int] = bindparam("round_id")
    counted = counted_in_round(round_id, include_unreported=include_unreported)
    counts = (select(
        Application.city_id.label("city_id"),
        func.count().label("entered"),
        _sum(counted).label("total"),
        _sum(and_(counted, Application.review_state == ReviewState.PASSED)).label("passed"),
        _sum(and_(counted, Application.review_state == ReviewState.NOT_RECOMMENDED)).label("not_recommended"),
        _sum(and_(counted, (Application.error_count + Application.open_warning_count) > 0)).label("problems"),
        *(_sum(and_(counted, Application.province_mark == mark)).label(mark.value) for mark in ProvinceMark))
        .where(Application.round_id == round_id).group_by(Application.city_id).subquery())
    return (select(*CITY_COLUMNS, CityBatch.id, *BATCH_COLUMNS, *(counts.c[name] for name in COUNT_NAMES))
            .select_from(City)
            .outerjoin(CityBatch, and_(CityBatch.city_id == City.id, CityBatch.round_id == round_id))
            .outerjoin(counts, counts.c.city_id == City.id)
            .order_by(City.sort_order))


def dashboard_rows(round_: Round, *, include_unreported: bool = False) -> list[CityRow]:
    """All 21 cities with their counts: one query whatever the number of applications."""
    cities, batches = len(CITY_COLUMNS), len(BATCH_COLUMNS)
    rows = []
    # Plain rows through the session's connection: no ORM entity, so no ORM execution step.
    statement = _rows_statement(include_unreported)
    for record in db.session.connection().execute(statement, {"round_id": round_.id}):
        batch_id = record[cities]
        batch = BatchInfo(*record[cities + 1:cities + 1 + batches]) if batch_id is not None else None
        entered, total, passed, not_rec, problems, *marks = (int(n or 0) for n in record[cities + 1 + batches:])
        rows.append(CityRow(CityInfo(*record[:cities]), batch, total=total, passed=passed,
                            not_recommended=not_rec, with_problems=problems, entered=entered,
                            marks=dict(zip((m.value for m in ProvinceMark), marks, strict=True))))
    return rows


SORT_KEYS = {
    "city": lambda r: r.city.sort_order,
    "state": lambda r: list(BatchState).index(r.state),
    "total": lambda r: r.total,
    "passed": lambda r: r.passed,
    "problems": lambda r: r.with_problems,
    "reported": lambda r: (r.batch is None or r.batch.reported_at is None,
                           r.batch.reported_at.timestamp() if r.batch and r.batch.reported_at else 0),
    "paper": lambda r: not (r.batch and r.batch.paper_complete),
}


def sort_rows(rows: list[CityRow], key: str, descending: bool) -> list[CityRow]:
    function = SORT_KEYS.get(key, SORT_KEYS["city"])
    return sorted(rows, key=function, reverse=descending)


CHART_WIDTH = 360  # the state bar's SVG width
BAR_WIDTH = 206  # the longest city bar: 122 + 206 + its figure fit the 360 of the SVG
STATE_COLORS = {"not_started": "#cfd6df", "filling": "#8fb3ea", "reported": "#5bb07f",
                "returned": "#e0675c", "accepted": "#1e7a46"}


@dataclass
class StateSegment:
    state: BatchState
    cities: int
    x: float
    width: float
    color: str


@dataclass
class DashboardView:
    """What the table and its charts show, worked out here rather than in the template (which
    is rendered again on every poll after a change)."""

    rows: list[CityRow]
    by_state: dict[str, int]
    segments: list[StateSegment]
    total: int
    passed: int


def dashboard_view(rows: list[CityRow]) -> DashboardView:
    by_state = {s.value: 0 for s in BatchState}
    for row in rows:
        by_state[row.state.value] += 1
    longest = max([r.total for r in rows] + [1])
    for row in rows:
        row.bar_total = round(row.total / longest * BAR_WIDTH, 1)
        row.bar_passed = round(row.passed / longest * BAR_WIDTH, 1)
    segments, x = [], 0
    for state in BatchState:
        if by_state[state.value]:
            segments.append(StateSegment(state, by_state[state.value], round(x / len(rows) * CHART_WIDTH, 2),
                                         round(by_state[state.value] / len(rows) * CHART_WIDTH, 2),
                                         STATE_COLORS[state.value]))
            x += by_state[state.value]
    return DashboardView(rows, by_state, segments, sum(r.total for r in rows), sum(r.passed for r in rows))
