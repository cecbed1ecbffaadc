"""Helpers shared by the review tests: reported applications, a review set up by the province,
sheets given to experts and filled in through the services, as the people would."""
from __future__ import annotations

from datetime import datetime, timedelta

from xkxl_intranet import clock
from xkxl_intranet.applications.evaluation import evaluate
from xkxl_intranet.applications.models import Application
from xkxl_intranet.applications.operations import acknowledge_warning, set_review
from xkxl_intranet.auth.services import create_user
from xkxl_intranet.domain.review_criteria import DEFAULT_WEIGHTS, DIMENSIONS, INDICATORS
from xkxl_intranet.extensions import db
from xkxl_intranet.review.assignment import assign
from xkxl_intranet.review.models import Assignment
from xkxl_intranet.review.queries import review_for
from xkxl_intranet.review.scoring import SheetInput, save_sheet
from xkxl_intranet.review.setup import save_settings
from xkxl_intranet.rounds.state import current_round

from helpers import create_application
from reports.helpers import make_passed, set_batch_state, user  # noqa: F401  (used by the review tests)

CITY_CODES = {"chengdu": "510100", "mianyang": "510700"}


def passed(app, username: str = "chengdu", **overrides) -> int:
    """A valid application 初审通过 through the services, its warnings (another city's code, a
    duplicate) acknowledged by the clerk first."""
    application_id = create_application(app, username, **overrides)
    with app.app_context():
        clerk, application = user(username), db.session.get(Application, application_id)
        for warning in evaluate(application).open_warnings:
            acknowledge_warning(clerk, application, warning.rule, "已核实")
        set_review(clerk, application, "passed", "")
        db.session.commit()
    return application_id


def report(app, *usernames: str) -> None:
    """The cities' batches are reported (已报送): their passed applications are reviewable."""
    for username in usernames:
        set_batch_state(app, CITY_CODES[username], "reported")


def reported(app, username: str = "chengdu", **overrides) -> int:
    """One application 初审通过 in a batch the city has reported (the city's last one: the
    batch is closed to new applications afterwards; use :func:`passed` and :func:`report`
    for several)."""
    application_id = passed(app, username, **overrides)
    report(app, username)
    return application_id


def deadline_in(days: float = 10) -> datetime:
    return (clock.now() + timedelta(days=days)).replace(microsecond=0)


def open_review(app, *, days: float = 10, n: int = 2, weights: dict | None = None) -> int:
    """The province sets up the current round's review."""
    with app.app_context():
        review = save_settings(user("province"), current_round(), deadline=deadline_in(days),
                               weights=weights or DEFAULT_WEIGHTS, experts_per_application=n)
        db.session.commit()
        return review.id


def make_expert(app, username: str, name: str = "") -> int:
    with app.app_context():
        expert, _ = create_user(user("province"), username=username, display_name=name or username,
                                role="expert", city=None, must_change_password=False)
        db.session.commit()
        return expert.id


def give(app, application_id: int, username: str = "expert1") -> int:
    """The province assigns the application to the expert; returns the sheet's id."""
    with app.app_context():
        sheet = assign(user("province"), review_for(current_round()), db.session.get(Application, application_id),
                       user(username))
        db.session.commit()
        return sheet.id


def sheet_input(points: float | str | dict = 8, *, opinion: str = "recommend", complete: bool = True) -> SheetInput:
    """A filled-in sheet: the same points everywhere (or per indicator key), a comment per
    dimension, the opinion and the overall comment."""
    scores = {k: str(points.get(k, "") if isinstance(points, dict) else points) for k in INDICATORS}
    comments = {d.key: f"{d.label}：评价意见" for d in DIMENSIONS} if complete else {}
    return SheetInput(scores, comments, opinion if complete else "", "综合评价：建议推荐。" if complete else "")


def fill(app, sheet_id: int, points: float | str | dict = 8, *, submit: bool = True, opinion: str = "recommend"):
    """The sheet's expert saves (and by default submits) it; returns the outcome."""
    with app.app_context():
        sheet = db.session.get(Assignment, sheet_id)
        outcome = save_sheet(sheet.expert, sheet, sheet_input(points, opinion=opinion), submit=submit)
        db.session.commit()
        return outcome


def form_data(points: float | str | dict = 8, *, action: str = "save", version: int | None = None,
              complete: bool = True) -> dict:
    """What the sheet form posts."""
    typed = sheet_input(points, complete=complete)
    data = {f"score_{k}": v for k, v in typed.scores.items()}
    data.update({f"comment_{k}": v for k, v in typed.comments.items()})
    data.update({"opinion": typed.opinion, "overall_comment": typed.overall_comment, "action": action})
    if version is not None:
        data["version"] = str(version)
    return data


def sheet(app, sheet_id: int) -> Assignment:
    with app.app_context():
        found = db.session.get(Assignment, sheet_id)
        if found is not None:
            db.session.expunge(found)
        return found

