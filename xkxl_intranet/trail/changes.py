"""What an audit event changed, as the trail page shows it: each recorded key under its Chinese
name and each value as a clerk would write it (是/否, 2022-03-21 23:59, a file category's name),
never a Python ``None``, a field key or a row id. Pure: the stored events are not touched.

A declared field, an indicator or a dimension is named as the notice of the round the event's
object belongs to names it (:class:`KeyNames`, one per round's 申报书 and 附件1): a label a later
notice changes leaves the earlier rounds' events as they were."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from ..auth.models import ROLE_LABELS, Role
from ..clock import to_shanghai
from ..domain.declaration import Form
from ..domain.review_criteria import Criteria
from ..filenames import human_size
from ..files.categories import CATEGORIES
from ..rounds.models import Round

EMPTY = "（空）"

# Keys the services record besides the declared fields (the round's notice names those).
KEY_LABELS: dict[str, str] = {
    # applications
    "review_state": "初审状态", "review_comment": "初审意见", "province_mark": "推荐结果",
    "province_note": "推荐说明", "note": "确认说明",
    # the province's mark (review/marking.py): the scores it saw, marking without them, the quota
    "quota_exempt": "2020年已获评，不占名额", "review_bypass": "不经专家评审直接标记的理由",
    "review": "标记时的专家评分", "summary": "概况", "rank": "排名", "ranked": "参与排名份数", "mean": "平均分",
    "range": "极差", "stdev": "标准差", "sheets": "评分表", "sheet": "评分表编号", "outlier": "偏离",
    "opinions": "意见", "fingerprint": "评分指纹",
    "quota": "推荐工信部名额", "counted": "计入名额", "limit": "名额", "exempt": "2020年已获评（不计入）",
    "confirmed": "经确认超出名额",
    # batches and rounds
    "state": "状态", "receipt": "回执号", "late": "逾期报送", "reason": "原因",
    "paper_summary_follows": "汇总表纸质版另行报送（未上传当前扫描件）",
    "extension_deadline": "延期至", "disclosure": "信息公开选项", "deadline": "报送截止时间",
    # How many copies is the round's notice's (rounds/paper.py); a change row does not know its round.
    "paper_forms_received_on": "申报书纸质版收到日期",
    "paper_disc_received_on": "电子版光盘收到日期", "paper_summary_received_on": "汇总表纸质版收到日期",
    "year": "年度", "title": "名称", "results_published_at": "推荐结果公布时间",
    "notice_number": "通知文号", "notice_digest": "通知摘要（SHA-256）", "notice_file": "通知文件",
    # 附件3 and the Excel import
    "order": "汇总表顺序", "contact_name": "联系人", "contact_phone": "联系方式", "file": "导入文件",
    "created": "新建", "updated": "更新", "unchanged": "无变化",
    # files
    "category": "类别", "name": "文件名", "size": "大小", "sha256": "SHA-256", "kind": "识别格式",
    "uploaded_at": "上传时间", "uploaded_by": "上传人", "replaces": "替换的旧版本",
    # expert review (the indicators and dimensions are named by the round's 附件1)
    "scores": "评分", "comments": "各维度意见", "opinion": "综合意见", "overall_comment": "综合评价",
    "total": "合计", "weights": "维度权重", "experts_per_application": "每份申报的专家人数",
    "expert": "评审专家", "enterprise": "企业", "review_deadline": "评审截止时间",
    # accounts
    "username": "用户名", "display_name": "姓名/名称", "role": "角色", "city": "所属市（州）",
    "phone": "联系电话", "is_enabled": "启用", "email": "电子邮箱",
    # mail
    "last_error": "上次发送错误",
}
# Recorded for the machine, shown elsewhere on the row: the 对象 column names the application a
# file belongs to, and the 说明 column quotes the warning a note acknowledges.
HIDDEN_KEYS = frozenset({"application_id", "rule"})

_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


@dataclass(frozen=True, eq=False)
class KeyNames:
    """The Chinese names of the keys recorded by the events of one round: its 申报书's fields,
    then its 附件1's indicators and dimensions, then the services' own keys."""

    labels: Mapping[str, str]

    def __call__(self, key: str) -> str:
        return self.labels.get(key, key)


@lru_cache(maxsize=16)
def key_names(form: Form, criteria: Criteria) -> KeyNames:
    """The names of a round whose notice declares ``form`` and ``criteria`` (made once for each)."""
    labels = dict(KEY_LABELS)
    labels.update({key: d.label for key, d in criteria.dimensions_by_key.items()})
    labels.update({key: i.label for key, i in criteria.indicators.items()})
    labels.update({key: f.label for key, f in form.fields.items()})
    return KeyNames(labels)


def round_key_names(round_: Round) -> KeyNames:
    """The names of ``round_``'s events, from the notice it keeps."""
    notice = round_.declaration
    return key_names(notice.form, notice.criteria)


def _moment(text: str) -> str:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = to_shanghai(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")


def _special(key: str, value: Any) -> str | None:
    """Values whose key says how to read them; ``None`` for the general rules."""
    if key == "category" and value in CATEGORIES:
        return CATEGORIES[value].label
    if key == "role" and value in {r.value for r in Role}:
        return ROLE_LABELS[Role(value)]
    if key == "size" and isinstance(value, int) and not isinstance(value, bool):
        return human_size(value)
    if key == "kind" and isinstance(value, str):
        return value.upper()
    if key == "replaces" and isinstance(value, list):
        return f"{len(value)} 个"
    return None


def display_value(key: str, value: Any, names: KeyNames) -> str:
    """A recorded value as text a clerk reads; the keys of a mapping by ``names``."""
    special = _special(key, value)
    if special is not None:
        return special
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(display_value("", item, names) for item in value)
    if isinstance(value, Mapping):
        return "；".join(f"{names(k)}：{display_value(k, v, names)}" for k, v in value.items())
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        try:
            return _moment(value)
        except ValueError:
            return value
    return str(value)


def change_rows(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                names: KeyNames) -> list[tuple[str, str, str]]:
    """(label, before, after) for every recorded key, after's keys first (their order as recorded),
    then keys only ``before`` had (a deletion's snapshot), named by ``names`` (those of the round
    the event's object belongs to). A side that did not record the key shows nothing rather than
    「空」: a creation has no "before"."""
    before, after = before or {}, after or {}
    keys = [k for k in after if k not in HIDDEN_KEYS]
    keys += [k for k in before if k not in after and k not in HIDDEN_KEYS]
    return [(names(k),
             display_value(k, before[k], names) if k in before else "",
             display_value(k, after[k], names) if k in after else "")
            for k in keys]
