"""What a new notice changes from another (the current round's), as the province reads it before
opening a round from it (申报批次 → 预览): fields added, dropped, relabelled or retyped, rules added,
dropped or changed, 附件1's title, indicators and weights, 附件3's columns and lines, the files
asked for, and the notice's own terms. Each change is one Chinese sentence that names what it is
about by its label and, for a field or a rule, its key or id (what the saved data are kept by)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from ..domain.indicators import Field, Kind
from ..domain.rule_kinds import Rule
from .schema import SUMMARY_NUMBER, Notice, SummaryColumn

__all__ = ["KIND_LABELS", "Changes", "compare_notices", "field_kind_label", "column_source"]

# How the preview and the changes name a field's kind (docs/notice-file.md's words).
KIND_LABELS: dict[Kind, str] = {
    Kind.TEXT: "文字", Kind.DATE: "日期", Kind.INT: "整数", Kind.MONEY: "金额", Kind.PERCENT: "百分比",
    Kind.BOOL: "是/否", Kind.CHOICE: "单选", Kind.MULTI: "多选", Kind.EMAIL: "邮箱", Kind.MOBILE: "手机",
    Kind.PHONE: "电话", Kind.CREDIT_CODE: "统一社会信用代码"}

T = TypeVar("T")


@dataclass(frozen=True)
class Changes:
    """One part of the notice (申报书字段, 规则 …) and what changed in it, in the file's order."""

    part: str
    lines: tuple[str, ...]


def field_kind_label(f: Field) -> str:
    kind = KIND_LABELS[f.kind]
    return f"{kind}（{'、'.join(f.choices)}）" if f.choices else kind


def column_source(column: SummaryColumn, fields: Mapping[str, Field]) -> str:
    """What a 附件3 column prints: 序号, or the field it reads."""
    if column.value == SUMMARY_NUMBER:
        return "序号"
    f = fields.get(column.value)
    return f"「{f.label}」（{column.value}）" if f is not None else column.value


def compare_notices(old: Notice, new: Notice) -> tuple[Changes, ...]:
    """What ``new`` changes from ``old``: only the parts that changed."""
    parts = (("通知", _notice_terms(old, new)), ("申报书的部分", _sections(old, new)),
             ("申报书的字段", _fields(old, new)), ("规则", _rules(old, new)),
             ("附件1 评审指标", _criteria(old, new)), ("附件3 推荐信息汇总表", _summary(old, new)),
             ("所需文件", _files(old, new)))
    return tuple(Changes(part, tuple(lines)) for part, lines in parts if lines)


def _was(what: str, before: object, after: object) -> list[str]:
    return [f"{what}：{before} → {after}"] if before != after else []


def _keyed(old: Iterable[T], new: Iterable[T], key: Callable[[T], str]
           ) -> tuple[list[T], list[T], list[tuple[T, T]]]:
    """Added (new order), dropped (old order), and the pairs present in both (new order)."""
    before = {key(item): item for item in old}
    after = {key(item): item for item in new}
    return ([item for k, item in after.items() if k not in before],
            [item for k, item in before.items() if k not in after],
            [(before[k], item) for k, item in after.items() if k in before])


def _notice_terms(old: Notice, new: Notice) -> list[str]:
    return [*_was("名称", old.title, new.title),
            *_was("通知文号", old.notice_number, new.notice_number),
            *_was("依据的工业和信息化部通知文号", old.ministry_notice_number, new.ministry_notice_number),
            *_was("报送截止", f"{old.deadline:%Y-%m-%d %H:%M:%S}", f"{new.deadline:%Y-%m-%d %H:%M:%S}"),
            *_was("纸质材料", old.paper.requirement, new.paper.requirement),
            *_was("推荐名额", f"{old.quota.limit_words}（{old.quota.limit} 个）",
                  f"{new.quota.limit_words}（{new.quota.limit} 个）"),
            *_was("不占名额的平台", old.quota.exempt_words, new.quota.exempt_words),
            *_was("联系人", f"{old.contact_name} {old.contact_phone} {old.contact_email}",
                  f"{new.contact_name} {new.contact_phone} {new.contact_email}")]


def _sections(old: Notice, new: Notice) -> list[str]:
    added, dropped, both = _keyed(old.sections, new.sections, lambda s: s.code)
    lines = [f"新增部分 {s.code} {s.title}" for s in added]
    lines += [f"删去部分 {s.code} {s.title}" for s in dropped]
    for before, after in both:
        lines += _was(f"部分 {after.code} 的标题", before.title, after.title)
        if before.starred != after.starred:
            lines.append(f"部分 {after.code} {after.title}：{'改为带*（其数字须填写）' if after.starred else '不再带*'}")
    return lines


def _fields(old: Notice, new: Notice) -> list[str]:
    added, dropped, both = _keyed(old.fields.values(), new.fields.values(), lambda f: f.key)
    lines = [f"新增「{f.label}」（{f.key}，{f.section}，{field_kind_label(f)}{'，' + f.unit if f.unit else ''}"
             f"{'，必填' if f.required else ''}）" for f in added]
    lines += [f"删去「{f.label}」（{f.key}，{f.section}）" for f in dropped]
    for before, after in both:
        named = f"「{after.label}」（{after.key}）"
        lines += _was(f"改名（{after.key}）", f"「{before.label}」", f"「{after.label}」")
        lines += _was(f"{named}的类型", field_kind_label(before), field_kind_label(after))
        lines += _was(f"{named}的单位", before.unit or "无", after.unit or "无")
        lines += _was(f"{named}所在部分", before.section, after.section)
        lines += _was(f"{named}", "选填" if not before.required else "必填", "必填" if after.required else "选填")
        lines += _was(f"{named}的填写说明", f"“{before.hint}”" if before.hint else "无",
                      f"“{after.hint}”" if after.hint else "无")
    return lines


def rule_terms(rule: Rule) -> str:
    """A rule in one line: what it says, how severe, who states it."""
    return f"{rule.description}（{rule.severity_label}，{rule.source.value}）"


def _rules(old: Notice, new: Notice) -> list[str]:
    added, dropped, both = _keyed(old.rules, new.rules, lambda r: r.id)
    lines = [f"新增 {r.id}：{rule_terms(r)}" for r in added]
    lines += [f"删去 {r.id}：{rule_terms(r)}" for r in dropped]
    for before, after in both:
        if before != after:
            said, says = rule_terms(before), rule_terms(after)
            # a change the sentence does not show (a tolerance the description leaves out)
            lines.append(f"修改 {after.id}：{said} → {says}" if said != says else f"修改 {after.id}：{says}（参数有变化）")
    return lines


def _criteria(old: Notice, new: Notice) -> list[str]:
    lines = _was("标题", f"「{old.criteria.title}」", f"「{new.criteria.title}」")
    lines += _was("每项指标满分", old.criteria.max_score, new.criteria.max_score)
    added, dropped, both = _keyed(old.criteria.dimensions, new.criteria.dimensions, lambda d: d.key)
    lines += [f"新增维度 {d.number}、{d.label}（默认权重 {d.default_weight}%）" for d in added]
    lines += [f"删去维度 {d.number}、{d.label}" for d in dropped]
    for before, after in both:
        lines += _was(f"维度 {after.number} 的名称", f"「{before.label}」", f"「{after.label}」")
        lines += _was(f"维度 {after.number}、{after.label}的默认权重", f"{before.default_weight}%",
                      f"{after.default_weight}%")
        if before.requirement != after.requirement:
            lines.append(f"维度 {after.number}、{after.label}的能力要求有修改")
    added_i, dropped_i, both_i = _keyed(old.criteria.indicators.values(), new.criteria.indicators.values(),
                                        lambda i: i.key)
    lines += [f"新增指标 {i.code} {i.label}" for i in added_i]
    lines += [f"删去指标 {i.code} {i.label}" for i in dropped_i]
    for before_i, after_i in both_i:
        lines += _was(f"指标 {after_i.code} 的名称", f"「{before_i.label}」", f"「{after_i.label}」")
        lines += _was(f"指标 {after_i.code} 的满分", before_i.max_score, after_i.max_score)
        if before_i.guidance != after_i.guidance:
            lines.append(f"指标 {after_i.code} {after_i.label}的评价要点有修改")
    return lines


def _summary(old: Notice, new: Notice) -> list[str]:
    lines = _was("标题", old.summary.title, new.summary.title)
    lines += _was("表头各行", " / ".join(old.summary.header_lines), " / ".join(new.summary.header_lines))
    lines += _was("表尾各行", " / ".join(old.summary.footer_lines), " / ".join(new.summary.footer_lines))
    lines += _was("未选时的信息公开选项", old.summary.default_disclosure, new.summary.default_disclosure)
    if old.summary.headers == new.summary.headers and [c.value for c in old.summary.columns] == \
            [c.value for c in new.summary.columns]:
        return lines
    lines.append(f"各列：{'、'.join(old.summary.headers)} → {'、'.join(new.summary.headers)}")
    added, dropped, both = _keyed(old.summary.columns, new.summary.columns, lambda c: c.value)
    lines += [f"新增列「{c.heading}」：{column_source(c, new.fields)}" for c in added]
    lines += [f"删去列「{c.heading}」：{column_source(c, old.fields)}" for c in dropped]
    lines += [f"列「{before.heading}」改称「{after.heading}」：{column_source(after, new.fields)}"
              for before, after in both if before.heading != after.heading]
    return lines


def _files(old: Notice, new: Notice) -> list[str]:
    added, dropped, both = _keyed(old.files, new.files, lambda f: f.key)
    lines = [f"新增「{f.label}」（{f.key}{'，报送前必须上传' if f.required else ''}）" for f in added]
    lines += [f"删去「{f.label}」（{f.key}）" for f in dropped]
    for before, after in both:
        lines += _was(f"文件 {after.key} 的名称", f"「{before.label}」", f"「{after.label}」")
        lines += _was(f"「{after.label}」", "选传" if not before.required else "报送前必须上传",
                      "报送前必须上传" if after.required else "选传")
        lines += _was(f"「{after.label}」接受的格式", "、".join(sorted(before.kinds)), "、".join(sorted(after.kinds)))
    return lines
