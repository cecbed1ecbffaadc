"""``flask restore``: put a backup back into an empty instance.

Order of work, so that a bad archive changes nothing:

1. Take the instance folder for this process alone (no server, no other command running);
   refuse a folder that holds data. ``--force`` overrides both (never a running server: see
   ``instance_lock.hold_serving``), and keeps what it replaces
   (the old database beside the new one, files not in the backup moved aside).
2. Read the whole archive into staging folders next to where things go (same file system,
   so the final step is a rename), hashing every member; compare each with the manifest.
   Any difference: the staging is removed and nothing else was touched.
3. An incremental archive: read the archives it builds on (its manifest names them, newest
   first, each with the SHA-256 of the whole file), staging the blobs still needed, until every
   stored file has its blob; each archive is checked whole against that SHA-256 and each blob
   against its name. A missing or different archive stops the restore the same way.
4. Move the database, the files and the instance config into place.

The command line then runs ``verify-files`` on the result.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import secrets
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import now
from ..domain.errors import Refused
from ..files.storage import PINS_DIRNAME, TMP_DIRNAME, path_for
from ..instance_lock import InstanceBusy, exclusive, served
from .archive import (
    AUDIT_KEY_MEMBER,
    CONFIG_MEMBER,
    DATABASE_MEMBERS,
    MANIFEST,
    READ_CHUNK,
    SUMS,
    HashingReader,
    Manifest,
    Readable,
    blob_digest_of,
    copy_hashing,
    storage_name_of,
)
from .backup import Progress
from .database import (
    audit_rows_sealed,
    engine_of,
    fsync_dir,
    install_postgres,
    install_sqlite,
    postgres_state,
    sqlite_file,
    sqlite_has_tables,
)

MAX_LISTED = 10


@dataclass
class RestoreResult:
    manifest: Manifest
    kept: list[Path] = field(default_factory=list)  # what --force set aside instead of deleting
    forced_while_live: bool = False
    chain_read: list[Path] = field(default_factory=list)  # the archives an incremental one built on, as read


class _CountingReader:
    """The archive file, its bytes read reported as progress (compressed archives too)."""

    def __init__(self, raw, on_read: Callable[[int], None]):
        self.raw, self.on_read = raw, on_read

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.on_read(len(data))
        return data


class _Staging:
    def __init__(self, database_dir: Path, upload_root: Path):
        database_dir.mkdir(parents=True, exist_ok=True)
        self.database_dir = Path(tempfile.mkdtemp(dir=database_dir, prefix=".xkxl-restore-"))
        self.uploads_dir = upload_root / TMP_DIRNAME / f"restore-{secrets.token_hex(4)}"
        self.uploads_dir.mkdir(parents=True)
        self.config: bytes | None = None
        self.audit_key: bytes | None = None
        self.manifest: bytes | None = None
        self.files: dict[str, Path] = {}  # storage name -> staged file (format 1)
        self.blobs: dict[str, Path] = {}  # SHA-256 -> staged blob (format 2)
        self.database: Path | None = None

    def target(self, member: str) -> Path:
        name = storage_name_of(member)
        if name is not None:
            self.files[name] = self.uploads_dir / name
            return self.files[name]
        digest = blob_digest_of(member)
        if digest is not None:
            self.blobs[digest] = self.uploads_dir / f"blob-{digest}"
            return self.blobs[digest]
        self.database = self.database_dir / member
        return self.database

    def stored_names(self, manifest: Manifest) -> set[str]:
        """The storage names the restored files take."""
        return set(manifest.uploads) if manifest.format_version >= 2 else set(self.files)

    def remove(self) -> None:
        shutil.rmtree(self.database_dir, ignore_errors=True)
        shutil.rmtree(self.uploads_dir, ignore_errors=True)


def stored_files_present(upload_root: Path) -> list[Path]:
    """Files in the storage proper (not temp files, not a backup's pins)."""
    if not upload_root.is_dir():
        return []
    found = []
    for entry in sorted(upload_root.iterdir()):
        if entry.is_dir() and entry.name not in (TMP_DIRNAME, PINS_DIRNAME):
            found.extend(sorted(p for p in entry.rglob("*") if p.is_file()))
        elif entry.is_file():
            found.append(entry)
    return found


def _check_target(engine: str, url: str, upload_root: Path, *, force: bool, progress: Progress) -> bool:
    """Refuse a target that holds data (unless ``force``); returns whether it holds any."""
    found = []
    if engine == "sqlite":
        if sqlite_has_tables(sqlite_file(url)):
            found.append(f"数据库 {sqlite_file(url)} 已有数据")
    else:
        has_tables, others = postgres_state(url)
        if others and not force:
            raise Refused(f"数据库正在被 {others} 个其他连接使用（服务仍在运行？）：请先停止服务再恢复")
        if others:
            progress.step(f"警告：数据库有 {others} 个其他连接，按 --force 继续；完成后请重启服务")
        if has_tables:
            found.append("数据库已有数据表")
    files = stored_files_present(upload_root)
    if files:
        found.append(f"上传目录 {upload_root} 已有 {len(files)} 个文件")
    if found and not force:
        raise Refused("目标实例不是空的：" + "；".join(found) + "。恢复会替换这些数据：确认无误后加 --force"
                      "（被替换的数据库和文件另存在实例目录中，不会删除）。")
    return bool(found)


def _check_member(member: tarfile.TarInfo, engine: str, seen: dict) -> None:
    name = member.name
    known = name in (MANIFEST, SUMS, CONFIG_MEMBER, AUDIT_KEY_MEMBER) or name in DATABASE_MEMBERS.values() \
        or storage_name_of(name) is not None or blob_digest_of(name) is not None
    if not known or not member.isreg():
        raise Refused(f"备份文件中有不认识的内容：{name}（不是本系统的备份，或已被改动）")
    if name in seen:
        raise Refused(f"备份文件中 {name} 出现了两次")
    if name in DATABASE_MEMBERS.values() and name != DATABASE_MEMBERS[engine]:
        other = "PostgreSQL" if engine == "sqlite" else "SQLite"
        raise Refused(f"这是 {other} 数据库的备份，当前配置的数据库是 "
                      f"{'SQLite' if engine == 'sqlite' else 'PostgreSQL'}：请先改好数据库配置")


def _stage_member(tar: tarfile.TarFile, member: tarfile.TarInfo, staging: _Staging) -> tuple[int, str]:
    source = tar.extractfile(member)
    assert source is not None  # _check_member let only regular files through
    if member.name in (MANIFEST, SUMS, CONFIG_MEMBER, AUDIT_KEY_MEMBER):  # small: kept in memory
        data = source.read()
        if member.name == MANIFEST:
            staging.manifest = data
        elif member.name == CONFIG_MEMBER:
            staging.config = data
        elif member.name == AUDIT_KEY_MEMBER:
            staging.audit_key = data
        return len(data), hashlib.sha256(data).hexdigest()
    with open(staging.target(member.name), "wb") as out:
        return copy_hashing(source, out)


# What a pass over an archive does with one member: stage it, or only hash it; (size, SHA-256).
Take = Callable[[tarfile.TarFile, tarfile.TarInfo], tuple[int, str]]


def _read_members(reader: Readable, engine: str, take: Take, what: str) -> dict[str, tuple[int, str]]:
    """One pass over the archive read through ``reader``: each member checked, then handed to
    ``take``; returns member -> (size, SHA-256). ``what`` names the archive in a refusal."""
    seen: dict[str, tuple[int, str]] = {}
    try:
        # a stream is only read(); typeshed asks any fileobj for write, seek and tell as well
        with tarfile.open(fileobj=reader, mode="r|*") as tar:  # type: ignore[call-overload]
            for member in tar:
                _check_member(member, engine, seen)
                seen[member.name] = take(tar, member)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise Refused(f"{what}无法读取（不完整或已损坏）：{err}") from err
    return seen


def _extract(archive: Path, staging: _Staging, engine: str, progress: Progress) -> dict[str, tuple[int, str]]:
    """Stage every member, hashing it; returns member -> (size, SHA-256)."""
    with open(archive, "rb") as raw, progress.bar(archive.stat().st_size, "读取并校验备份") as advance:
        return _read_members(_CountingReader(raw, advance), engine,
                             lambda tar, member: _stage_member(tar, member, staging), "备份文件")


def _verify(seen: dict[str, tuple[int, str]], manifest_bytes: bytes | None) -> Manifest:
    if manifest_bytes is None:
        raise Refused(f"备份文件不完整：没有 {MANIFEST}（可能在写入时中断）")
    try:
        manifest = Manifest.from_bytes(manifest_bytes)
    except ValueError as err:
        raise Refused(str(err)) from err
    problems = []
    for member, entry in sorted(manifest.files.items()):
        got = seen.get(member)
        if got is None:
            problems.append(f"缺少 {member}")
        elif got != (entry["size"], entry["sha256"]):
            problems.append(f"{member} 的 SHA-256 与清单不符")
    problems += [f"{member} 不在清单中" for member in sorted(set(seen) - set(manifest.files) - {MANIFEST, SUMS})]
    problems += _misnamed_blobs(seen, manifest)
    if manifest.database_member not in seen:
        problems.append(f"缺少数据库 {manifest.database_member}")
    _refuse_if(problems)
    return manifest


def _misnamed_blobs(seen: dict[str, tuple[int, str]], manifest: Manifest) -> list[str]:
    """A blob is named by the SHA-256 of its content: one whose content hashes otherwise was
    changed (unless the backup found it so and said so in its ``damaged`` list)."""
    damaged = manifest.damaged_blobs()
    return [f"{member} 的内容与其 SHA-256 名称不符" for member, (_size, digest) in sorted(seen.items())
            if (named := blob_digest_of(member)) is not None and named != digest and named not in damaged]


def _refuse_if(problems: list[str], prefix: str = "备份文件校验失败") -> None:
    if problems:
        more = f"（另有 {len(problems) - MAX_LISTED} 处）" if len(problems) > MAX_LISTED else ""
        raise Refused(f"{prefix}，实例目录未被改动：" + "；".join(problems[:MAX_LISTED]) + more)


def _extract_needed(archive: Path, link: dict, staging: _Staging, needed: set[str], engine: str,
                    progress: Progress) -> set[str]:
    """Read one archive of the chain whole: stage the blobs in ``needed``, hash everything, and
    check the archive against ``link`` (the SHA-256 the later archive recorded) and its members
    against its own manifest. Returns the blobs it gave."""
    manifest: dict[str, bytes] = {}
    given: set[str] = set()

    def take(tar: tarfile.TarFile, member: tarfile.TarInfo) -> tuple[int, str]:
        source = tar.extractfile(member)
        assert source is not None  # _check_member let only regular files through
        digest = blob_digest_of(member.name)
        if digest is not None and digest in needed and digest not in given:
            given.add(digest)
            with open(staging.target(member.name), "wb") as out:
                return copy_hashing(source, out)
        if member.name == MANIFEST:
            data = manifest[MANIFEST] = source.read()
            return len(data), hashlib.sha256(data).hexdigest()
        return copy_hashing(source, _Discard())

    with open(archive, "rb") as raw, progress.bar(archive.stat().st_size, f"读取并校验 {archive.name}") as advance:
        whole = HashingReader(raw, advance)
        seen = _read_members(whole, engine, take, f"备份链中的 {archive.name} ")
        while whole.read(READ_CHUNK):  # tar's end padding: the whole file's hash
            pass
    if (whole.size, whole.hash.hexdigest()) != (link["size"], link["sha256"]):
        raise Refused(f"备份链中的 {archive.name} 与增量备份记录的不是同一个文件（大小或 SHA-256 不同）："
                      "实例目录未被改动。请找回做增量备份时的那个文件")
    _verify(seen, manifest.get(MANIFEST))
    for digest in given:  # staged under the name, checked against the content above
        needed.discard(digest)
    return given


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


def _follow_chain(manifest: Manifest, chain_dir: Path, staging: _Staging, engine: str,
                  progress: Progress) -> list[Path]:
    """Stage, from the archives ``manifest`` builds on (newest first), every blob it needs that
    its own archive did not hold. Returns the archives read."""
    needed = set(manifest.uploads.values()) - set(staging.blobs)
    read: list[Path] = []
    for link in reversed(manifest.chain):
        if not needed:
            break
        path = chain_dir / link["name"]
        if not path.is_file():
            raise Refused(f"增量备份依赖的 {link['name']}（{link['created_at']} 的备份）不在 {chain_dir}：实例目录未被"
                          "改动。请把整条备份链（完整备份及其后的增量备份）放在同一目录，或用 --chain-dir 指明所在目录")
        given = _extract_needed(path, link, staging, needed, engine, progress)
        progress.step(f"{path.name}：校验通过，取出 {len(given)} 个文件")
        read.append(path)
    if needed:
        _refuse_if([f"备份链中没有内容为 {digest} 的文件" for digest in sorted(needed)], "备份链不完整")
    return read


def _move_aside(upload_root: Path, keep: set[str], aside: Path) -> int:
    """Move stored files that are not in the backup out of the storage (never delete them)."""
    moved = 0
    for path in stored_files_present(upload_root):
        relative = path.relative_to(upload_root)
        if "".join(relative.parts) in keep:
            continue
        target = aside / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        moved += 1
    return moved


def _install_files(staging: _Staging, upload_root: Path, manifest: Manifest) -> None:
    folders = set()
    for name, staged in staging.files.items():  # format 1: staged under the storage name
        final = path_for(name, upload_root)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)
        folders.add(final.parent)
    for name, digest in sorted(manifest.uploads.items()):  # format 2: one blob, any number of rows
        final = path_for(name, upload_root)
        final.parent.mkdir(parents=True, exist_ok=True)
        _place(staging.blobs[digest], final)
        folders.add(final.parent)
    for folder in folders:
        fsync_dir(folder)


def _place(blob: Path, final: Path) -> None:
    """A hard link to the staged blob (stored files never change, so rows with the same content
    may share it; deleting one removes only its link), or a copy where links are not possible."""
    final.unlink(missing_ok=True)
    try:
        os.link(blob, final)
    except OSError:
        shutil.copyfile(blob, final)


_GENERATED_LINE = re.compile(r"SECRET_KEY = '[0-9a-f]{64}'")


def _only_generated(path: Path) -> bool:
    """Is this the config.py the app writes on its first start (a secret key, nothing else)?"""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    settings = [line for line in lines if line and not line.startswith("#")]
    return len(settings) == 1 and _GENERATED_LINE.fullmatch(settings[0]) is not None


def _install_config(instance: Path, data: bytes | None, stamp: str) -> Path | None:
    """The backup's config.py (its secret key keeps sessions valid); a config.py somebody
    edited here is kept beside it."""
    path = instance / "config.py"
    if data is None or (path.is_file() and path.read_bytes() == data):
        return None
    kept = None
    if path.exists() and not _only_generated(path):
        kept = path.with_name(f"config.py.before-restore-{stamp}")
        os.replace(path, kept)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return kept


def _install_audit_key(path: Path, data: bytes | None, stamp: str, *, disposable: bool) -> Path | None:
    """The backup's audit chain key (the restored trail verifies with it); a different key
    found here is kept beside it, never overwritten, unless it is ``disposable`` (it sealed
    nothing: the one the app made on opening the empty instance moments before)."""
    if data is None or (path.is_file() and path.read_bytes() == data):
        return None
    kept = None
    if path.exists() and not disposable:
        kept = path.with_name(f"{path.name}.before-restore-{stamp}")
        os.replace(path, kept)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return kept


def _install(manifest: Manifest, staging: _Staging, *, url: str, upload_root: Path, instance: Path,
             replace: bool, audit_key_file: Path | None = None) -> list[Path]:
    stamp = f"{now():%Y%m%d-%H%M%S}"
    kept: list[Path] = []
    assert staging.database is not None  # the archive was refused without its database
    key_file = audit_key_file or instance / "audit-chain.key"
    # A key in this instance that sealed no row of the database being replaced is the one the
    # app made on its first start here: not kept, not reported. A key elsewhere
    # (XKXL_AUDIT_KEY_FILE) may seal another database's trail: always kept.
    disposable = key_file.resolve().is_relative_to(instance.resolve()) and not audit_rows_sealed(url)
    if manifest.engine == "sqlite":
        database = sqlite_file(url)
        keep = database.with_name(f"{database.name}.before-restore-{stamp}") \
            if replace and sqlite_has_tables(database) else None
        install_sqlite(staging.database, url, keep_previous_as=keep)
    else:
        keep = instance / f"before-restore-{stamp}.pgdump" if replace and postgres_state(url)[0] else None
        install_postgres(staging.database, url, keep_previous_as=keep)
    kept += [keep] if keep else []
    if replace:
        aside = instance / f"uploads-before-restore-{stamp}"
        if _move_aside(upload_root, staging.stored_names(manifest), aside):
            kept.append(aside)
    _install_files(staging, upload_root, manifest)
    config_kept = _install_config(instance, staging.config, stamp)
    key_kept = _install_audit_key(key_file, staging.audit_key, stamp, disposable=disposable)
    return kept + [p for p in (config_kept, key_kept) if p]


def restore_backup(archive: Path, *, database_url: str, upload_root: Path, instance_path: Path,
                   force: bool = False, progress: Progress | None = None,
                   audit_key_file: Path | None = None, chain_dir: Path | None = None) -> RestoreResult:
    """Restore ``archive`` (an incremental one with the archives it builds on, from ``chain_dir``,
    by default its own folder); the caller has closed its own database connections."""
    progress = progress or Progress()
    engine = engine_of(database_url)
    if served(str(instance_path)):
        raise Refused(f"服务正在运行，使用实例目录 {instance_path}：服务运行时不能恢复（--force 也不行，"
                      "服务会继续写入被替换的数据库）。请先停止服务：systemctl stop xkxl（make run / make serve "
                      "启动的，在其终端按 Ctrl+C），恢复后再启动：systemctl start xkxl。")
    with contextlib.ExitStack() as stack:
        live = False
        try:
            stack.enter_context(exclusive(str(instance_path)))
        except InstanceBusy as err:
            if not force:
                raise Refused(str(err)) from err
            live = True
            progress.step("警告：实例目录正被其他进程使用，按 --force 继续；完成后必须重启服务")
        replace = _check_target(engine, database_url, upload_root, force=force, progress=progress)
        database_dir = sqlite_file(database_url).parent if engine == "sqlite" else instance_path
        staging = _Staging(database_dir, upload_root)
        stack.callback(staging.remove)
        manifest = _verify(_extract(archive, staging, engine, progress), staging.manifest)
        progress.step(f"备份校验通过：{len(manifest.files)} 个成员的 SHA-256 与清单一致")
        if manifest.chain:
            progress.step(f"增量备份，基于完整备份 {manifest.chain[0]['name']}"
                          f"{f' 及其后的 {len(manifest.chain) - 1} 个增量备份' if len(manifest.chain) > 1 else ''}")
        chain_read = _follow_chain(manifest, chain_dir or archive.parent, staging, engine, progress)
        kept = _install(manifest, staging, url=database_url, upload_root=upload_root,
                        instance=instance_path, replace=replace, audit_key_file=audit_key_file)
    return RestoreResult(manifest, kept, live, chain_read)
