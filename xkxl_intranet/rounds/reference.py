"""Reference data from the notice (川经信办函〔2022〕71号) and domain.md. No Flask here."""
from __future__ import annotations

from datetime import datetime

from ..clock import SHANGHAI

# (division code, name, pinyin user name, bureau name as printed on 附件3)
CITIES: tuple[tuple[str, str, str, str], ...] = (
    ("510100", "成都市", "chengdu", "成都市经济和信息化局"),
    ("510300", "自贡市", "zigong", "自贡市经济和信息化局"),
    ("510400", "攀枝花市", "panzhihua", "攀枝花市经济和信息化局"),
    ("510500", "泸州市", "luzhou", "泸州市经济和信息化局"),
    ("510600", "德阳市", "deyang", "德阳市经济和信息化局"),
    ("510700", "绵阳市", "mianyang", "绵阳市经济和信息化局"),
    ("510800", "广元市", "guangyuan", "广元市经济和信息化局"),
    ("510900", "遂宁市", "suining", "遂宁市经济和信息化局"),
    ("511000", "内江市", "neijiang", "内江市经济和信息化局"),
    ("511100", "乐山市", "leshan", "乐山市经济和信息化局"),
    ("511300", "南充市", "nanchong", "南充市经济和信息化局"),
    ("511400", "眉山市", "meishan", "眉山市经济和信息化局"),
    ("511500", "宜宾市", "yibin", "宜宾市经济和信息化局"),
    ("511600", "广安市", "guangan", "广安市经济和信息化局"),
    ("511700", "达州市", "dazhou", "达州市经济和信息化局"),
    ("511800", "雅安市", "yaan", "雅安市经济和信息化局"),
    ("511900", "巴中市", "bazhong", "巴中市经济和信息化局"),
    ("512000", "资阳市", "ziyang", "资阳市经济和信息化局"),
    ("513200", "阿坝藏族羌族自治州", "aba", "阿坝州经济和信息化局"),
    ("513300", "甘孜藏族自治州", "ganzi", "甘孜州经济和信息化局"),
    ("513400", "凉山彝族自治州", "liangshan", "凉山州经济和信息化局"),
)

# Telephone area codes by division code: 眉山 and 资阳 share 成都's 028.
AREA_CODES: dict[str, str] = {
    "510100": "028", "510300": "0813", "510400": "0812", "510500": "0830", "510600": "0838",
    "510700": "0816", "510800": "0839", "510900": "0825", "511000": "0832", "511100": "0833",
    "511300": "0817", "511400": "028", "511500": "0831", "511600": "0826", "511700": "0818",
    "511800": "0835", "511900": "0827", "512000": "028", "513200": "0837", "513300": "0836",
    "513400": "0834",
}


def landline(city_code: str, number: int) -> str:
    """A fixed-line number in the city's own area: 8 local digits after 028, 7 after a
    four-digit code (0816-2345678), as the numbers are dialled there."""
    area = AREA_CODES[city_code]
    if len(area) == 3:
        return f"{area}-8{number % 10 ** 7:07d}"
    return f"{area}-2{number % 10 ** 6:06d}"


ROUND_2022 = {
    "year": 2022,
    "title": "2022年跨行业跨领域工业互联网平台",
    "notice_number": "川经信办函〔2022〕71号",
    "ministry_notice_number": "工信厅信发函〔2022〕38号",
    # "于2022年3月21日前", read in the cities' favour: the whole of 21 March counts.
    "deadline": datetime(2022, 3, 21, 23, 59, 59, tzinfo=SHANGHAI),
    "contact_name": "大数据与信息化处 魏鹏程",
    "contact_phone": "028-86264036",
    "contact_email": "879603923@qq.com",
}
