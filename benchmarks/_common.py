"""Shared set-up for the benchmarks: a fresh app on a temporary instance, filled with data."""
from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402

from xkxl_intranet import create_app  # noqa: E402
from xkxl_intranet.applications.demo import figures  # noqa: E402
from xkxl_intranet.applications.evaluation import recheck  # noqa: E402
from xkxl_intranet.applications.models import Application  # noqa: E402
from xkxl_intranet.auth.models import User  # noqa: E402
from xkxl_intranet.auth.passwords import hash_password  # noqa: E402
from xkxl_intranet.batches.settings import ensure_reference_data  # noqa: E402
from xkxl_intranet.domain.checks import (
    check_values,  # noqa: E402
)
from xkxl_intranet.domain.credit_code import make_credit_code  # noqa: E402
from xkxl_intranet.domain.duplicates import org_code_key, platform_key  # noqa: E402
from xkxl_intranet.extensions import db  # noqa: E402
from xkxl_intranet.rounds.state import all_cities, current_round  # noqa: E402

PASSWORD = "Bench-pass-2022"


def make_app():
    """A migrated app with the 21 cities, the round, and one clerk per city + province."""
    instance = Path(tempfile.mkdtemp(prefix="xkxl-bench-"))
    app = create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": str(instance),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
                      "UPLOAD_FOLDER": str(instance / "uploads"), "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        ensure_reference_data()
        password_hash = hash_password(PASSWORD)
        db.session.add(User(username="province", display_name="省厅", role="province",
                            password_hash=password_hash, must_change_password=False))
        for city in all_cities():
            db.session.add(User(username=city.pinyin, display_name=city.name, role="city", city=city,
                                password_hash=password_hash, must_change_password=False))
        db.session.commit()
    return app, instance


def fill_applications(app, per_city: int) -> None:
    """``per_city`` valid applications in each of the 21 cities (inserted directly, counts computed)."""
    with app.app_context():
        round_ = current_round()
        for city in all_cities():
            start = db.session.scalar(db.select(db.func.count()).select_from(Application)
                                      .where(Application.city_id == city.id))
            for n in range(start, per_city):
                raw = figures(1 + n % 3, seed=n % 7)
                raw.update(enterprise_name=f"{city.name[:2]}测试企业{n:03d}有限公司",
                           credit_code=make_credit_code(city.code, f"MA{city.sort_order:02d}{n:04d}"),
                           contact_name="张三", contact_mobile="13800001234",
                           platform_name=f"{city.name[:2]}工业互联网平台{n:03d}")
                values = check_values(raw, clerk_city_code=city.code, form=round_.form).values
                application = Application(round=round_, city=city, position=n + 1,
                                          acknowledgements={}, review_state="draft")
                application.store_values(round_.form, values)
                application.org_code_key = org_code_key(application.credit_code)
                application.platform_key = platform_key(application.platform_name)
                db.session.add(application)
                db.session.flush()
                recheck(application)
        db.session.commit()


@contextmanager
def count_queries(app):
    counter = {"n": 0}
    with app.app_context():
        engine = db.engine

    def before(*args, **kwargs):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def login(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    return client


def status_kb(field: str) -> int:
    """A figure of this process from /proc/self/status (``VmRSS``, ``VmHWM`` …), in KB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def median_seconds(fn, repeat: int) -> float:
    fn()  # warm up (template compilation, caches)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def queries_for(app, fn) -> int:
    with count_queries(app) as counter:
        fn()
    return counter["n"]


def table(rows: list[tuple], headers: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*headers), line.format(*("-" * w for w in widths))]
    out += [line.format(*map(str, row)) for row in rows]
    return "\n".join(out)


def wait_until_serving(server: subprocess.Popen, port: int, log: Path, seconds: float = 60) -> None:
    """Return once the started server answers /healthz with 200; kill it and stop the benchmark
    with its log if it does not within ``seconds`` or ends first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
        if server.poll() is not None:
            break
    server.kill()
    raise SystemExit(f"the server did not start; see {log}:\n" + log.read_text())
