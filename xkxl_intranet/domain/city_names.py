"""A city as an operator types it: its name (成都市), pinyin (chengdu), code (510100) or the short
name the province writes (成都, 凉山, 凉山州, 阿坝州 for 阿坝藏族羌族自治州). No Flask here."""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class CityKey(NamedTuple):
    name: str
    pinyin: str
    code: str


# A short name has at least two characters: no single 广 that means 广元 and 广安 at once.
MIN_SHORT = 2


def matching_cities(typed: str, cities: Sequence[CityKey]) -> list[CityKey]:
    """The cities ``typed`` names: the one it names exactly, else every city whose name starts
    with it (a trailing 市 or 州 dropped, as in 凉山州). More than one: the caller says it is
    ambiguous and lists them; none: not found."""
    typed = typed.strip()
    exact = [c for c in cities if typed in (c.name, c.code) or typed.lower() == c.pinyin.lower()]
    if exact or not typed:
        return exact
    short = typed[:-1] if typed[-1] in "市州" and len(typed) > MIN_SHORT else typed
    if len(short) < MIN_SHORT:
        return []
    return [c for c in cities if c.name.startswith(short)]
