"""A page view's cost of keeping a session's 「最后活动」 on the server: the statements and the time
of one view of 我的账号 and of a clerk's home page, for a view within the same minute as the last
recorded activity (nothing written) and for one a minute later (the session's row is updated,
once). For comparison, the same with the row written on every request (the resolution set to 0).

Run: .venv/bin/python benchmarks/bench_sessions.py
"""
from __future__ import annotations

from datetime import datetime, timedelta

from _common import count_queries, login, make_app, median_seconds, table

from xkxl_intranet import clock
from xkxl_intranet.auth import sessions

START = datetime(2022, 3, 10, 9, 0, tzinfo=clock.SHANGHAI)
REPEAT = 200
PAGES = ("/account/", "/")
_MOMENT = [START]  # the clock only moves forward, from view to view


def _view(app, client, url: str, step: timedelta) -> tuple[int, float]:
    """Statements of one view and the median time of ``REPEAT`` views, the clock moving ``step``
    before each."""
    def view():
        _MOMENT[0] += step
        clock.set_now(_MOMENT[0])
        assert client.get(url).status_code == 200

    view()
    with count_queries(app) as counter:
        view()
    return counter["n"], median_seconds(view, REPEAT)


def main() -> None:
    app, _ = make_app()
    clock.set_now(START)
    client = login(app, "chengdu")
    rows = []
    resolution = getattr(sessions, "ACTIVITY_RESOLUTION", None)
    for url in PAGES:
        for label, step in (("same minute", timedelta(0)), ("a minute later", timedelta(seconds=61))):
            statements, seconds = _view(app, client, url, step)
            rows.append((url, label, "as built", statements, f"{seconds * 1000:.2f} ms"))
        if resolution is not None:  # a write on every request, for comparison
            sessions.ACTIVITY_RESOLUTION = timedelta(0)
            statements, seconds = _view(app, client, url, timedelta(seconds=1))
            sessions.ACTIVITY_RESOLUTION = resolution
            rows.append((url, "every request", "written each time", statements, f"{seconds * 1000:.2f} ms"))
    print(table(rows, ("page", "view", "last active", "statements", "median")))


if __name__ == "__main__":
    main()
