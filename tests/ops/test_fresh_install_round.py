"""docs/deploy.md 1.5: on a fresh install, whose only round is 2022's (long over), the guide's own
commands open this year's round from its notice file."""
from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from xkxl_intranet import clock
from xkxl_intranet.extensions import db
from xkxl_intranet.rounds.models import Round

REPO = Path(__file__).resolve().parents[2]
THIS_YEARS_NOTICE = REPO / "tests/notices/2023.toml"  # a next year's notice written as docs/notices.md says


@pytest.fixture
def in_2023():
    clock.set_now(datetime(2023, 5, 8, 9, 0, tzinfo=clock.SHANGHAI))  # 2022's round over, 2023's not due
    yield
    clock.set_now(None)


def _guide_commands() -> list[list[str]]:
    """The `sudo xkxl …` lines of the guide's first set-up and of 1.5, as the admin command's words."""
    guide = (REPO / "docs/deploy.md").read_text(encoding="utf-8")
    setup = guide.split("### 1.4 ", 1)[1].split("## 2. ", 1)[0]
    return [line.split("#", 1)[0].split()[2:] for line in setup.splitlines()
            if line.strip().startswith("sudo xkxl ")]


def _rounds(app) -> dict[int, tuple[bool, bool]]:
    """Each round's year: (is it the current round, is it still open for reporting)."""
    with app.app_context():
        return {r.year: (r.is_current, r.deadline > clock.now())
                for r in db.session.scalars(db.select(Round))}


def test_the_guide_opens_this_years_round_on_a_fresh_install(restored_app, tmp_path, in_2023):
    runner = restored_app.test_cli_runner()
    commands = _guide_commands()
    notice_commands = [c for c in commands if c[0] == "notice"]
    assert [c[:2] for c in notice_commands] == [["notice", "check"], ["notice", "open"]], commands
    [server_path] = {c[2] for c in notice_commands}  # the file where the guide puts it on the server
    assert re.fullmatch(r"/etc/xkxl/notices/\d{4}\.toml", server_path)
    placed = tmp_path / Path(server_path).relative_to("/")
    placed.parent.mkdir(parents=True)
    shutil.copy(THIS_YEARS_NOTICE, placed)

    for words in commands:
        words = [str(placed) if word == server_path else word for word in words]
        if words[0] == "notice" and words[1] == "open":
            assert _rounds(restored_app) == {2022: (True, False)}  # a fresh install: 2022's, 已截止
        result = runner.invoke(args=words)
        assert result.exit_code == 0, (words, result.output)
    assert _rounds(restored_app) == {2022: (False, False), 2023: (True, True)}
