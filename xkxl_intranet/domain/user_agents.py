"""A browser's short name from its User-Agent, for the list of one's log-in sessions:
「Chrome 120 / Windows」. A person recognises their own devices by it; nothing is decided by it
(a User-Agent is whatever the client says).

A dozen rules of our own rather than a library: the browsers met in a provincial office (the
Chinese shells of Chromium — 360, QQ, Sogou, WeChat's built-in one — Edge, Chrome, Firefox,
Safari, old IE) and the operating systems (Windows, the domestic 统信UOS and 麒麟, macOS, Android,
iOS, Linux) are few and their tokens stable, while ua-parser's regex file is some 200 KB to load
and keep up to date for the sake of one label."""
from __future__ import annotations

import re

UNKNOWN_BROWSER = "未知浏览器"

# (label, pattern whose first group is the version), the first match wins: the shells name
# themselves beside the Chrome and Safari tokens they also carry, so they come first.
_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE)) for label, pattern in (
        ("微信", r"MicroMessenger/(\d+)"),
        ("QQ浏览器", r"QQBrowser/(\d+)"),
        ("360浏览器", r"(?:QIHU 360\w*|360SE|360EE)(?:[ /](\d+))?"),
        ("搜狗浏览器", r"MetaSr(?: (\d+))?"),
        ("UC浏览器", r"UCBrowser/(\d+)"),
        ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
        ("Opera", r"OPR/(\d+)"),
        ("Firefox", r"Firefox/(\d+)"),
        ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
        ("Safari", r"Version/(\d+)[\d.]* (?:Mobile/\w+ )?Safari/"),
        ("IE", r"MSIE (\d+)"),
        ("IE", r"Trident/.*rv:(\d+)"),
    ))

_SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE)) for label, pattern in (
        ("Windows", r"Windows"),
        ("统信UOS", r"\bUOS\b|UnionTech"),
        ("麒麟", r"Kylin"),
        ("iOS", r"iPhone|iPad|iPod"),
        ("Android", r"Android"),
        ("macOS", r"Mac OS X|Macintosh"),
        ("Linux", r"Linux|X11"),
    ))


def browser_label(user_agent: str) -> str:
    """「Chrome 120 / Windows」, 「360浏览器 / Windows」 (no version where the browser gives none),
    「未知浏览器」 for an empty or unknown one.

    >>> browser_label("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    ...               "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
    'Chrome 120 / Windows'
    """
    browser = ""
    for label, pattern in _BROWSERS:
        found = pattern.search(user_agent)
        if found:
            browser = f"{label} {found.group(1)}" if found.group(1) else label
            break
    system = next((label for label, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if not browser:
        return f"{UNKNOWN_BROWSER} / {system}" if system else UNKNOWN_BROWSER
    return f"{browser} / {system}" if system else browser
