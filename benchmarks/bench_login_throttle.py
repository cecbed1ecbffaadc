"""The log-in throttle counts failures in the audit trail: what that costs a log-in when the trail
holds 10,000 failed log-ins of the last hour, against one account from 500 addresses (a spread
attack; the account-wide count, the owner's list and the notice after log-in read them all) and
from one address (the per-address count reads them all).

Run: .venv/bin/python benchmarks/bench_login_throttle.py
"""
from __future__ import annotations

from datetime import timedelta

from _common import PASSWORD, make_app, median_seconds, queries_for, table
from sqlalchemy import insert, text

from xkxl_intranet.audit.models import AuditEvent
from xkxl_intranet.auth.failures import failures_since_last_login, recent_failures
from xkxl_intranet.auth.services import find_user
from xkxl_intranet.auth.throttle import account_tally, blocked_until
from xkxl_intranet.clock import now
from xkxl_intranet.domain.login_throttle import ThrottleLimits
from xkxl_intranet.extensions import db

ROWS = 10_000
REPEAT = 200
SPREAD_ADDRESSES = 500
FLOOD_ADDRESS = "10.9.9.9"


def _fill(app, target: str, source) -> None:
    """``ROWS`` failed log-ins of ``target`` within the last hour, from ``source(n)``."""
    with app.app_context():
        user = find_user(target)
        moment = now()
        db.session.execute(insert(AuditEvent), [
            {"at": moment - timedelta(seconds=3500 * n / ROWS), "user_id": user.id, "username": target,
             "ip": source(n), "action": "auth.login_failed", "object_type": "user",
             "object_id": str(user.id), "summary": "登录失败：密码错误"} for n in range(ROWS)])
        db.session.commit()


def _measure(app, name: str, address: str) -> list[tuple]:
    limits = ThrottleLimits()
    with app.test_request_context():
        user = find_user(name)
        checks = {
            "throttle check (pair + address)": lambda: blocked_until(name, address, limits, now(),
                                                                     user=user),
            "account-wide count (lock)": lambda: account_tally(user, now() - limits.window),
            "notice after log-in": lambda: failures_since_last_login(user),
            "我的账号 list (30 days)": lambda: recent_failures(user),
        }
        return [(what, f"{median_seconds(check, REPEAT) * 1000:.2f} ms", queries_for(app, check))
                for what, check in checks.items()]


def _plans(app, name: str, address: str) -> list[str]:
    with app.app_context():
        return [" | ".join(row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql), params))
                for sql, params in (
                    ("SELECT count(*), max(at) FROM audit_event WHERE action IN ('auth.login_failed', "
                     "'auth.password_check_failed') AND ip = :ip AND username = :name AND at > :since",
                     {"ip": address, "name": name, "since": "2000-01-01"}),
                    ("SELECT count(*), count(DISTINCT ip) FROM audit_event WHERE username = :name AND "
                     "action IN ('auth.login_failed', 'auth.password_check_failed') AND at > :since",
                     {"name": name, "since": "2000-01-01"}))]


def _login_ms(app, name: str, password: str, address: str) -> str:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address

    def post():
        client.post("/login", data={"username": name, "password": password})
        client.post("/logout")
    app.config["LOGIN_GUESSES_PER_ADDRESS"] = 0
    app.config["LOGIN_GUESSES_PER_PAIR"] = 0  # measure the queries, not a refusal
    try:
        return f"{median_seconds(post, 20) * 1000:.1f} ms"
    finally:
        app.config["LOGIN_GUESSES_PER_ADDRESS"], app.config["LOGIN_GUESSES_PER_PAIR"] = 10, 3


def main() -> None:
    app, _ = make_app()
    app.config["LOGIN_LOCK_FAILURES"] = 0  # the filled trail would lock the account
    print("empty trail:")
    print(table(_measure(app, "chengdu", "10.1.1.1"), ("what", "median", "queries")))
    print(f"log-in (right password, argon2 included): {_login_ms(app, 'chengdu', PASSWORD, '10.1.1.1')}")
    _fill(app, "chengdu", lambda n: f"10.{n % SPREAD_ADDRESSES // 250}.{n % 250}.1")
    print(f"\n{ROWS:,} failures against chengdu from {SPREAD_ADDRESSES} addresses in the last hour:")
    print(table(_measure(app, "chengdu", "10.0.1.1"), ("what", "median", "queries")))
    print(f"log-in (right password, argon2 included): {_login_ms(app, 'chengdu', PASSWORD, '10.0.1.1')}")
    _fill(app, "mianyang", lambda n: FLOOD_ADDRESS)
    print(f"\n+ {ROWS:,} failures against mianyang from one address ({FLOOD_ADDRESS}):")
    print(table(_measure(app, "mianyang", FLOOD_ADDRESS), ("what", "median", "queries")))
    print("\nSQLite plans (pair count; account count):")
    for plan in _plans(app, "chengdu", "10.0.1.1"):
        print("  " + plan)


if __name__ == "__main__":
    main()
