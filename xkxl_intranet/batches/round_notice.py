"""The notice a round keeps (issue 21, docs/notice-file.md): kept when the round is opened
(:func:`keep_notice`, called by ``settings.open_round``), filled by ``init-db`` for a round opened
before rounds kept theirs (:func:`fill_missing_notices`), read back for the round's 通知 page
and its TOML download, and set beside a new notice in the preview before a round is opened from it
(:func:`preview_notice`). The reads are of round-wide data and take no user; the routes let staff
(the preview: the province) alone in."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..audit.services import record
from ..extensions import db
from ..notice.compare import Changes, compare_notices
from ..notice.dump import to_toml
from ..notice.loader import NoticeError, load_notice
from ..notice.schema import Notice
from ..notice.shipped import FIRST_NOTICE
from ..notice.stored import notice_from_stored, stored_form
from ..rounds.models import Round

__all__ = ["sample_summary_text", "KeptNotice", "NoticePreview", "keep_notice", "fill_missing_notices", "kept_notice", "kept_notice_toml",
           "preview_notice"]


@dataclass(frozen=True)
class KeptNotice:
    """What a round keeps of its notice: the notice read back, or why it cannot be."""

    digest: str
    notice: Notice | None
    problems: tuple[str, ...] = ()


def keep_notice(round_: Round, notice: Notice) -> None:
    """The round keeps ``notice``'s canonical form and digest: a copy, not the file's path."""
    round_.notice = stored_form(notice)
    round_.notice_digest = notice.digest


def fill_missing_notices() -> int:
    """Every round without a notice keeps the 2022 notice file's: the rounds opened before rounds
    kept theirs all ran on the declarations in domain/, which that file declares. How many."""
    waiting = db.session.scalars(select(Round).where(Round.notice_digest.is_(None)).order_by(Round.year)).all()
    if not waiting:
        return 0
    notice = load_notice(FIRST_NOTICE)  # shipped and tested: a problem here is a broken install
    for round_ in waiting:
        keep_notice(round_, notice)
        record("round.notice_recorded", user=None, object_type="round", object_id=round_.id,
               summary=f"补记通知：{notice.title}（{notice.notice_number}，{FIRST_NOTICE.name}），"
                       f"摘要 {notice.digest}",
               after={"notice_file": FIRST_NOTICE.name, "notice_digest": notice.digest})
    db.session.flush()
    return len(waiting)


def kept_notice(round_: Round) -> KeptNotice | None:
    """The notice ``round_`` keeps, read back from the database (never from a file); None when
    it keeps none yet."""
    if round_.notice is None or round_.notice_digest is None:
        return None
    try:
        return KeptNotice(round_.notice_digest, notice_from_stored(round_.notice, round_.notice_digest))
    except NoticeError as error:
        return KeptNotice(round_.notice_digest, None, tuple(error.problems))


def kept_notice_toml(round_: Round) -> str | None:
    """The kept notice written out as a notice file (notice.dump.to_toml): the same notice, so
    the same digest, without the original file's comments."""
    kept = kept_notice(round_)
    if kept is None or kept.notice is None:
        return None
    return to_toml(kept.notice, preamble=(
        f"{round_.title}（{round_.year}年）开启时保存的通知，摘要（SHA-256）{kept.digest}。\n"
        "由数据库中保存的规范形式重新写出：所声明的内容与开启时的文件相同，原文件中的注释不在其中。"))


# What a city's 附件3 puts in the notice's {placeholders} (notice.schema.SUMMARY_PLACEHOLDERS).
_SUMMARY_SAMPLE = {"city_name": "〈市（州）〉", "department_name": "〈市（州）经信部门〉",
                   "contact_name": "〈联系人〉", "contact_phone": "〈联系电话〉"}


@dataclass(frozen=True)
class NoticePreview:
    """What the province reads before opening a round from ``notice``: the notice, and what it
    changes from the current round's (``compared_with`` that round's title; no changes to list
    when there is no current round)."""

    notice: Notice
    compared_with: str | None
    changes: tuple[Changes, ...]
    year_taken: bool  # a round of the notice's year exists: opening will be refused

    def summary_text(self, line: str) -> str:
        return sample_summary_text(self.notice, line)


def sample_summary_text(notice: Notice, line: str) -> str:
    """A 附件3 title or header line as a city's sheet prints it, the city's own words named."""
    return line.format_map({**_SUMMARY_SAMPLE, "round_title": notice.title,
                            "disclosure": notice.summary.default_disclosure})


def preview_notice(notice: Notice) -> NoticePreview:
    current = db.session.scalar(select(Round).where(Round.is_current))
    taken = db.session.scalar(select(Round.id).where(Round.year == notice.year)) is not None
    if current is None:
        return NoticePreview(notice, None, (), taken)
    # the current round's own declaration: a round keeping no notice runs on 2022's (Round.declaration)
    return NoticePreview(notice, current.title, compare_notices(current.declaration, notice), taken)
