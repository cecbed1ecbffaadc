"""Who is using the instance folder.

Every process of the application (the server, each ``flask`` command) holds a shared lock on
``<instance>/.xkxl.lock`` for as long as it runs; ``flask restore`` takes it exclusively, so it
knows that no server and no other command is running on the folder, and none can start while
it replaces the database. The kernel drops the lock when a process ends, however it ends.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

LOCK_NAME = ".xkxl.lock"
# Held (shared) besides, by a serving process only: a restore never replaces the database under
# a server, not even with --force, as the server would go on writing into the set-aside file.
SERVING_LOCK_NAME = ".xkxl.serving.lock"
_held: dict[str, int] = {}


class InstanceBusy(Exception):
    """Another process holds the instance (a shared hold while restoring, any while a restore runs)."""


def _open(instance_path: str, name: str = LOCK_NAME) -> tuple[str, int]:
    key = os.path.realpath(instance_path)
    fd = os.open(os.path.join(key, name), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return key, fd


def hold_serving(instance_path: str) -> None:
    """Mark this process (and the serving processes it forks) as a server of the instance until
    it ends."""
    key = os.path.realpath(instance_path) + "#serving"
    if key in _held:
        return
    try:
        _, fd = _open(instance_path, SERVING_LOCK_NAME)
    except OSError:  # a read-only instance folder: nothing to restore into either
        return
    fcntl.flock(fd, fcntl.LOCK_SH)
    _held[key] = fd


def served(instance_path: str) -> bool:
    """Whether a server (see :func:`hold_serving`) holds the instance now."""
    try:
        _, fd = _open(instance_path, SERVING_LOCK_NAME)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def hold_shared(instance_path: str) -> None:
    """Mark this process as a user of the instance until it ends."""
    key = os.path.realpath(instance_path)
    if key in _held:
        return
    try:
        key, fd = _open(instance_path)
    except OSError:  # a read-only instance folder: nothing to restore into either
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InstanceBusy(f"实例目录 {key} 正在恢复备份，恢复完成前不能启动服务或运行命令。") from None
    _held[key] = fd


def release(instance_path: str) -> None:
    fd = _held.pop(os.path.realpath(instance_path), None)
    if fd is not None:
        os.close(fd)


@contextlib.contextmanager
def exclusive(instance_path: str) -> Iterator[None]:
    """Hold the instance alone (releasing this process's own shared hold), or raise
    :class:`InstanceBusy` at once if any other process uses it."""
    release(instance_path)
    key, fd = _open(instance_path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InstanceBusy(f"实例目录 {key} 正在被使用（服务或其他命令仍在运行）：请先停止服务"
                           "（systemctl stop xkxl）再恢复。") from None
    try:
        yield
    finally:
        os.close(fd)
