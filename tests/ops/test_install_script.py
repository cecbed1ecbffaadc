"""deploy/install.sh's own decisions, fast, with a stand-in bundle and a stand-in Python (the real
install is tests/ops/test_bundle.py): the release PREFIX/current names may be built again while
nothing runs it (e.g. with --python /usr/bin/python3 after a first install whose interpreter the
service user could not run), never under a running service or command; the service user's check
comes before anything is switched; only the hints that apply are printed."""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "deploy" / "install.sh"

# A Python that answers install.sh's questions and makes a "venv" of itself.
FAKE_PYTHON = r"""#!/bin/bash
case "$1" in
  -c) case "$2" in *version_info*) echo cp311 ;; esac; exit 0 ;;
  -m) if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi; exit 0 ;;
  -) cat >/dev/null; echo "自检通过： $0"; exit 0 ;;
esac
"""


def _bundle(tmp_path: Path, name: str = "xkxl_intranet-1.0-abc-cp311-linux_x86_64") -> Path:
    bundle = tmp_path / name
    for folder in ("wheels", "static", "docs", "deploy"):
        (bundle / folder).mkdir(parents=True)
    shutil.copy2(INSTALL, bundle / "install.sh")
    shutil.copy2(REPO / "deploy" / "xkxl", bundle / "deploy" / "xkxl")
    (bundle / "BUNDLE").write_text(f"NAME={name}\nVERSION=1.0\nPYTHON_TAG=cp311\nPLATFORM=linux\nCOMMIT=abc\n")
    return bundle


def _install(bundle: Path, prefix: Path, tmp_path: Path, settings: Path) -> subprocess.CompletedProcess:
    fake = tmp_path / "fake-bin"
    if not fake.exists():
        fake.mkdir()
        (fake / "python3").write_text(FAKE_PYTHON)
        (fake / "python3").chmod(0o755)
        # Every Debian package reads as installed: what is checked here is install.sh's own logic.
        (fake / "dpkg-query").write_text("#!/bin/sh\necho 'install ok installed'\n")
        (fake / "dpkg-query").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "LANG": "C.UTF-8", "XKXL_ENV_FILE": str(settings)}
    return subprocess.run([str(bundle / "install.sh"), "--prefix", str(prefix), "--no-system",
                           "--python", str(fake / "python3")], capture_output=True, text=True, env=env)


def test_the_current_release_is_built_again_only_while_nothing_runs_it(tmp_path):
    bundle, prefix, instance = _bundle(tmp_path), tmp_path / "opt", tmp_path / "instance"
    instance.mkdir()
    settings = tmp_path / "xkxl.env"
    settings.write_text(f"XKXL_INSTANCE_PATH={instance}\n")
    first = _install(bundle, prefix, tmp_path, settings)
    assert first.returncode == 0, first.stderr
    name = bundle.name
    assert os.readlink(prefix / "current") == f"releases/{name}"

    # A process of the instance (the service, an xkxl command) holds its lock shared: refused.
    fd = os.open(instance / ".xkxl.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        refused = _install(bundle, prefix, tmp_path, settings)
    finally:
        os.close(fd)
    assert refused.returncode == 1
    assert "服务或 xkxl 命令正在运行，不能在它上面重装" in refused.stderr
    assert "sudo systemctl stop xkxl" in refused.stderr

    # Nothing runs it (the lock file is there, nobody holds it): built again, still current.
    (prefix / "releases" / name / "leftover").write_text("from the failed install")
    again = _install(bundle, prefix, tmp_path, settings)
    assert again.returncode == 0, again.stderr
    assert "没有服务或命令在使用它：重新安装" in again.stdout
    assert os.readlink(prefix / "current") == f"releases/{name}"
    assert not (prefix / "staged").exists() and not (prefix / "releases" / name / "leftover").exists()


def test_the_current_release_is_not_built_again_when_the_instance_is_unknown(tmp_path):
    bundle, prefix = _bundle(tmp_path), tmp_path / "opt"
    settings = tmp_path / "xkxl.env"  # no XKXL_INSTANCE_PATH: who uses it cannot be told
    settings.write_text("XKXL_LOG_FILE=/tmp/x.log\n")
    assert _install(bundle, prefix, tmp_path, settings).returncode == 0
    refused = _install(bundle, prefix, tmp_path, settings)
    assert refused.returncode == 1 and "没有 XKXL_INSTANCE_PATH" in refused.stderr


def test_the_service_user_must_run_the_new_interpreter_before_anything_is_switched():
    script = INSTALL.read_text(encoding="utf-8")
    check = script.index('-- "$RELEASE/venv/bin/python" -c')
    switches = [m.start() for m in re.finditer(r"ln -sfn", script)]
    assert switches and all(check < at for at in switches)
    assert re.search(r"服务用户 \$SERVICE_USER 不能运行.*--python /usr/bin/python3", script, re.S)
    # Debian's interpreter first, when it fits the bundle; root's PATH only otherwise.
    assert re.search(r'if \[ -z "\$PYTHON" \]; then\n\s+if \[ -x /usr/bin/python3 \]', script)


def test_only_the_hints_that_apply_are_printed():
    """The server part cannot run here (it adds a user, units): its two texts are in exclusive
    branches chosen by whether another release is installed."""
    script = INSTALL.read_text(encoding="utf-8")
    tail = script[script.index('echo "完成。接下来'):]
    upgrade, first = tail.split("\nelse\n", 1)
    assert upgrade.startswith('echo "完成。接下来') and 'if [ "$UPGRADE" = 1 ]; then' in upgrade
    assert "升级：" in upgrade and "首次安装" not in upgrade
    assert "首次安装" in first and "升级" not in first and first.rstrip().endswith("fi")


def test_a_named_rollback_refused_under_the_service_says_stop_activate_start(tmp_path):
    """`xkxl activate OLD` while the service runs: a restart would start the staged release (or
    the current one), never OLD, so the refusal spells out stop, activate OLD, start."""
    prefix, instance = tmp_path / "opt", tmp_path / "instance"
    for release in ("old", "new", "next"):
        (prefix / "releases" / release / "venv").mkdir(parents=True)
    (prefix / "bin").mkdir()
    shutil.copy2(REPO / "deploy" / "xkxl", prefix / "bin" / "xkxl")
    os.symlink("releases/new", prefix / "current")
    instance.mkdir()
    settings = tmp_path / "xkxl.env"
    settings.write_text(f"XKXL_INSTANCE_PATH={instance}\n")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "XKXL_ENV_FILE": str(settings)}

    def activate(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(prefix / "bin" / "xkxl"), "activate", *args], capture_output=True,
                              text=True, env=env)

    fd = os.open(instance / ".xkxl.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # the running service
        named = activate("old")
        os.symlink("releases/next", prefix / "staged")
        staged = activate()
    finally:
        os.close(fd)
    assert named.returncode == 1
    assert "sudo systemctl stop xkxl && sudo xkxl activate old && sudo systemctl start xkxl" in named.stderr
    assert "restart" not in named.stderr
    assert staged.returncode == 1 and "sudo systemctl restart xkxl" in staged.stderr  # a staged one: right
    assert os.readlink(prefix / "current") == "releases/new"
    done = activate("old")  # stopped
    assert done.returncode == 0 and os.readlink(prefix / "current") == "releases/old"
