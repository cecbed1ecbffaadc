"""The browser's short name on 我的账号 (domain/user_agents.py): the browsers and systems met in a
provincial office, each by its own name and not by the Chrome or Safari tokens it also carries."""
from __future__ import annotations

import pytest

from xkxl_intranet.domain.user_agents import browser_label

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Safari/537.36")


@pytest.mark.parametrize(("user_agent", "label"), [
    (CHROME_WINDOWS, "Chrome 120 / Windows"),
    (CHROME_WINDOWS + " Edg/120.0.2210.91", "Edge 120 / Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121 / Windows"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.125 "
     "Safari/537.36 UOS", "Chrome 108 / 统信UOS"),
    ("Mozilla/5.0 (X11; Linux aarch64; Kylin) Gecko/20100101 Firefox/102.0", "Firefox 102 / 麒麟"),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 "
     "Safari/537.36 QIHU 360SE", "360浏览器 / Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0.4758.102 "
     "Safari/537.36 Core/1.94.202.400 QQBrowser/11.9.5355.400", "QQ浏览器 11 / Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 "
     "Safari/537.36 SE 2.X MetaSr 1.0", "搜狗浏览器 1 / Windows"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Mobile/15E148 MicroMessenger/8.0.44(0x18002c2f) NetType/WIFI Language/zh_CN", "微信 8 / iOS"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Safari/605.1.15", "Safari 17 / macOS"),
    ("Mozilla/5.0 (Linux; Android 13; V2218A) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/116.0.0.0 Mobile Safari/537.36", "Chrome 116 / Android"),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", "IE 11 / Windows"),
    ("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)", "IE 8 / Windows"),
    ("curl/8.4.0", "未知浏览器"),
    ("", "未知浏览器"),
])
def test_a_browser_is_named_with_its_major_version_and_system(user_agent, label):
    assert browser_label(user_agent) == label
