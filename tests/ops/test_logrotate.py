"""The shipped log rotation (deploy/logrotate-xkxl), run by the real logrotate: a rotated file is
named by the day of its lines, and docs/deploy.md's recipe for 「我 21:40 上传失败了」 finds the line
in it, before and after it is compressed. install.sh refuses a server install without logrotate."""
from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

REPO = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the guide sets the server's zone; the app logs in it


def _recipe(day: datetime, folder: Path) -> str:
    """The guide's command for any day, for `day` and the log folder `folder`."""
    guide = (REPO / "docs/deploy.md").read_text(encoding="utf-8")
    [command] = re.findall(r"^\s*(zgrep .*/var/log/xkxl/app\.log\*.*?)\s+# ", guide, re.M)
    return (command.replace("/var/log/xkxl", str(folder)).replace("20240320", day.strftime("%Y%m%d"))
            .replace("2024-03-20", day.strftime("%Y-%m-%d")))


@pytest.mark.skipif(not shutil.which("logrotate", path="/usr/sbin:/usr/bin"), reason="needs logrotate")
def test_a_rotated_log_is_named_by_its_day_and_the_guide_finds_the_failed_upload(tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    yesterday = datetime.now(SHANGHAI) - timedelta(days=1)
    line = (f"{yesterday:%Y-%m-%d}T21:40:12.345+08:00 INFO rid=5f0c2a9e81d34b7a4b9c0e1d2f3a4b5c "
            "xkxl_intranet.requests user=chengdu city=510100 method=POST route=files.upload "
            "path=/files/applications/12/form/upload status=413 ms=1532 ip=10.20.3.41\n")
    (folder / "app.log").write_text(line)
    shipped = (REPO / "deploy/logrotate-xkxl").read_text(encoding="utf-8")
    # The shipped file, on this folder; without `su`/`create` owners (no user xkxl here).
    config = re.sub(r"^\s*(su|create) .*\n", "", shipped.replace("/var/log/xkxl", str(folder)), flags=re.M)
    (tmp_path / "logrotate.conf").write_text(config)
    logrotate = shutil.which("logrotate", path="/usr/sbin:/usr/bin")
    subprocess.run([logrotate, "--force", "--state", str(tmp_path / "state"), str(tmp_path / "logrotate.conf")],
                   check=True, env={"TZ": "Asia/Shanghai", "PATH": "/usr/bin:/bin"})  # just after midnight

    rotated = folder / f"app.log-{yesterday:%Y%m%d}"
    assert rotated.read_text() == line, sorted(p.name for p in folder.iterdir())
    found = subprocess.run(["bash", "-c", _recipe(yesterday, folder)], capture_output=True, text=True)
    assert found.stdout == line, found.stderr
    # A day later delaycompress has compressed it: the same command still finds the line.
    with rotated.open("rb") as plain, gzip.open(f"{rotated}.gz", "wb") as packed:
        shutil.copyfileobj(plain, packed)
    rotated.unlink()
    found = subprocess.run(["bash", "-c", _recipe(yesterday, folder)], capture_output=True, text=True)
    assert found.stdout == line, found.stderr


def _line(day: datetime, user: str = "chengdu", clock: str = "21:40:12.345") -> str:
    return (f"{day:%Y-%m-%d}T{clock}+08:00 INFO rid=5f0c2a9e81d34b7a4b9c0e1d2f3a4b5c "
            f"xkxl_intranet.requests user={user} city=510100 method=POST route=files.upload "
            "path=/files/applications/12/form/upload status=413 ms=1532 ip=10.20.3.41\n")


def test_the_guide_finds_the_line_whatever_file_holds_it(tmp_path):
    """The line by its own date, not by the file's name: today's lines still in app.log; a forced
    rotation in the day that named today's lines by yesterday; days kept in one file while the
    server was off over midnight; compressed or not."""
    day = datetime(2024, 3, 20, tzinfo=SHANGHAI)
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    wanted = _line(day)
    noise = _line(day, user="zigong") + _line(before) + _line(day, clock="20:10:00.000") + _line(after)
    placings = {
        "app.log": {"app.log": noise + wanted},                              # today
        "named by the day before": {"app.log-20240319": noise + wanted},     # logrotate -f in the day
        "compressed, several days": {"app.log-20240322.gz": noise + wanted,  # off over two midnights
                                     "app.log-20240319": _line(before), "app.log": _line(after)},
    }
    for placing, files in placings.items():
        folder = tmp_path / placing.replace(" ", "_").replace(",", "")
        folder.mkdir()
        for name, text in files.items():
            opener = gzip.open if name.endswith(".gz") else open
            with opener(folder / name, "wt") as out:
                out.write(text)
        found = subprocess.run(["bash", "-c", _recipe(day, folder)], capture_output=True, text=True)
        assert found.stdout == wanted, (placing, found.stdout, found.stderr)


def test_the_guide_says_not_to_force_a_rotation_by_hand():
    guide = (REPO / "docs/deploy.md").read_text(encoding="utf-8")
    logs = guide.split("## 6. 日志", 1)[1].split("## 7.", 1)[0]
    assert "不要手动强制轮转" in logs and "logrotate -f /etc/logrotate.d/xkxl" in logs
    assert "sudo logrotate -d /etc/logrotate.d/xkxl" in logs


def test_install_sh_refuses_a_server_install_without_logrotate(tmp_path):
    """A bundle's install.sh on a server where dpkg knows every package but logrotate: it stops at
    its check, names the package, and has installed nothing."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(REPO / "deploy/install.sh", bundle / "install.sh")
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    (bundle / "BUNDLE").write_text(f"NAME=xkxl_intranet-test\nVERSION=0\nPYTHON_TAG={tag}\n"
                                   "PLATFORM=linux-x86_64\nCOMMIT=0\n")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dpkg-query").write_text('#!/bin/sh\nfor last; do :; done\n'
                                     '[ "$last" = logrotate ] && exit 1\necho "install ok installed"\n')
    (fake / "dpkg-query").chmod(0o755)
    prefix = tmp_path / "opt"
    result = subprocess.run(["bash", str(bundle / "install.sh"), "--prefix", str(prefix),
                             "--python", sys.executable],
                            capture_output=True, text=True, env={"PATH": f"{fake}:/usr/bin:/bin"})
    assert result.returncode == 1 and "缺少系统软件包： logrotate" in result.stderr, result.stderr
    assert not prefix.exists()
    # The program alone (--no-system) does not need it: the check passes and the install goes on.
    alone = subprocess.run(["bash", str(bundle / "install.sh"), "--prefix", str(prefix), "--no-system",
                            "--python", sys.executable],
                           capture_output=True, text=True, env={"PATH": f"{fake}:/usr/bin:/bin"})
    assert "logrotate" not in alone.stderr and f"安装 xkxl_intranet-test 到 {prefix}" in alone.stdout
