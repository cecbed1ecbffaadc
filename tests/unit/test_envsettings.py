"""Whole-number settings from the environment, read one way (envsettings.whole_number): a value an
operator mistyped stops the start naming the variable, instead of int()'s traceback or, as
XKXL_SERVING_PROCESSES did, being ignored without a word."""
import pytest

from xkxl_intranet import create_app
from xkxl_intranet.envsettings import SettingError, whole_number
from xkxl_intranet.serving import default_processes


def test_unset_or_empty_gives_the_default_and_digits_their_value():
    assert whole_number("XKXL_X", 7, environ={}) == 7
    assert whole_number("XKXL_X", 7, environ={"XKXL_X": "  "}) == 7
    assert whole_number("XKXL_X", environ={}) is None
    assert whole_number("XKXL_X", 7, environ={"XKXL_X": " 30 "}) == 30
    assert whole_number("XKXL_X", 7, environ={"XKXL_X": "0"}) == 0


@pytest.mark.parametrize("typed", ["30m", "-1", "1.5", "三十", "３０", "0x10"])
def test_anything_but_digits_is_refused_naming_the_variable(typed):
    with pytest.raises(SettingError, match=r"^XKXL_X must be a whole number ≥ 0, not ") as refused:
        whole_number("XKXL_X", 7, environ={"XKXL_X": typed})
    assert repr(typed) in str(refused.value)


def test_bounds_are_named():
    with pytest.raises(SettingError, match="XKXL_SMTP_PORT must be between 1 and 65535, not 70000"):
        whole_number("XKXL_SMTP_PORT", minimum=1, maximum=65535, environ={"XKXL_SMTP_PORT": "70000"})
    with pytest.raises(SettingError, match="XKXL_IDLE_MINUTES must be between 1 and ∞, not 0"):
        whole_number("XKXL_IDLE_MINUTES", minimum=1, environ={"XKXL_IDLE_MINUTES": "0"})


@pytest.mark.parametrize("name", ["XKXL_IDLE_MINUTES", "XKXL_MAX_SESSIONS_PER_ACCOUNT", "XKXL_AUDIT_RETENTION_DAYS",
                                  "XKXL_BACKUP_FULL_DAYS", "XKXL_PASSWORD_MAX_AGE_DAYS", "XKXL_LOGIN_LOCK_MINUTES"])
def test_the_app_does_not_start_with_a_mistyped_setting(monkeypatch, tmp_path, name):
    monkeypatch.setenv(name, "30m")
    with pytest.raises(SettingError, match=f"^{name} must be"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                    "SQLALCHEMY_DATABASE_URI": "sqlite://"}, commands=False)


def test_serving_processes_mistyped_is_said_not_ignored(monkeypatch):
    monkeypatch.setenv("XKXL_SERVING_PROCESSES", "2")
    assert default_processes() == 2
    monkeypatch.setenv("XKXL_SERVING_PROCESSES", "two")
    with pytest.raises(SettingError, match="XKXL_SERVING_PROCESSES"):
        default_processes()
