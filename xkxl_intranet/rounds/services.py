"""Rounds, deadlines and cities: queries and writes (flush only, the caller commits)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..audit.services import record
from ..clock import now
from ..extensions import db
from .models import City, Round
from .reference import CITIES, ROUND_2022


def ensure_reference_data() -> dict[str, int]:
    """Create the 21 cities and the 2022 round if missing. Safe to run again."""
    created = {"cities": 0, "rounds": 0}
    existing = {c.code: c for c in db.session.scalars(select(City))}
    for order, (code, name, pinyin, department) in enumerate(CITIES, start=1):
        if code in existing:
            continue
        db.session.add(City(code=code, name=name, pinyin=pinyin, sort_order=order,
                            department_name=department))
        created["cities"] += 1
    if db.session.scalar(select(Round).where(Round.year == ROUND_2022["year"])) is None:
        has_current = db.session.scalar(select(Round).where(Round.is_current)) is not None
        db.session.add(Round(**ROUND_2022, is_current=not has_current))
        created["rounds"] += 1
    db.session.flush()
    return created


def all_cities() -> list[City]:
    return list(db.session.scalars(select(City).order_by(City.sort_order)))


def current_round() -> Round | None:
    return db.session.scalar(
        select(Round).order_by(Round.is_current.desc(), Round.year.desc()).limit(1)
    )


def mark_round_as_demo(round_: Round, *, days: int = 10) -> None:
    """Demo data: the notice's deadline has passed, so move it ``days`` ahead of now."""
    before = round_.deadline
    round_.deadline = (now() + timedelta(days=days)).replace(microsecond=0)
    round_.is_demo = True
    db.session.flush()
    record("round.demo_deadline", object_type="round", object_id=round_.id,
           summary=f"演示数据：截止时间改为 {round_.deadline:%Y-%m-%d %H:%M}",
           before={"deadline": before.isoformat()}, after={"deadline": round_.deadline.isoformat()})
