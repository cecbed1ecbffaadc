#!/usr/bin/env python3
"""``make bundle``: one archive that installs the application on a server with no network.

    dist/xkxl_intranet-<version>-<commit>-<python>-<platform>.tar.gz
      wheels/        the application and every Python dependency, as wheels for this machine's
                     Python and platform, at the versions of this virtual environment (the
                     ones the tests ran with)
      static/        the vendored static files (htmx, CSS), for nginx to serve /static/
      install.sh     installs from wheels/ with pip --no-index, then sets the server up
      deploy/        systemd units, nginx site, logrotate, settings file, the `xkxl` command
      docs/          deploy.md, the operator's guide, and every document it or a shipped file
                     names (docs/notices.md, docs/notice-file.md, …): shipped_docs()
      BUNDLE         name, version, Python tag, platform, commit (read by install.sh)
      SHA256SUMS     every file above, for `sha256sum -c` after copying

Wheels come from build/wheelhouse, kept between runs; only what is missing there is
downloaded from the package index (so the second build needs no network).

Usage: python scripts/bundle.py [--output DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = ROOT / "build" / "wheelhouse"
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], check=True, **kwargs)


def git_commit() -> str:
    try:
        commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                     text=True).stdout.strip()
        dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                    capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def pinned_versions(path: Path) -> None:
    """Constraints: every package at the version installed here (what the tests ran with)."""
    frozen = run([*PIP, "freeze", "--exclude-editable"], capture_output=True, text=True).stdout
    path.write_text("".join(line + "\n" for line in frozen.splitlines() if "==" in line))


def fetch(requirements: list[str], dest: Path, constraints: Path | None = None) -> None:
    """Wheels for ``requirements`` (and what they need) into ``dest``: from build/wheelhouse
    without any index if it has them all, else from the package index (and kept there)."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    listing = WHEELHOUSE.parent / "bundle-requirements.txt"
    listing.write_text("".join(r + "\n" for r in requirements))
    command = [*PIP, "download", "--only-binary=:all:", "--quiet", "-r", listing, "-d", dest,
               "--find-links", WHEELHOUSE, *(["-c", constraints] if constraints else [])]
    offline = subprocess.run([str(p) for p in [*command, "--isolated", "--no-index"]],
                             capture_output=True, text=True)
    if offline.returncode != 0:
        print("build/wheelhouse 中缺少部分 wheel，从软件包索引下载……", flush=True)
        run(command)
    for wheel in dest.glob("*.whl"):
        if not (WHEELHOUSE / wheel.name).exists():
            shutil.copy2(wheel, WHEELHOUSE / wheel.name)


def build_app_wheel(work: Path, dest: Path, build_requires: list[str]) -> None:
    """The application's wheel, with migrations/ and the notice files (notices/) carried inside
    the package: init-db fills a round's notice from notices/2022.toml, 开启新批次 offers them."""
    source = work / "source"
    shutil.copytree(ROOT / "xkxl_intranet", source / "xkxl_intranet", ignore=SKIP)
    shutil.copytree(ROOT / "migrations", source / "xkxl_intranet" / "migrations", ignore=SKIP)
    shutil.copytree(ROOT / "notices", source / "xkxl_intranet" / "notices", ignore=SKIP)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    fetch(build_requires, work / "build-requirements")
    run([*PIP, "wheel", "--isolated", "--no-index", "--find-links", WHEELHOUSE, "--no-deps",
         "--quiet", "-w", dest, source])


# A document named by path from the repository's root ("docs/notices.md") or, inside docs/, by a
# Markdown link to its neighbour ("](notice-file.md)").
_NAMED_DOC = re.compile(r"\bdocs/([A-Za-z0-9_-]+\.md)\b")
_LINKED_DOC = re.compile(r"\]\(([A-Za-z0-9_-]+\.md)\)")


def shipped_docs(root: Path = ROOT) -> list[str]:
    """docs/deploy.md and every document it, the files under deploy/, the notice files (inside the
    wheel) or a document shipped so names, followed until nothing new: the guide's pointer to
    /opt/xkxl/current/docs/notices.md must lead somewhere. A named document missing from the
    repository stops the build (a dangling pointer would reach the operator)."""
    docs = root / "docs"
    outside = [*sorted((root / "deploy").iterdir()), *sorted((root / "notices").glob("*.toml"))]
    wanted = ["deploy.md"] + [n for p in outside if p.is_file()
                              for n in _NAMED_DOC.findall(p.read_text(encoding="utf-8"))]
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        if (docs / name).is_file():
            text = (docs / name).read_text(encoding="utf-8")
            wanted += _NAMED_DOC.findall(text) + _LINKED_DOC.findall(text)
    missing = sorted(n for n in seen if not (root / "docs" / n).is_file())
    if missing:
        raise SystemExit(f"打包中止：部署文档或随包文件提到的 {', '.join('docs/' + n for n in missing)} 不存在")
    return sorted(seen)


def copy_docs(bundle: Path) -> None:
    (bundle / "docs").mkdir()
    for doc in shipped_docs():
        shutil.copy2(ROOT / "docs" / doc, bundle / "docs" / doc)


def write_sums(bundle: Path) -> None:
    lines = []
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(bundle)}\n")
    (bundle / "SHA256SUMS").write_text("".join(lines))


def assemble(bundle: Path, work: Path, project: dict, build_requires: list[str], info: dict) -> None:
    wheels = bundle / "wheels"
    constraints = work / "constraints.txt"
    pinned_versions(constraints)
    fetch(project["dependencies"], wheels, constraints)
    build_app_wheel(work, wheels, build_requires)
    shutil.copytree(ROOT / "xkxl_intranet" / "static", bundle / "static", ignore=SKIP)
    shutil.copytree(ROOT / "deploy", bundle / "deploy", ignore=SKIP)
    shutil.copy2(ROOT / "deploy" / "install.sh", bundle / "install.sh")
    copy_docs(bundle)
    (bundle / "BUNDLE").write_text("".join(f"{key}={value}\n" for key, value in info.items()))
    write_sums(bundle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "dist")
    args = parser.parse_args()
    started = time.monotonic()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    python_tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = sysconfig.get_platform()
    name = f"xkxl_intranet-{project['version']}-{git_commit()}-{python_tag}-{platform}"
    info = {"NAME": name, "VERSION": project["version"], "PYTHON_TAG": python_tag,
            "PLATFORM": platform, "COMMIT": git_commit(),
            "BUILT": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    args.output.mkdir(parents=True, exist_ok=True)
    target = args.output / f"{name}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="xkxl-bundle-") as tmp:
        work, bundle = Path(tmp) / "work", Path(tmp) / name
        work.mkdir()
        bundle.mkdir()
        assemble(bundle, work, project, pyproject["build-system"]["requires"], info)
        partial = target.with_name(f".{target.name}.partial")
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            tar.add(bundle, arcname=name)
        os.replace(partial, target)
        wheels = len(list((bundle / "wheels").glob("*.whl")))
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n")
    print(f"安装包：{target}（{target.stat().st_size / 1048576:.1f} MB，{wheels} 个 wheel，"
          f"用时 {time.monotonic() - started:.1f} 秒）")
    print(f"SHA-256：{digest}")
    print(f"在服务器上：tar xzf {target.name} && cd {name} && sudo ./install.sh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
