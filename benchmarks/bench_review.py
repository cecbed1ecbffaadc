"""Expert review: the province's ranking and application page, the expert's sheet and its live
totals, and the 评审汇总表, with 3 experts per application. SQL queries per request must not grow
with the number of applications; times are printed beside a bare route and beside the same
application page without the review (a city clerk's), measured in the same run.

Run: .venv/bin/python benchmarks/bench_review.py
"""
from __future__ import annotations

import shutil
from datetime import timedelta

from _common import PASSWORD, fill_applications, login, make_app, median_seconds, queries_for, table

from xkxl_intranet.applications.models import Application
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.services import create_user
from xkxl_intranet.clock import now
from xkxl_intranet.domain.review_criteria import DEFAULT_WEIGHTS, DIMENSIONS, INDICATORS
from xkxl_intranet.extensions import db
from xkxl_intranet.review.aggregation import ranking
from xkxl_intranet.review.assignment import assign_balanced
from xkxl_intranet.review.models import Assignment, SheetState
from xkxl_intranet.review.prints import summary_pdf, summary_xlsx
from xkxl_intranet.review.queries import review_for
from xkxl_intranet.review.setup import save_settings
from xkxl_intranet.rounds.state import all_cities, batch_for_write, current_round

EXPERTS = 6
PER_APPLICATION = 3


def _review(app) -> None:
    """Every application passed and reported; the review set up; 3 experts on each; every sheet
    but one submitted (the expert's open sheet is the one the benchmark types into)."""
    with app.app_context():
        round_ = current_round()
        db.session.execute(db.update(Application).values(review_state="passed"))
        for city in all_cities():
            batch_for_write(round_.id, city.id).state = "reported"
        province = db.session.scalar(db.select(User).where(User.username == "province"))
        for n in range(1, EXPERTS + 1):
            if db.session.scalar(db.select(User).where(User.username == f"expert{n}")) is None:
                create_user(province, username=f"expert{n}", display_name=f"专家{n}", role="expert", city=None,
                            password=PASSWORD, must_change_password=False)
        review = review_for(round_) or save_settings(province, round_, deadline=now() + timedelta(days=10),
                                                     weights=DEFAULT_WEIGHTS, experts_per_application=3)
        assign_balanced(province, review, PER_APPLICATION)
        for sheet in db.session.scalars(db.select(Assignment).where(Assignment.state == SheetState.ASSIGNED)):
            sheet.scores = {k: str(5 + (sheet.id + i) % 6) for i, k in enumerate(INDICATORS)}
            sheet.comments = {d.key: "评价意见" for d in DIMENSIONS}
            sheet.opinion, sheet.overall_comment = "recommend", "综合评价"
            sheet.state, sheet.submitted_at = SheetState.SUBMITTED, now()
        first = db.session.scalar(db.select(Assignment).join(User, Assignment.expert_id == User.id)
                                  .where(User.username == "expert1").order_by(Assignment.application_id))
        first.state, first.submitted_at = SheetState.DRAFT, None
        db.session.commit()


def _typing_form() -> dict:
    data = {f"score_{k}": "8" for k in INDICATORS}
    data.update({f"comment_{d.key}": "意见" for d in DIMENSIONS})
    return data


def main() -> None:
    app, instance = make_app()

    @app.route("/__bare")
    def bare():
        return "ok"

    rows, results = [], {}
    for per_city in (2, 6):
        fill_applications(app, per_city)
        _review(app)
        with app.app_context():
            expert1 = db.session.scalar(db.select(User).where(User.username == "expert1"))
            sheet = db.session.scalar(db.select(Assignment).where(Assignment.expert_id == expert1.id,
                                                                  Assignment.state == SheetState.DRAFT))
            sheet_id, application_id = sheet.id, sheet.application_id
            city = db.session.get(Application, application_id).city.pinyin
            sheets = db.session.scalar(db.select(db.func.count()).select_from(Assignment))
        province, expert, clerk = login(app, "province"), login(app, "expert1"), login(app, city)
        requests = {
            "bare Flask route": (province, "GET", "/__bare"),
            "application page, city clerk (no review)": (clerk, "GET", f"/applications/{application_id}"),
            "application page, province (review panel)": (province, "GET", f"/applications/{application_id}"),
            "application page, expert (score sheet)": (expert, "GET", f"/applications/{application_id}"),
            "expert's list": (expert, "GET", "/review/"),
            "live totals (each pause in typing)": (expert, "POST", f"/review/sheets/{sheet_id}/totals"),
            "ranking (province)": (province, "GET", "/review/ranking"),
            "评审汇总表 xlsx": (province, "GET", "/review/ranking.xlsx"),
        }
        times = {}
        for name, (client, method, url) in requests.items():
            call = (lambda c=client, u=url: c.post(u, data=_typing_form(), headers={"HX-Request": "true"})) \
                if method == "POST" else (lambda c=client, u=url: c.get(u))
            assert call().status_code == 200, url
            results[(name, per_city)] = queries_for(app, call)
            times[name] = median_seconds(call, 40 if "page" in name or "bare" in name or "live" in name else 9)
            rows.append((f"{21 * per_city} / {sheets}", name, results[(name, per_city)],
                         f"{times[name] * 1000:.1f}", f"{times[name] / times['bare Flask route']:.1f}×"))
        results[("panel", per_city)] = (times["application page, province (review panel)"]
                                        / times["application page, city clerk (no review)"])
    with app.app_context():
        result = ranking(review_for(current_round()))
        pdf_seconds = median_seconds(lambda: summary_pdf(result), 3)
        xlsx_seconds = median_seconds(lambda: summary_xlsx(result), 5)
    print(f"Expert review: {EXPERTS} experts, {PER_APPLICATION} per application (SQLite, in-process test client)")
    print(table(rows, ("applications / sheets", "request", "SQL queries", "median ms", "vs bare route")))
    print(f"\n评审汇总表 of {len(result.rows)} applications: PDF {pdf_seconds * 1000:.0f} ms, "
          f"xlsx {xlsx_seconds * 1000:.0f} ms (without the request)")
    print(f"application page with the review panel / without it (same page, city clerk): "
          f"{results[('panel', 2)]:.2f}× at 42 applications, {results[('panel', 6)]:.2f}× at 126")
    print()
    verdicts = [(name, results[(name, 2)], results[(name, 6)],
                 "PASS" if results[(name, 6)] == results[(name, 2)] else "FAIL")
                for name in requests if name != "bare Flask route"]
    print(table(verdicts, ("request", "queries @42", "queries @126", "constant?")))
    shutil.rmtree(instance, ignore_errors=True)
    if any(v[-1] == "FAIL" for v in verdicts):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
