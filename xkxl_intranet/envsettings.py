"""Whole-number settings from the environment (``XKXL_IDLE_MINUTES=30``), read one way: unset or
empty gives the default; anything but digits stops the start with the variable's name and what
it must be, not a Python traceback about ``int()`` (an operator typing ``30m`` or ``三十`` in the
unit file learns which line to fix)."""
from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["SettingError", "whole_number"]


class SettingError(ValueError):
    """A setting in the environment that the program cannot use; the message names it."""


def whole_number(name: str, default: int | None = None, *, minimum: int = 0, maximum: int | None = None,
                 environ: Mapping[str, str] | None = None) -> int | None:
    """The whole number in the environment variable ``name``, between ``minimum`` and ``maximum``.

    >>> whole_number("X", 7, environ={})
    7
    >>> whole_number("X", 7, environ={"X": " 30 "})
    30
    >>> whole_number("X", 7, environ={"X": "30m"})
    Traceback (most recent call last):
    ...
    xkxl_intranet.envsettings.SettingError: X must be a whole number ≥ 0, not '30m'
    """
    env = os.environ if environ is None else environ
    raw = env.get(name, "")
    text = raw.strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit():
        raise SettingError(f"{name} must be a whole number ≥ {minimum}"
                           f"{'' if maximum is None else f' and ≤ {maximum}'}, not {raw!r}")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        raise SettingError(f"{name} must be between {minimum} and {maximum if maximum is not None else '∞'}, "
                           f"not {value}")
    return value
