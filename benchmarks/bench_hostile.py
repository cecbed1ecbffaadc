"""Hostile or simply huge work against the real server, side by side with a quiet run.

The server is started as ``make run`` starts it (``python -m xkxl_intranet.serving``, see
``bench_rush.py``), with clerks of other cities working all along (their usual round: list, form,
save, files page, 报送 page; pauses of 1-4 s). Phases of ``--seconds`` each, one after the other:

- quiet: the other clerks alone; their p99 is the anchor of every phase;
- 8 glyph-bomb PDFs: eight 申报书 uploads at once, each a small one-page PDF holding millions of
  glyphs (the issue's case: 51 KB, 3.5 million glyphs, kept every other user waiting up to 59 s);
- 4 .docx bombs: 申报书 uploads whose XML expands to tens of MB, and one with a 300 × 3,000 table;
- 4 Excel bombs: shared strings and styles bombs posted to the import;
- 8 slow ZIP readers: all.zip read at 1 KB/s on eight connections (they held all eight threads);
- 8 PDF renderers: eight viewers asking for 附件3 of different cities and the roster, in a loop;
- 8 page loopers (anchor): the same eight sessions asking for the home page in the same tight
  loop. Not an attack on heavy work: it shows what eight clients asking as fast as they can cost
  the others whatever they ask for, the floor under the renderers' figure once their PDFs are
  made (a repeat download is a file: 3-4 ms, a bare logged-in route 2.4 ms).

Printed per phase: the other clerks' p99 against the quiet p99 (target ≤ 2×), their failures,
the server's memory (its whole process tree, workers and their reading children included) above
what it held in the quiet phase (target growth < 300 MB), and what the attack's requests were
answered.

The memory is measured two ways (``Monitor`` in ``bench_rush.py``), and both are printed: the sum
of the processes' RSS and the sum of their PSS. The verdict uses the PSS: a reading child is
forked from the worker and shares its ~130 MB copy-on-write, which the RSS sum counts once more
for every child alive while the PSS counts once, split among the sharers; the PSS is what the
tree holds of the machine's memory. A phase whose RSS growth alone is over the target is marked
so beside its verdict.

Only 127.0.0.1; bounded in time; it stops its server itself. A benchmark, not a test.

Run: .venv/bin/python benchmarks/bench_hostile.py [--clerks 20] [--seconds 30] [--phases renderers,anchor]
"""
from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import socket
import statistics
import tempfile
import threading
import time
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlencode

from bench_import import BOMBS, _bomb
from bench_rush import (
    META_TOKEN,
    PASSWORD,
    TOKEN,
    Browser,
    Monitor,
    Session,
    free_port,
    plans,
    prepare,
    start_server,
)

P99_TARGET = 2.0
GROWTH_TARGET_MB = 300
SLOW_READ_BYTES = 1024  # a slow client reads 1 KB a second


# ---- hostile files, made here ------------------------------------------------------------------

def glyph_bomb_pdf(glyphs: int = 3_500_000) -> bytes:
    """A one-page PDF whose content stream shows ``glyphs`` characters of Helvetica (compressed,
    a few tens of kilobytes)."""
    line = b"(" + b"a" * 5000 + b") Tj\n"
    stream = b"BT /F1 1 Tf 10 10 Td\n" + line * (glyphs // 5000) + b"ET\n"
    packed = zlib.compress(stream, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _docx(document_xml: bytes) -> bytes:
    """A .docx package holding ``document_xml`` as its main part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            'document.main+xml"/></Types>'))
        package.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'))
        package.writestr("word/document.xml", document_xml)
    return out.getvalue()


W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_bomb(megabytes: int = 60) -> bytes:
    """A .docx whose document part unpacks to ``megabytes`` MB of paragraphs."""
    paragraph = b"<w:p><w:r><w:t>" + "申报书".encode() * 20 + b"</w:t></w:r></w:p>"
    body = paragraph * (megabytes * 1_000_000 // len(paragraph))
    return _docx(b"<w:document " + W + b"><w:body>" + body + b"</w:body></w:document>")


def docx_table(rows: int = 3000, columns: int = 300) -> bytes:
    """A .docx holding one table of ``rows`` × ``columns`` cells."""
    cell = b"<w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>"
    row = b"<w:tr>" + cell * columns + b"</w:tr>"
    return _docx(b"<w:document " + W + b"><w:body><w:tbl>" + row * rows + b"</w:tbl></w:body></w:document>")


# ---- the attacks: each a list of callables run in threads, each returning a short outcome ----------

def _multipart(name: str, data: bytes, content_type: str, token: str) -> tuple[bytes, dict]:
    boundary = "----xkxl-hostile-" + os.urandom(8).hex()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}", "X-CSRFToken": token}


def logged_in(port: int, username: str) -> tuple[Browser, str]:
    browser = Browser(port, 1, seed=hash(username) & 0xFFFF)
    page = browser.send("log-in page", "GET", "/login")
    token = TOKEN.search(page.body.decode(errors="replace")).group(1)
    browser.send("log-in", "POST", "/login", expect=303,
                 body=urlencode({"csrf_token": token, "username": username, "password": PASSWORD}),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    home = browser.send("home", "GET", "/")
    return browser, META_TOKEN.search(home.body.decode(errors="replace")).group(1)


def upload_attack(port: int, username: str, application_id: int, name: str, data: bytes, mime: str):
    def attack() -> str:
        browser, token = logged_in(port, username)
        body, headers = _multipart(name, data, mime, token)
        answer = browser.send("attack upload", "POST", f"/files/applications/{application_id}/form/upload",
                              body=body, headers=headers, expect=303)
        browser.close()
        return f"{answer.status or answer.failure} in {answer.seconds:.1f} s"
    return attack


def import_attack(port: int, username: str, data: bytes):
    def attack() -> str:
        browser, token = logged_in(port, username)
        body, headers = _multipart("指标模板.xlsx", data,
                                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", token)
        answer = browser.send("attack import", "POST", "/reports/import", body=body, headers=headers)
        browser.close()
        return f"{answer.status or answer.failure} in {answer.seconds:.1f} s"
    return attack


def slow_reader(port: int, cookie: str, path: str, seconds: float):
    """Ask for ``path`` and read its answer at 1 KB/s for ``seconds``, then hang up."""
    def attack() -> str:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode())
            got, end = 0, time.monotonic() + seconds
            while time.monotonic() < end:
                chunk = sock.recv(SLOW_READ_BYTES)
                if not chunk:
                    break
                got += len(chunk)
                time.sleep(1)
        return f"read {got:,} bytes slowly"
    return attack


def renderer(port: int, username: str, paths: list[str], seconds: float):
    def attack() -> str:
        browser, _ = logged_in(port, username)
        end, statuses = time.monotonic() + seconds, []
        while time.monotonic() < end:
            for path in paths:
                statuses.append(browser.send("attack render", "GET", path).status)
        browser.close()
        return f"{len(statuses)} renders, statuses {sorted(set(statuses))}"
    return attack


# ---- a phase -------------------------------------------------------------------------------------

def p99(values: list[float]) -> float:
    values = sorted(values)
    if len(values) < 2:
        return sum(values)
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def run(port: int, pid: int, info: dict, clerks: int, seconds: float, attacks: list) -> dict:
    """The other clerks for ``seconds`` with ``attacks`` started a second in; their figures."""
    session_plans = plans(info, clerks, 0, 2.0, seconds, bare=False)
    for plan in session_plans:
        plan.upload_mb = None  # the other clerks: pages and saves
    sessions = [Session(plan, port, 2, (1.0, 4.0)) for plan in session_plans]
    outcomes: list[str] = []
    threads = [threading.Thread(target=s.run, daemon=True) for s in sessions]
    attackers = [threading.Thread(target=lambda a=a: outcomes.append(a()), daemon=True) for a in attacks]
    with Monitor(pid) as monitor:
        for thread in threads:
            thread.start()
        time.sleep(1)
        for thread in attackers:
            thread.start()
        for thread in threads + attackers:
            thread.join(timeout=seconds + 90)
    answers = [a for s in sessions for a in s.browser.answers if not a.label.startswith("log-in")]
    return {"p99": p99([a.seconds for a in answers]), "answers": len(answers),
            "failures": sum(1 for a in answers if a.failure), "rss": monitor.peak_rss_mb,
            "pss": monitor.peak_pss_mb, "cpu": monitor.cpu, "outcomes": outcomes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clerks", type=int, default=20, help="other clerks working meanwhile")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--phases", default="", help="only these phases after the quiet one, by a word of their "
                                                      "name (glyph, docx, excel, zip, renderers, anchor)")
    args = parser.parse_args()
    if args.clerks > 200 or args.seconds > 300:
        raise SystemExit("bounded: at most 200 clerks and 300 s a phase")
    work = Path(tempfile.mkdtemp(prefix="xkxl-bench-hostile-"))
    server = None
    try:
        instance = work / "instance"
        info = prepare(instance, args.clerks + 8)
        port = free_port()
        server = start_server(instance, port, None, [])
        # the attackers: 绵阳's clerk (its own applications), the province (all.zip, renders)
        target = info["owned"]["mianyang"][-1][0]
        province, _ = logged_in(port, "province")
        cookie = "; ".join(f"{k}={v}" for k, v in province.cookies.items())
        city_ids = sorted({int(c) for c in re.findall(r'/rounds/cities/(\d+)"',
                                                     province.send("d", "GET", "/rounds/dashboard").body.decode())})
        pdfs = [f"/reports/cities/{c}/summary.pdf" for c in city_ids[:7]] + ["/reports/roster/all.pdf"]
        glyphs, bomb, table = glyph_bomb_pdf(), docx_bomb(), docx_table()
        excel = [_bomb(*BOMBS[label]) for label in list(BOMBS)[:2]] * 2
        print(f"hostile files: glyph PDF {len(glyphs) // 1024} KB, .docx bomb {len(bomb) // 1024} KB, "
              f".docx table {len(table) // 1024} KB, Excel bombs {', '.join(f'{len(x) // 1024} KB' for x in excel[:2])}")
        phases = {
            "quiet": [],
            "8 glyph-bomb PDFs": [upload_attack(port, "mianyang", target, f"申报书{n}.pdf", glyphs, "application/pdf")
                                  for n in range(8)],
            "4 .docx bombs": [upload_attack(port, "mianyang", target, f"申报书{n}.docx", bomb if n < 3 else table,
                                            "application/vnd.openxmlformats-officedocument."
                                            "wordprocessingml.document") for n in range(4)],
            "4 Excel bombs": [import_attack(port, "mianyang", data) for data in excel],
            "8 slow all.zip readers": [slow_reader(port, cookie, "/files/all.zip", args.seconds) for _ in range(8)],
            "8 PDF renderers": [renderer(port, "province", pdfs[n:] + pdfs[:n], args.seconds) for n in range(8)],
            "8 page loopers (anchor)": [renderer(port, "province", ["/"], args.seconds) for _ in range(8)],
        }
        wanted = [w.strip().lower() for w in args.phases.split(",") if w.strip()]
        phases = {name: attacks for name, attacks in phases.items()
                  if name == "quiet" or not wanted or any(w in name.lower() for w in wanted)}
        results = {}
        for name, attacks in phases.items():
            results[name] = r = run(port, server.pid, info, args.clerks, args.seconds, attacks)
            print(f"{name}: other clerks p99 {r['p99'] * 1000:,.0f} ms over {r['answers']} answers, "
                  f"{r['failures']} failed; server tree RSS ≤ {r['rss']:.0f} MB, PSS ≤ {r['pss']:.0f} MB, "
                  f"CPU {r['cpu']:.0f} s"
                  + (f"; attack: {'; '.join(sorted(set(r['outcomes'])))[:300]}" if r["outcomes"] else ""))
        quiet = results["quiet"]
        verdicts = []
        print(f"\n{'phase':<24} {'p99 / quiet':>12} {'RSS growth':>11} {'PSS growth':>11}")
        for name, r in results.items():
            ratio = r["p99"] / quiet["p99"] if quiet["p99"] else float("inf")
            rss_growth, pss_growth = r["rss"] - quiet["rss"], r["pss"] - quiet["pss"]
            anchor = name.endswith("(anchor)")
            ok = anchor or ratio <= P99_TARGET and pss_growth < GROWTH_TARGET_MB and not r["failures"]
            verdicts.append(ok)
            print(f"{name:<24} {ratio:>11.2f}× {rss_growth:>8.0f} MB {pss_growth:>8.0f} MB  "
                  f"{'(no target)' if anchor else 'ok' if ok else 'OVER'}"
                  + (f" (RSS growth over {GROWTH_TARGET_MB} MB)" if rss_growth >= GROWTH_TARGET_MB else ""))
        print(f"targets: other clerks' p99 ≤ {P99_TARGET:g}× quiet, server memory growth (PSS) < {GROWTH_TARGET_MB} MB "
              f"→ {'PASS' if all(verdicts) else 'FAIL'}")
        province.close()
        if not all(verdicts):
            raise SystemExit(1)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
