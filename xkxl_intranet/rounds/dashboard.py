"""The province's view of every city at a glance: one row per city with its batch and
counts, in three queries whatever the number of applications, sortable."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from ..applications.models import Application, ProvinceMark, ReviewState
from ..extensions import db
from .models import BatchState, City, CityBatch, Round
from .state import counted


@dataclass
class CityRow:
    city: City
    batch: CityBatch | None
    total: int = 0
    passed: int = 0
    not_recommended: int = 0
    with_problems: int = 0
    marks: dict[str, int] = field(default_factory=dict)
    entered: int = 0  # every application, drafts included: tells 未开始 from 填报中

    @property
    def state(self) -> BatchState:
        if self.batch is None:
            return BatchState.FILLING if self.entered else BatchState.NOT_STARTED
        state = self.batch.state_enum
        if state is BatchState.NOT_STARTED and self.entered:
            return BatchState.FILLING
        return state


def dashboard_rows(round_: Round, *, include_unreported: bool = False) -> list[CityRow]:
    """All 21 cities with their counts: four queries whatever the number of applications."""
    cities = list(db.session.scalars(select(City).order_by(City.sort_order)))
    batches = {b.city_id: b for b in db.session.scalars(select(CityBatch).where(CityBatch.round_id == round_.id))}
    rows = {c.id: CityRow(c, batches.get(c.id)) for c in cities}
    entered = db.session.execute(select(Application.city_id, func.count())
                                 .where(Application.round_id == round_.id).group_by(Application.city_id))
    for city_id, n in entered:
        rows[city_id].entered = int(n)
    counts = db.session.execute(
        select(Application.city_id,
               func.count(),
               func.sum(case((Application.review_state == ReviewState.PASSED, 1), else_=0)),
               func.sum(case((Application.review_state == ReviewState.NOT_RECOMMENDED, 1), else_=0)),
               func.sum(case(((Application.error_count + Application.open_warning_count) > 0, 1), else_=0)),
               func.sum(case((Application.province_mark == ProvinceMark.RECOMMENDED, 1), else_=0)),
               func.sum(case((Application.province_mark == ProvinceMark.CULTIVATION, 1), else_=0)),
               func.sum(case((Application.province_mark == ProvinceMark.NOT_SELECTED, 1), else_=0)))
        .where(counted(round_, include_unreported=include_unreported)).group_by(Application.city_id))
    for city_id, total, passed, not_rec, problems, rec, cult, nots in counts:
        row = rows[city_id]
        row.total, row.passed, row.not_recommended, row.with_problems = (int(total), int(passed or 0),
                                                                         int(not_rec or 0), int(problems or 0))
        row.marks = {"recommended": int(rec or 0), "cultivation": int(cult or 0), "not_selected": int(nots or 0)}
    return [rows[c.id] for c in cities]


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
