"""Loading a round's notice file (docs/notice-file.md): :func:`load_notice` and
:func:`parse_notice` give a :class:`~.schema.Notice` or raise :class:`NoticeError` with every
problem found, each a Chinese sentence that names its place; :func:`check_notice_file` gives the
problems as a list, for a command that validates next year's file before a round uses it.

The 申报书's sections, fields and rules are checked by :mod:`.form_checks`; this module reads
the rest of the file and puts the notice together, with its digest (the SHA-256 of its
canonical form, :func:`.dump.notice_digest`) for the round to keep."""
from __future__ import annotations

import re
import string
import tomllib
from dataclasses import replace
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import Any

from ..domain.answers import identity_problems
from ..domain.deadlines import SHANGHAI
from ..domain.indicators import Field
from ..domain.recommendation_quota import RecommendationQuota
from ..domain.review_criteria import Dimension, Indicator
from .dump import notice_digest
from .form_checks import read_rules, read_sections
from .lines import with_lines
from .reading import (
    BOOL,
    INT,
    MOMENT,
    TABLE,
    TABLES,
    TEXT,
    TEXTS,
    Key,
    Problems,
    moment_problem,
    read_table,
)
from .schema import (
    FORMAT,
    SUMMARY_NUMBER,
    SUMMARY_PLACEHOLDERS,
    Criteria,
    Notice,
    PaperCopies,
    RequestedFile,
    SummaryColumn,
    SummaryLayout,
    chinese_count,
)

__all__ = ["NoticeError", "load_notice", "read_notice_bytes", "parse_notice", "read_notice_data", "check_notice_file"]

NAME = re.compile(r"[a-z][a-z0-9_]*")


class NoticeError(ValueError):
    """A notice file that cannot be used: ``problems`` says every reason, in Chinese."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def load_notice(path: str | PathLike[str]) -> Notice:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise NoticeError([f"无法读取通知文件 {path}：{error.strerror or error}"]) from None
    return read_notice_bytes(raw, str(path))


def read_notice_bytes(raw: bytes, name: str) -> Notice:
    """The notice of a file's bytes (a file on disk, or one uploaded as ``name``)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NoticeError([f"{name}：不是 UTF-8 编码的文本文件，请以 UTF-8 保存"]) from None
    return parse_notice(text)


def check_notice_file(path: str | PathLike[str]) -> list[str]:
    """Every problem of a notice file, or nothing when a round can use it."""
    try:
        load_notice(path)
    except NoticeError as error:
        return error.problems
    return []


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _toml_problem(error: tomllib.TOMLDecodeError) -> str:
    message = str(error)
    at = _AT.search(message)
    where = f"（第{at.group(1)}行第{at.group(2)}列附近）" if at else ""
    detail = _AT.sub("", message)
    return (f"文件不是有效的 TOML{where}：{detail}。常见原因：文字未加英文双引号，用了中文引号、冒号或逗号，"
            "同一项写了两次")


def parse_notice(text: str) -> Notice:
    """The notice a file's text declares, or :class:`NoticeError`."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)  # 0.5 is a figure, not a float
    except tomllib.TOMLDecodeError as error:
        raise NoticeError([_toml_problem(error)]) from None
    try:
        return read_notice_data(data)
    except NoticeError as error:
        raise NoticeError(with_lines(text, error.problems)) from None


def read_notice_data(data: dict[str, Any]) -> Notice:
    """The notice of a file's tables and values, as TOML gives them (a round's kept copy is
    turned back into them by :mod:`.stored`)."""
    problems = Problems()
    notice = _read_notice(data, problems)
    if problems or notice is None:
        raise NoticeError(problems.messages)
    return replace(notice, digest=notice_digest(notice))


_TOP = {
    "format": Key(INT), "notice": Key(TABLE), "paper": Key(TABLE), "quota": Key(TABLE),
    "section": Key(TABLES), "rule": Key(TABLES, []), "criteria": Key(TABLE), "summary": Key(TABLE),
    "file": Key(TABLES),
}


def _read_notice(data: dict[str, Any], problems: Problems) -> Notice | None:
    top = read_table(data, "文件顶层", _TOP, problems)
    if top is None:
        return None
    if top["format"] != FORMAT:
        problems.add("文件顶层", f"format = {top['format']} 不是本系统能读的格式（应为 format = {FORMAT}）")
        return None
    head = _read_head(top["notice"], problems)
    paper = _read_paper(top["paper"], problems)
    quota = _read_quota(top["quota"], problems)
    sections, broken = read_sections(top["section"], problems)
    fields = {f.key: f for s in sections for f in s.fields}
    for key, message in identity_problems(fields):
        if key not in broken:
            problems.add(f"[[section.field]]（{key}）", message)
    rules = read_rules(top["rule"], fields, broken, problems)
    criteria = _read_criteria(top["criteria"], problems)
    summary = _read_summary(top["summary"], fields, broken, problems)
    files = _read_files(top["file"], problems)
    if problems or head is None or paper is None or quota is None or criteria is None or summary is None:
        return None
    return Notice(**head, paper=paper, sections=sections, rules=rules, criteria=criteria, summary=summary,
                  files=files, quota=quota)


# ---------------------------------------------------------------- the notice itself

_HEAD = {"year": Key(INT), "title": Key(TEXT), "notice_number": Key(TEXT), "ministry_notice_number": Key(TEXT, ""),
         "deadline": Key(MOMENT), "contact_name": Key(TEXT), "contact_phone": Key(TEXT),
         "contact_email": Key(TEXT)}


def _read_head(table: dict[str, Any], problems: Problems) -> dict[str, Any] | None:
    place = "[notice]"
    head = read_table(table, place, _HEAD, problems)
    if head is None:
        return None
    if not 2000 <= head["year"] <= 2100:
        problems.add(place, f"年度 year = {head['year']} 不像一个年份")
        return None
    wrong = moment_problem(head["deadline"])
    if wrong:
        problems.add(place, f"截止时间 deadline {wrong}")
        return None
    head["deadline"] = head["deadline"].astimezone(SHANGHAI)
    if head["deadline"].year != head["year"]:
        problems.add(place, f"截止时间在{head['deadline'].year}年，与年度 year = {head['year']} 不一致")
        return None
    return head


_PAPER = {"form_copies": Key(INT), "form_disc": Key(BOOL), "summary_copies": Key(INT)}


def _read_paper(table: dict[str, Any], problems: Problems) -> PaperCopies | None:
    paper = read_table(table, "[paper]", _PAPER, problems)
    if paper is None:
        return None
    for name in ("form_copies", "summary_copies"):
        try:
            chinese_count(paper[name])
        except ValueError:
            problems.add("[paper]", f"“{name}” = {paper[name]} 份数应在1到10之间")
            return None
    return PaperCopies(**paper)


_QUOTA = {"limit": Key(INT), "notice": Key(TEXT), "limit_words": Key(TEXT), "exempt_words": Key(TEXT),
          "exempt_who": Key(TEXT)}


def _read_quota(table: dict[str, Any], problems: Problems) -> RecommendationQuota | None:
    quota = read_table(table, "[quota]", _QUOTA, problems)
    if quota is None:
        return None
    if quota["limit"] < 1:
        problems.add("[quota]", f"推荐名额 limit = {quota['limit']} 应至少为1")
        return None
    return RecommendationQuota(**quota)


# ---------------------------------------------------------------- 附件1

_CRITERIA = {"title": Key(TEXT), "max_score": Key(INT), "dimension": Key(TABLES)}
_DIMENSION = {"key": Key(TEXT), "number": Key(TEXT), "label": Key(TEXT), "weight": Key(INT),
              "requirement": Key(TEXT), "indicator": Key(TABLES)}
_INDICATOR = {"key": Key(TEXT), "code": Key(TEXT), "label": Key(TEXT), "guidance": Key(TEXT),
              "max_score": Key(INT, None)}


def _read_criteria(table: dict[str, Any], problems: Problems) -> Criteria | None:
    before = len(problems)
    criteria = read_table(table, "[criteria]", _CRITERIA, problems)
    if criteria is None:
        return None
    if criteria["max_score"] < 1:
        problems.add("[criteria]", f"每项指标的满分 max_score = {criteria['max_score']} 应至少为1")
    if not criteria["dimension"]:
        problems.add("[criteria]", "附件1 至少要有一个维度 [[criteria.dimension]]")
    dimensions: list[Dimension] = []
    seen: dict[str, str] = {}
    seen_indicators: dict[str, str] = {}
    for n, item in enumerate(criteria["dimension"], start=1):
        place = f"[[criteria.dimension]] 第{n}个（{item.get('key', '?')}）"
        d = read_table(item, place, _DIMENSION, problems)
        if d is None:
            continue
        if not NAME.fullmatch(d["key"]):
            problems.add(place, f"维度名 “{d['key']}” 只能用小写英文字母、数字和下划线，并以字母开头")
        _unique(d["key"], "维度", place, seen, problems)
        if not 0 <= d["weight"] <= 100:
            problems.add(place, f"默认权重 weight = {d['weight']} 应在0到100之间")
        if not d["indicator"]:
            problems.add(place, "此维度没有指标 [[criteria.dimension.indicator]]")
        indicators = _read_indicators(d, criteria["max_score"], seen_indicators, problems)
        dimensions.append(Dimension(d["key"], d["number"], d["label"], d["requirement"], indicators,
                                    d["weight"]))
    if len(problems) == before and sum(d.default_weight for d in dimensions) != 100:
        parts = " + ".join(f"{d.key} {d.default_weight}" for d in dimensions)
        problems.add("[criteria]", f"各维度的默认权重之和须为100，现为 "
                                   f"{sum(d.default_weight for d in dimensions)}（{parts}）")
    if len(problems) != before:
        return None
    return Criteria(criteria["title"], criteria["max_score"], tuple(dimensions))


def _read_indicators(d: dict[str, Any], max_score: int, seen: dict[str, str], problems: Problems,
                     ) -> tuple[Indicator, ...]:
    indicators = []
    for m, entry in enumerate(d["indicator"], start=1):
        place = f"[[criteria.dimension.indicator]] {d['key']} 第{m}项（{entry.get('key', '?')}）"
        i = read_table(entry, place, _INDICATOR, problems)
        if i is None:
            continue
        if not NAME.fullmatch(i["key"]):
            problems.add(place, f"指标名 “{i['key']}” 只能用小写英文字母、数字和下划线，并以字母开头")
        _unique(i["key"], "指标", place, seen, problems)
        score = max_score if i["max_score"] is None else i["max_score"]
        if score < 1:
            problems.add(place, f"满分 max_score = {score} 应至少为1")
        indicators.append(Indicator(i["key"], i["code"], i["label"], i["guidance"], d["key"], score))
    return tuple(indicators)


def _unique(key: str, what: str, place: str, seen: dict[str, str], problems: Problems) -> None:
    if key in seen:
        problems.add(place, f"{what} “{key}” 重复（与 {seen[key]} 同名）")
    else:
        seen[key] = place


# ---------------------------------------------------------------- 附件3

_SUMMARY = {"title": Key(TEXT), "header_lines": Key(TEXTS), "footer_lines": Key(TEXTS),
            "default_disclosure": Key(TEXT), "column": Key(TABLES)}
_COLUMN = {"heading": Key(TEXT), "value": Key(TEXT)}


def _placeholders(text: str) -> list[str] | None:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return None


def _read_summary(table: dict[str, Any], fields: dict[str, Field], broken: set[str], problems: Problems,
                  ) -> SummaryLayout | None:
    before = len(problems)
    summary = read_table(table, "[summary]", _SUMMARY, problems)
    if summary is None:
        return None
    known = "、".join("{" + name + "}" for name in sorted(SUMMARY_PLACEHOLDERS))
    for text in (summary["title"], *summary["header_lines"], *summary["footer_lines"]):
        names = _placeholders(text)
        if names is None:
            problems.add("[summary]", f"“{text}” 中的花括号不成对（{{…}} 只用来填入：{known}）")
        for name in names or ():
            if name not in SUMMARY_PLACEHOLDERS:
                problems.add("[summary]", f"“{text}” 中的 {{{name}}} 无法填入（可用：{known}）")
    if not summary["column"]:
        problems.add("[summary]", "附件3 至少要有一列 [[summary.column]]")
    columns = []
    for n, item in enumerate(summary["column"], start=1):
        place = f"[[summary.column]] 第{n}列"
        column = read_table(item, place, _COLUMN, problems)
        if column is None:
            continue
        if column["value"] != SUMMARY_NUMBER and column["value"] not in fields and column["value"] not in broken:
            problems.add(place, f"“{column['heading']}” 的 value = “{column['value']}” 既不是 “{SUMMARY_NUMBER}”"
                                "（序号）也不是申报书中的字段")
        columns.append(SummaryColumn(**column))
    if len(problems) != before:
        return None
    return SummaryLayout(summary["title"], tuple(summary["header_lines"]), tuple(columns),
                         tuple(summary["footer_lines"]), summary["default_disclosure"])


# ---------------------------------------------------------------- the files asked for

_FILE = {"key": Key(TEXT), "label": Key(TEXT), "kinds": Key(TEXTS), "versioned": Key(BOOL),
         "per_city": Key(BOOL, False), "required": Key(BOOL, False)}
KIND_NAME = re.compile(r"[a-z0-9]+")


def _read_files(items: list[dict[str, Any]], problems: Problems) -> tuple[RequestedFile, ...]:
    files = []
    seen: dict[str, str] = {}
    for n, item in enumerate(items, start=1):
        place = f"[[file]] 第{n}个（{item.get('key', '?')}）"
        f = read_table(item, place, _FILE, problems)
        if f is None:
            continue
        if not NAME.fullmatch(f["key"]):
            problems.add(place, f"文件类别名 “{f['key']}” 只能用小写英文字母、数字和下划线，并以字母开头")
        _unique(f["key"], "文件类别", place, seen, problems)
        kinds = f["kinds"]
        if not kinds:
            problems.add(place, "kinds 至少要列出一种文件格式")
        bad = [k for k in kinds if not KIND_NAME.fullmatch(k)]
        if bad:
            problems.add(place, f"文件格式 {'、'.join(bad)} 应写成小写扩展名，如 \"pdf\"")
        if len(set(kinds)) != len(kinds):
            problems.add(place, "kinds 中有重复的格式")
        files.append(RequestedFile(**(f | {"kinds": frozenset(kinds)})))
    return tuple(files)
