"""附件1 申报能力要求 as a round's notice declares it (:class:`Criteria`: dimensions, indicators, the
scale and the default weights), and the three overall opinions. The score sheet, its live totals,
the aggregation, the prints and the 评审汇总表 all iterate over the criteria of the review's round
(``round.declaration.criteria``).

:data:`CRITERIA_2022` (:data:`DIMENSIONS` / :data:`INDICATORS`) is 2022's 附件1
《2022年跨行业跨领域工业互联网平台申报能力要求》: five dimensions and twenty-one indicators, which
``notices/2022.toml`` declares again (tests/unit/test_notice_file.py); app code reads the round's.

Labels, 能力要求 and 评价要点 are copied as the notice prints them, with two normalisations:
the spaces that the notice's text puts around Latin letters (``工业 APP``) are dropped, as the
申报书 declaration (:mod:`.indicators`) does, and the notice's misprint 杀手铜 is written
杀手锏, the word the 申报书 and ``domain.md`` use.

**Scale.** 附件1 ranks no indicator above another within a dimension, so each indicator is
scored on the same scale, 0 to :data:`MAX_SCORE` points with at most one decimal (the scale
experts are used to, and fine enough to separate two platforms without false precision).

**Weights.** 附件1 gives none; the province sets them per review round (percent per dimension,
summing to 100). A dimension's score is ``weight × points / points possible``, so the sheet's
total is out of 100 whatever the number of indicators in a dimension. The default
(:data:`DEFAULT_WEIGHTS`): weighting every indicator equally (≈ 4.8 points each) would give
社会贡献度 (5 indicators, mostly records of participation — 部重点工作, 标准制定, 运行分析 —
that a provincial candidate often cannot show yet) as much as 资源管理, and 核心技术 (3
indicators) only 14 %, although the notice's first requirement is 「具备较强的技术研发和融合
创新能力」. So the two dimensions that carry the 申报书's starred hard figures, 资源管理 and
赋能成效, get 25 each; 核心技术 20 (three indicators, each weighs more); 社会贡献度 and
可持续发展 15 each.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from .declaration import Form

__all__ = [
    "MAX_SCORE",
    "Indicator",
    "Dimension",
    "Criteria",
    "CRITERIA_2022",
    "DIMENSIONS",
    "DIMENSIONS_BY_KEY",
    "INDICATORS",
    "DEFAULT_WEIGHTS",
    "Opinion",
    "TITLE",
    "count_words",
]

TITLE = "跨行业跨领域工业互联网平台申报能力要求"
MAX_SCORE = 10  # points per indicator


@dataclass(frozen=True)
class Indicator:
    key: str  # stored in the score sheets: never rename
    code: str  # "1.1" … "5.3": the dimension's number and the indicator's place in it
    label: str  # as the notice prints it
    guidance: str  # 评价要点: the notice's paragraph under the indicator
    dimension: str  # Dimension.key
    max_score: int = MAX_SCORE

    @property
    def heading(self) -> str:
        return f"{self.code} {self.label}"

    def form_section(self, form: Form) -> str | None:
        """The section of the round's 申报书 (``form``) with this indicator's figures (same
        number), if it has one."""
        return self.code if self.code in form.sections_by_code else None


@dataclass(frozen=True)
class Dimension:
    key: str
    number: str  # 一 … 五
    label: str
    requirement: str  # 能力要求
    indicators: tuple[Indicator, ...]
    default_weight: int  # percent

    @property
    def heading(self) -> str:
        return f"{self.number}、{self.label}"

    @property
    def max_points(self) -> int:
        return sum(i.max_score for i in self.indicators)


_DIGITS = "零一二三四五六七八九"


def count_words(n: int) -> str:
    """A count as the notice writes it: 两, 五, 十, 二十一 (up to 99; figures beyond)."""
    if n == 2:
        return "两"
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else f"{_DIGITS[tens]}十")
    return head + (_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class Criteria:
    """附件1 申报能力要求: the dimensions, their indicators and default weights (percent)."""

    title: str
    max_score: int  # points per indicator, unless an indicator says otherwise
    dimensions: tuple[Dimension, ...]

    @cached_property
    def indicators(self) -> dict[str, Indicator]:
        return {i.key: i for d in self.dimensions for i in d.indicators}

    @cached_property
    def dimensions_by_key(self) -> dict[str, Dimension]:
        return {d.key: d for d in self.dimensions}

    @cached_property
    def default_weights(self) -> dict[str, int]:
        return {d.key: d.default_weight for d in self.dimensions}

    @property
    def extent(self) -> str:
        """「五个维度、二十一项指标」, as the expert's page says what is scored."""
        return f"{count_words(len(self.dimensions))}个维度、{count_words(len(self.indicators))}项指标"


def _dimension(key: str, index: int, number: str, label: str, requirement: str, weight: int,
               *indicators: tuple[str, str, str]) -> Dimension:
    return Dimension(key, number, label, requirement, tuple(
        Indicator(ikey, f"{index}.{n}", ilabel, guidance, key)
        for n, (ikey, ilabel, guidance) in enumerate(indicators, start=1)), weight)


DIMENSIONS: tuple[Dimension, ...] = (
    _dimension(
        "resources", 1, "一", "平台资源管理水平",
        "具备较强的设备管理能力，可接入海量工业设备，兼容多种工业协议，能够实现工业设备数据的采集、汇聚、"
        "分析与应用，优化工业设备运行。具备较强的工业知识沉淀能力，可通过工业模型、微服务组件的封装与调用，"
        "实现工业知识的沉淀、转化与复用。具备良好的用户基础，能够服务海量工业企业，为企业数字化转型赋能。"
        "汇聚不同学科知识背景和不同行业经验的各类开发者，持续推动平台开发创新。",
        25,
        ("devices", "工业设备数量", "评价工业设备的连接数量和类型、工业协议兼容适配能力等。"),
        ("models", "工业模型数量", "评价工业模型的数量、类型等。"),
        ("apps", "工业APP数量",
         "评价工业APP的数量、类型等。工业APP指基于工业互联网平台，承载工业知识和经验，满足特定需求的工业应用软件。"),
        ("enterprises", "服务工业企业数量",
         "评价服务工业企业数量等，包括工业制造企业、工业服务企业（如行业解决方案提供商），以及付费用户比例。"),
        ("developers", "平台开发者数量", "评价开发者数量，包括注册总数和活跃开发者数。"),
    ),
    _dimension(
        "technology", 2, "二", "平台核心技术水平",
        "平台应具有较强的技术创新能力和融合能力；平台应具有特色软硬件产品，掌握关键核心技术，具备较强的"
        "安全防护能力；平台应具备良好的开发环境和开发工具，具备面向多行业多领域的创新产品、创新功能、创新"
        "解决方案，能够支持特定场景解决方案和工业APP的开发创新。具备较强的应用自研能力，杀手锏工业APP具有"
        "较高的应用价值。",
        20,
        ("innovation", "平台技术创新能力",
         "评价平台的技术先进性，对新一代信息技术的融合创新能力，对应用软件及解决方案的支撑能力，技术产品化能力，"
         "获得的专利及软著数量等。"),
        ("reliability", "平台产品可靠性和安全防护能力",
         "评价平台核心软硬件产品的可靠性和市场竞争力，平台的安全防护体系和防护能力，获得第三方安全测评认证的情况等。"),
        ("killer_apps", "自研杀手锏工业APP情况",
         "评价平台对工业APP的自研能力，杀手锏工业APP的创新性、订阅量、市场价值等。"),
    ),
    _dimension(
        "empowerment", 3, "三", "平台赋能成效",
        "平台应具有特色行业解决方案，能够体现与平台强关联关系，能够显著解决制造业数字化转型痛点问题，满足区域"
        "产业数字化转型需求，进园区、进基地成效显著，积极拓展国际业务。",
        25,
        ("solutions", "解决方案供给能力",
         "解决方案应和平台关联性强，能够通过平台连接设备、承载模型、开发多种工业APP，解决工艺优化、质量改进、"
         "效率提升等痛难点问题；评价解决方案的场景复杂度、与新一代信息技术融合创新程度、应用价值和可推广能力等。"),
        ("parks", "赋能园区转型成效",
         "评价平台服务园区、产业集群转型升级成效，包括服务园区数量、特色功能，对园区管理侧和产业侧的赋能成效，"
         "如提升园区治理能力、促进园区招商引资和生态汇聚、提高园区内企业数字化水平和产业协同水平等。"),
        ("industries", "赋能行业和领域成效",
         "评价平台赋能行业和领域成效，包括服务行业、领域数量，重点服务行业、场景，新模式新业态培育情况等。"),
        ("sme", "中小企业服务能力",
         "评价平台服务中小企业数量和产生的收入，服务中小企业的创新产品及解决方案应用情况，如开发轻量化、"
         "模块化软件工具及解决方案，创新商业模式为中小企业数字化转型提供低成本服务等。"),
        ("international", "国际业务拓展能力",
         "评价平台国际业务拓展能力和国际竞争力，能够对海外企业提供平台赋能解决方案，将中国技术、中国方案带向国际。"),
    ),
    _dimension(
        "contribution", 4, "四", "平台社会贡献度",
        "平台作为“新基建”核心要素，具备在重大事件、重大风险防范方面的支撑作用，如支撑国家重要部署，"
        "参与部重点工作。",
        15,
        ("growth", "稳增长支撑能力",
         "评价平台在“六稳”“六保”等方面发挥的作用，作为新型基础设施对相关行业的带动作用，在服务属地工业增长和"
         "转型中发挥的作用。"),
        ("dual", "“双链”“双碳”支撑能力",
         "评价平台支撑产业链供应链协同的创新解决方案情况，能够助力特定产业强链补链；平台具有支撑能源管控、"
         "节能减排等解决方案，能够有效降低工业企业碳排放水平。"),
        ("analysis", "支撑经济或行业运行分析",
         "评价平台依托工业互联网平台数据构建数字产业地图、产业经济运行、产业链监测、企业画像、特色工业指数等情况。"),
        ("ministry_work", "部重点工作参与情况",
         "评价平台参与工业互联网领域重点工作情况，包括创新发展工程、试点示范、进园区、深度行、创新合作中心等重点工作。"),
        ("standards", "参与标准制定情况",
         "平台牵头或参与编制工业互联网平台领域标准情况，包括国际、国家和行业标准。"),
    ),
    _dimension(
        "sustainability", 5, "五", "平台可持续发展能力",
        "平台具有较好的投资回报能力、公司资源调配能力，具有良好的生态运营水平，具备汇聚各方资源创新发展的能力。",
        15,
        ("profitability", "平台盈利能力",
         "评价平台自身盈利能力，包括平台收入规模、平台及软件业务收入占比、资本融资情况等。"),
        ("resourcing", "公司资源调配能力", "评价平台研发资金规模、从业人员数量等资源投入情况。"),
        ("ecosystem", "生态运营能力",
         "评价平台赋能特定行业/区域平台建设、带动行业解决方案服务商发展情况，在产融合作、产教融合、人才培养等"
         "方面情况。"),
    ),
)

DIMENSIONS_BY_KEY: dict[str, Dimension] = {d.key: d for d in DIMENSIONS}
INDICATORS: dict[str, Indicator] = {i.key: i for d in DIMENSIONS for i in d.indicators}
DEFAULT_WEIGHTS: dict[str, int] = {d.key: d.default_weight for d in DIMENSIONS}

CRITERIA_2022 = Criteria(TITLE, MAX_SCORE, DIMENSIONS)

assert len(INDICATORS) == sum(len(d.indicators) for d in DIMENSIONS), "duplicate indicator key"
assert sum(DEFAULT_WEIGHTS.values()) == 100


class Opinion(StrEnum):
    """The expert's overall opinion, in the terms of the province's three marks."""

    RECOMMEND = "recommend"
    CULTIVATE = "cultivate"
    REJECT = "reject"

    @property
    def label(self) -> str:
        return {"recommend": "推荐", "cultivate": "可培育", "reject": "不推荐"}[self.value]
