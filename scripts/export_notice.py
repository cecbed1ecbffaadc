#!/usr/bin/env python3
"""Write ``notices/2022.toml`` from the Python declarations the app runs on today, so that the
first notice file is generated, not transcribed: the 申报书 (``domain.indicators``), its rules
(``domain.checks``), 附件1 (``domain.review_criteria``), the quota
(``domain.recommendation_quota``), the files (``files.categories``), the round
(``rounds.reference.ROUND_2022``). The paper copies were read off the sentences the home page and
the province's desk printed; since those say what the round's notice declares (issue 21), the
file's own ``[paper]`` is their one declaration and is written back as it is; so is ``[summary]``
(附件3, first written from ``reports.layouts``' sheet with its lines as placeholders, now printed
from the round's notice).

Run once, kept for reference (docs/notice-file.md): from now on the file is what the province
edits. The comments quote the 2022 notice (川经信办函〔2022〕71号) where its words explain a value.

Usage: python scripts/export_notice.py [--output notices/2022.toml]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xkxl_intranet.domain.checks import RULES
from xkxl_intranet.domain.indicators import SECTIONS
from xkxl_intranet.domain.recommendation_quota import QUOTA
from xkxl_intranet.domain.review_criteria import DIMENSIONS, MAX_SCORE, TITLE
from xkxl_intranet.files.categories import CATEGORIES
from xkxl_intranet.notice.dump import to_toml
from xkxl_intranet.notice.loader import load_notice, parse_notice
from xkxl_intranet.notice.schema import (
    Criteria,
    Notice,
    PaperCopies,
    RequestedFile,
    SummaryLayout,
)
from xkxl_intranet.notice.shipped import FIRST_NOTICE
from xkxl_intranet.rounds.reference import ROUND_2022

ROOT = Path(__file__).resolve().parent.parent


def paper_copies() -> PaperCopies:
    """The 2022 notice's paper copies: the pages no longer declare them, the file does."""
    return load_notice(FIRST_NOTICE).paper


def summary_layout() -> SummaryLayout:
    """附件3 as the 2022 notice lays it out: the sheet was written from ``reports.layouts`` once;
    since the app prints the round's declared 附件3 (issue 21), the file's own ``[summary]`` is its
    one declaration and is written back as it is."""
    return load_notice(FIRST_NOTICE).summary


def notice_2022() -> Notice:
    files = tuple(RequestedFile(c.key, c.label, c.kinds, c.versioned, c.per_city, c.required)
                  for c in CATEGORIES.values())
    return Notice(**ROUND_2022, paper=paper_copies(), sections=SECTIONS, rules=RULES,
                  criteria=Criteria(TITLE, MAX_SCORE, DIMENSIONS), summary=summary_layout(), files=files,
                  quota=QUOTA)


PREAMBLE = """\
2022年跨行业跨领域工业互联网平台：一轮申报的通知声明（川经信办函〔2022〕71号）

本文件声明一轮申报所依据的通知：通知本身、纸质材料、推荐名额、附件2 申报书的部分与字段、
字段之间的规则、附件1 申报能力要求、附件3 推荐信息汇总表和所需文件。格式说明见
docs/notice-file.md。下一年度：复制本文件为 notices/<年度>.toml，按新通知修改，然后检查：
    .venv/bin/python -m xkxl_intranet.notice notices/<年度>.toml
本文件最初由 scripts/export_notice.py 从系统当时的声明生成（未手工抄录），注释引用通知原文。
以 # 开头的行是注释。文字加英文双引号；true/false、数字不加引号。"""

COMMENTS = {
    "notice": "通知：川经信办函〔2022〕71号，依据工信厅信发函〔2022〕38号。title 是这一轮的名称，各页面和报表以它开头。",
    "notice.deadline": "通知 二(三)：「于2022年3月21日前……报送我厅」。按有利于市（州）的理解，21日全天有效。\n"
                       "北京时间，须写时刻和 +08:00；只写到分钟（如 17:00:00）则该分钟内有效。",
    "notice.contact_name": "通知 三、联系方式",
    "paper": "通知 二(三)：「《申报书》纸质版(一式三份)及电子版(光盘)、《推荐信息汇总表》纸质文件(一份)报送我厅」。\n"
             "form_copies：申报书纸质版份数；form_disc：是否另交电子版光盘；summary_copies：汇总表纸质版份数。",
    "quota": "工信厅信发函〔2022〕38号：各省推荐「一般不超过2个」，「2020年已获评的平台需重新申报但不占地方申报名额」。\n"
             "「一般」留有余地：超出名额是省厅确认后可保存的提示，不是禁止。",
    "section": "每个 [[section]] 是附件2 申报书的一个部分，按申报书的顺序；其下每个 [[section.field]] 是一项。\n"
               "key：字段名，一经使用不可改名（已存的申报数据按它保存）。label：页面和消息中的名称。\n"
               "kind：text 文字、date 日期、int 整数、money 金额、percent 百分比、bool 是/否、choice 单选、multi 多选、\n"
               "      email 邮箱、mobile 手机、phone 电话、credit_code 统一社会信用代码。choice/multi 须列出 choices。\n"
               "unit 单位；required 必填；hint 填写说明；max_length 最多字数；allow_negative 可为负数。\n"
               "starred = true：申报书中带*的部分，其数字和是/否字段须 required = true（申报书说明3）。\n"
               "form_*、lines：附件2 如何印出该字段（申报书模板和读取上传的申报书都用）：form_label 印出的标签、\n"
               "form_aliases 文件中的其他写法、form_after 同一行前面的标签、form_blank 同一标签后的第几个空、\n"
               "form_cell 印在表格单元格中；lines 是该部分印出的各行，{key} 为一个空。",
    "section:一": "表一。「组织机构代码」栏填18位统一社会信用代码（2018年起企业均有，全省名单需要它；填9位的组织机构代码时要求改填18位）。",
    "section:2.3": "通知原文作「杀手铜」，系「杀手锏」之误；这里照申报书的本意写「杀手锏」。",
    "section:3.2": "申报书：「数据均从2020年开始计算」",
    "rule": "规则类型 kind：sum 分项与总数（over：分项之和大于总数时、under：小于时的严重程度）；le 不大于（small ≤ big）；\n"
            "max 固定上限；range 范围；required_if 条件必填；near 比例相符（key 与 numerator ÷ denominator × scale\n"
            "相差不超过 tolerance）。severity：错误（阻止报送）或 警告（市州说明后确认）。\n"
            "source：通知（通知或申报书自己的要求）或 系统校核（系统对申报书的理解，消息中注明）。\n"
            "id 一经使用不可改（市州对警告的确认按它保存），须以规则类型和冒号开头。",
    "rule:required_if:build_partner": "申报书 二(1)：「合作共建 请注明合作企业名称」",
    "rule:required_if:iaas_provider": "申报书 二(1)：「租用 请注明服务商名称」",
    "rule:max:industries_covered": "申报书 3.1 所列行业按22类计；拆开读（航空/航天等）为21到24类，故超过22只是提示。",
    "rule:max:domains_covered": "申报书 3.1：「安全生产……运维服务九大重点领域」",
    "criteria": "附件1《2022年跨行业跨领域工业互联网平台申报能力要求》：五个维度、二十一项细化指标。\n"
                "requirement 能力要求、guidance 评价要点照原文，去掉英文字母两侧的空格，「杀手铜」作「杀手锏」。\n"
                "附件1 未给权重：weight 是省厅的默认权重（百分比，各维度合计100），评审时可按轮次调整。\n"
                "max_score：每项指标的满分（指标可另写 max_score）。key 一经使用不可改（评分表按它保存）。",
    "summary": "附件3《2022年跨行业跨领域工业互联网平台推荐信息汇总表》。花括号处填入：{round_title} 轮次名称、\n"
               "{city_name} 市（州）、{department_name} 经信部门名称、{contact_name} {contact_phone} 其联系人和电话、\n"
               "{disclosure} 信息公开选项（未选时为 default_disclosure）。column 的 value：number 为序号，其余为申报书字段。",
    "file": "所需文件：申报书（附件2）及其附件1–6 证明材料（申报书 (5)「其他说明材料」），以及盖章的附件3 汇总表扫描件。\n"
            "kinds：接受的文件格式；versioned：新上传取代旧文件（旧的保留）；per_city：属于市（州）而非某个申报；\n"
            "required：报送前必须上传。",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "notices" / "2022.toml")
    args = parser.parse_args()
    notice = notice_2022()
    text = to_toml(notice, COMMENTS, PREAMBLE)
    loaded = parse_notice(text)
    if loaded != notice:
        sys.exit("the written file does not read back as the declarations it was made from")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"{args.output}: {len(text.splitlines())} lines, digest {loaded.digest}")


if __name__ == "__main__":
    main()
