"""Starting the server a second time: ``python -m xkxl_intranet.serving`` (what ``make run`` and the
deployed unit run) on an instance already set up, from the command to the first page answered
(the log-in page), against a bare Flask app with one route under waitress, in turns. Also: which
of the document readers the serving process has imported (none: only the job worker does) and
how long its worker takes to answer a job.

Run: .venv/bin/python benchmarks/bench_startup.py
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TURNS = 7
TARGET = 6.0
READERS = ("pypdf", "pypdfium2", "docx", "lxml")
BARE_APP = textwrap.dedent("""
    import sys
    from flask import Flask
    from waitress import serve
    app = Flask(__name__)

    @app.route("/login")
    def login():
        return "ok"

    serve(app, host="127.0.0.1", port=int(sys.argv[1]))
""")
# The serving process, asked what it imported (through a route the bench adds to the real app).
PROBE_APP = textwrap.dedent("""
    import sys
    from xkxl_intranet import create_app
    app = create_app()

    @app.route("/bench-modules")
    def modules():
        return " ".join(sorted({name.split(".")[0] for name in sys.modules}))
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_answer(command: list[str], port: int, env: dict, path: str = "/login") -> tuple[float, subprocess.Popen]:
    """Seconds from starting ``command`` to the first answer of ``path``; the process, running."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + 60
    while time.perf_counter() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            status = connection.getresponse().status
            connection.close()
            if status < 500:
                return time.perf_counter() - started, process
        except OSError:
            time.sleep(0.005)
    process.kill()
    raise RuntimeError(f"{command} did not answer in 60 s")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def get(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    body = connection.getresponse().read().decode()
    connection.close()
    return body


def main() -> None:
    instance = Path(tempfile.mkdtemp(prefix="xkxl-bench-startup-"))
    env = dict(os.environ, XKXL_INSTANCE_PATH=str(instance), FLASK_APP="xkxl_intranet", XKXL_DEMO_PASSWORD="Bench-2022")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(instance), str(ROOT), env.get("PYTHONPATH")]))
    env.pop("DATABASE_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a second start reads the bytecode the first one wrote
    subprocess.run([sys.executable, "-m", "flask", "init-db", "--demo"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    (instance / "bare_app.py").write_text(BARE_APP)
    (instance / "probe_app.py").write_text(PROBE_APP)
    serving = [sys.executable, "-m", "xkxl_intranet.serving", "--host=127.0.0.1"]
    # The first start (fresh bytecode, the worker's first sweep) is not what is measured.
    port = free_port()
    stop(first_answer([*serving, f"--port={port}"], port, env)[1])
    samples: dict[str, list[float]] = {"bare Flask + waitress": [], "serving": []}
    for _ in range(TURNS):
        port = free_port()
        seconds, process = first_answer([sys.executable, str(instance / "bare_app.py"), str(port)], port, env)
        stop(process)
        samples["bare Flask + waitress"].append(seconds)
        port = free_port()
        seconds, process = first_answer([*serving, f"--port={port}"], port, env)
        stop(process)
        samples["serving"].append(seconds)
    bare, served = (statistics.median(samples[k]) for k in samples)
    for kind, values in samples.items():
        print(f"{kind:<22} median {statistics.median(values) * 1000:6.0f} ms  "
              f"(turns: {', '.join(f'{v * 1000:.0f}' for v in values)} ms)")
    ratio = served / bare
    print(f"serving / bare: {ratio:.1f}× (target ≤ {TARGET:g}×): {'ok' if ratio <= TARGET else 'OVER'}")

    port = free_port()
    _, process = first_answer([*serving, f"--port={port}", "--app=probe_app:app"], port, env, "/bench-modules")
    try:
        imported = set(get(port, "/bench-modules").split())
        print("document readers in the serving process:",
              ", ".join(sorted(imported & set(READERS))) or "none", f"(of {', '.join(READERS)})")
    finally:
        stop(process)


if __name__ == "__main__":
    main()
