"""What a round's notice declares, as frozen values (docs/notice-file.md).

The 申报书's sections and fields are :class:`~..domain.indicators.Section` / ``Field``, its rules
the classes of :mod:`..domain.rule_kinds`, 附件1's dimensions and indicators those of
:mod:`..domain.review_criteria` and the quota a :class:`~..domain.recommendation_quota.
RecommendationQuota`, so that the app can take them from a :class:`Notice` instead of from its
module-level declarations with few changes. Only what has no type yet is declared here: the
paper copies, 附件3's layout, the files asked for, and the notice itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from ..domain.declaration import Form
from ..domain.findings import Source
from ..domain.indicators import Field, Section
from ..domain.recommendation_quota import RecommendationQuota
from ..domain.review_criteria import Criteria
from ..domain.rule_kinds import Rule

__all__ = [
    "FORMAT",
    "Notice",
    "PaperCopies",
    "SummaryColumn",
    "SummaryLayout",
    "SUMMARY_PLACEHOLDERS",
    "SUMMARY_NUMBER",
    "RequestedFile",
    "Criteria",
    "chinese_count",
]

FORMAT = 1  # the version of the file format; a file says which one it is written in

_COUNTS = "一两三四五六七八九十"


def chinese_count(n: int) -> str:
    """How a notice counts copies: 一份, 一式两份, 一式三份 … (1 to 10)."""
    if not 1 <= n <= len(_COUNTS):
        raise ValueError(f"copies out of range: {n}")
    return _COUNTS[n - 1]


@dataclass(frozen=True)
class PaperCopies:
    """What reaches the province on paper (通知 二(三)): the 申报书 in ``form_copies`` copies,
    with an electronic copy on disc when ``form_disc``, and ``summary_copies`` of the stamped
    附件3."""

    form_copies: int
    form_disc: bool
    summary_copies: int

    @property
    def forms_label(self) -> str:
        """「申报书纸质版（一式三份）」, as the province's desk records it."""
        return f"申报书纸质版（一式{chinese_count(self.form_copies)}份）"

    @property
    def requirement(self) -> str:
        """The one sentence the home page says of what to send."""
        disc = "及电子版（光盘）" if self.form_disc else ""
        return (f"申报书纸质版一式{chinese_count(self.form_copies)}份{disc}、"
                f"推荐信息汇总表纸质版{chinese_count(self.summary_copies)}份报送省厅，电子版发送至联系人邮箱。")


SUMMARY_NUMBER = "number"  # the 序号 column: 1 … n in the clerk's order
# What 附件3's title and header and footer lines may name, with {…}: the round's title, the city,
# its bureau and the bureau's contact, and the 信息公开选项.
SUMMARY_PLACEHOLDERS = frozenset(
    {"round_title", "city_name", "department_name", "contact_name", "contact_phone", "disclosure"})


@dataclass(frozen=True)
class SummaryColumn:
    heading: str  # as 附件3 prints it
    value: str  # SUMMARY_NUMBER or the key of a field of the 申报书


@dataclass(frozen=True)
class SummaryLayout:
    """附件3 推荐信息汇总表: the title, the lines above the table, its columns, the lines under it."""

    title: str  # "{round_title}推荐信息汇总表"
    header_lines: tuple[str, ...]
    columns: tuple[SummaryColumn, ...]
    footer_lines: tuple[str, ...]
    default_disclosure: str  # 信息公开选项 when the city has not chosen one

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.heading for c in self.columns)


@dataclass(frozen=True)
class RequestedFile:
    """A kind of file the notice asks for (the fields of ``files.categories.Category``)."""

    key: str
    label: str  # shown on pages and used as the folder name in ZIP archives
    kinds: frozenset[str]  # file kinds accepted (files.filetypes.KINDS)
    versioned: bool  # one current file; a new upload supersedes it and the old one is kept
    per_city: bool = False  # belongs to a city and round rather than to an application
    required: bool = False


@dataclass(frozen=True)
class Notice:
    """One round's notice: the province's letter, its 附件1–3, what it asks for and the quota."""

    year: int
    title: str  # "2022年跨行业跨领域工业互联网平台": the round's name on every page and print
    notice_number: str  # the province's document number
    ministry_notice_number: str  # the ministry's notice it carries out
    deadline: datetime  # aware, Asia/Shanghai
    contact_name: str
    contact_phone: str
    contact_email: str
    paper: PaperCopies
    sections: tuple[Section, ...]  # 附件2 申报书
    rules: tuple[Rule, ...]
    criteria: Criteria  # 附件1
    summary: SummaryLayout  # 附件3
    files: tuple[RequestedFile, ...]
    quota: RecommendationQuota
    # SHA-256 of the canonical form (notice.dump.canonical_json), for the round to keep: two files
    # that declare the same notice, whatever their comments and layout, have the same digest.
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # The rules speak of this notice's fields (domain.rule_kinds.bind), once, here.
        object.__setattr__(self, "rules", self.form.rules)

    @cached_property
    def form(self) -> Form:
        """The 申报书 this notice declares, as the checks, pages and prints read it."""
        return Form(self.sections, self.rules)

    @property
    def fields(self) -> dict[str, Field]:
        return self.form.fields

    @property
    def sections_by_code(self) -> dict[str, Section]:
        return self.form.sections_by_code

    @property
    def required_keys(self) -> tuple[str, ...]:
        return self.form.required_keys

    @property
    def starred_sections(self) -> tuple[str, ...]:
        return self.form.starred_sections

    @property
    def rules_by_id(self) -> dict[str, Rule]:
        return self.form.rules_by_id

    @property
    def notice_rules(self) -> tuple[Rule, ...]:
        """The rules the notice itself states (the rest are the system's reading)."""
        return tuple(r for r in self.rules if r.source is Source.NOTICE)

    @property
    def files_by_key(self) -> dict[str, RequestedFile]:
        return {f.key: f for f in self.files}

