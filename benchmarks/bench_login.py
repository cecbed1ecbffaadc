"""Log-in: an unknown user name against a wrong password for a real one, side by side in one run.
Both must take about as long (each checks one argon2 hash), so that the time of the answer does
not tell which user names exist.

Run: .venv/bin/python benchmarks/bench_login.py
"""
from __future__ import annotations

import statistics
import time

from _common import PASSWORD, make_app, table

from xkxl_intranet.rounds.state import all_cities

REPEAT = 12  # per kind; wrong passwords rotate over the 21 clerks, so that none is locked
RATIO_RANGE = (0.8, 1.25)


def main() -> None:
    app, _ = make_app()
    app.config["LOGIN_GUESSES_PER_ADDRESS"] = 0  # the per-address throttle would stop the run
    with app.app_context():
        clerks = [c.pinyin for c in all_cities()]
    client = app.test_client()
    kinds = {"unknown user": lambda n: (f"nobody{n:02d}", "guess-1234"),
             "wrong password": lambda n: (clerks[n % len(clerks)], "guess-1234"),
             "right password": lambda n: (clerks[n % len(clerks)], PASSWORD)}
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    for n in range(REPEAT + 1):
        for kind, credentials in kinds.items():  # interleaved: load affects all alike
            username, password = credentials(n)
            start = time.perf_counter()
            response = client.post("/login", data={"username": username, "password": password})
            elapsed = time.perf_counter() - start
            if response.status_code == 303:
                client.post("/logout")
            if n:  # the first round warms up
                samples[kind].append(elapsed)
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    ratio = medians["unknown user"] / medians["wrong password"]
    print(table([(kind, f"{medians[kind] * 1000:.0f} ms") for kind in kinds], ("log-in", "median")))
    low, high = RATIO_RANGE
    verdict = "ok" if low <= ratio <= high else "OUT OF RANGE"
    print(f"unknown user / wrong password: {ratio:.2f} (target {low}–{high}): {verdict}")


if __name__ == "__main__":
    main()
