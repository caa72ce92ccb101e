"""Letter-and-digit recognizers: e-mail, IP address, passport, travel permits, plates, WeChat IDs.

Table-driven with negative rows: version numbers and clock times are not IP addresses, coupon and
model codes are not passports, a permit number needs its permit word, an English word is not a
WeChat ID without a WeChat word.
"""

from __future__ import annotations

import pytest

from chatkeeper.privacy.analyzer import Analyzer
from chatkeeper.privacy.findings import PiiType
from chatkeeper.privacy.recognizers.context import REPORT_THRESHOLD

ANALYZER = Analyzer(min_score=REPORT_THRESHOLD)

EMAIL = PiiType.EMAIL
IP = PiiType.IP_ADDRESS
PASSPORT = PiiType.CN_PASSPORT
HK = PiiType.CN_HK_MACAO_PERMIT
TW = PiiType.CN_TW_PERMIT
PLATE = PiiType.CN_LICENSE_PLATE
WECHAT = PiiType.WECHAT_ID


def detected(text: str) -> list[tuple[PiiType, str]]:
    """(type, value) of every finding at or above the report threshold."""
    return [(f.type, f.value(text)) for f in ANALYZER.analyze(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发到xiaobo@sina.com谢谢", [(EMAIL, "xiaobo@sina.com")]),
        (
            "我的邮箱hao.jing9244@company.com.cn，发票发这里",
            [(EMAIL, "hao.jing9244@company.com.cn")],
        ),
        ("邮箱ＡＢＣ＠ＱＱ．ＣＯＭ", [(EMAIL, "ＡＢＣ＠ＱＱ．ＣＯＭ")]),
        ("邮箱 first.last+tag@example.org。", [(EMAIL, "first.last+tag@example.org")]),
        ("@所有人 明天开会", []),
        ("邮箱写错了 abc@localhost", []),
        ("价格5@10元", []),
    ],
)
def test_email(text: str, expected: list[tuple[PiiType, str]]) -> None:
    """E-mail addresses next to 汉字 are found; '@' alone or without a domain is not one."""
    assert detected(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我这边登录IP是121.79.34.9，异地登录", [(IP, "121.79.34.9")]),
        ("内网192.168.1.10", [(IP, "192.168.1.10")]),
        (
            "地址756f:ddf6:8e1f:0:b189:c19e:ae82:f862",
            [(IP, "756f:ddf6:8e1f:0:b189:c19e:ae82:f862")],
        ),
        ("地址:2001:db8::1", [(IP, "2001:db8::1")]),
        (
            "地址ffde:fc34:f56c:0000:c89c:0e0e:2d93:2059",
            [(IP, "ffde:fc34:f56c:0000:c89c:0e0e:2d93:2059")],
        ),
        ("版本号v4.20.1，已经是最新了", []),
        ("版本号v1.2.3.4", []),
        ("IP是256.1.1.1", []),
        ("2024-03-15 10:41:16 下的单", []),
        ("MAC 00:1A:2B:3C:4D:5E", []),
        ("本机127.0.0.1", []),
        ("实付金额4910.88元", []),
    ],
)
def test_ip_address(text: str, expected: list[tuple[PiiType, str]]) -> None:
    """Valid addresses are found; versions, times, MACs and loopback are not detections."""
    assert detected(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("护照号码E12345678，机票改签用", [(PASSPORT, "E12345678")]),
        ("护照号码EB4595240", [(PASSPORT, "EB4595240")]),
        ("passport: G41479995", [(PASSPORT, "G41479995")]),
        ("优惠券码E12345678可以叠加吗", []),
        ("护照号码EI1234567", []),  # I is never used as the second letter
        ("型号E1234567890", []),
    ],
)
def test_passport(text: str, expected: list[tuple[PiiType, str]]) -> None:
    """Passport numbers count only right after a passport word."""
    assert detected(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("回乡证号H00302725可以实名吗", [(HK, "H00302725")]),
        ("回乡证号M9917114201", [(HK, "M9917114201")]),
        ("港澳通行证C89412124", [(HK, "C89412124")]),
        ("港澳通行证CA7207640", [(HK, "CA7207640")]),
        ("台胞证号码 24400009 能注册吗", [(TW, "24400009")]),
        ("用大陆居民往来台湾通行证L46203436可以吗", [(TW, "L46203436")]),
        ("台胞证12345678，回乡证H12345678", [(TW, "12345678"), (HK, "H12345678")]),
        ("往来台湾通行证C12345678", []),
        ("编号H00302725", []),
        ("验证码24400009", []),
    ],
)
def test_travel_permits(text: str, expected: list[tuple[PiiType, str]]) -> None:
    """The closest permit word decides the permit type; without one nothing is reported."""
    assert detected(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("车牌苏S 27279，停在地下车库B2", [(PLATE, "苏S 27279")]),
        ("车牌豫G·59336", [(PLATE, "豫G·59336")]),
        ("我的车是云YFP7647，能预约保养吗", [(PLATE, "云YFP7647")]),
        ("我的车是宁BD46040", [(PLATE, "宁BD46040")]),
        ("粤A83426D", [(PLATE, "粤A83426D")]),
        ("京A1234学", [(PLATE, "京A1234学")]),
        ("车牌京Ａ１２３４５", [(PLATE, "京Ａ１２３４５")]),
        ("京A12", []),
        ("苏ABCDEF", []),  # six letters: neither ordinary nor new-energy
        ("京I12345", []),  # no I as authority letter
        ("新ABCDE轮融资", []),
    ],
)
def test_license_plate(text: str, expected: list[tuple[PiiType, str]]) -> None:
    """Ordinary and new-energy plates are found by shape."""
    assert detected(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("加我微信GVfEMjuaxSG-qR发你照片", [(WECHAT, "GVfEMjuaxSG-qR")]),
        ("vx：wxid_py5gzrpc8g", [(WECHAT, "wxid_py5gzrpc8g")]),
        ("微信号是 Zhang-San88。", [(WECHAT, "Zhang-San88")]),
        ("系统ID wxid_abcdef123", [(WECHAT, "wxid_abcdef123")]),
        ("加我微信发你照片", []),
        ("微信支付失败了", []),
        ("my account is hello_world", []),
        ("微信abc", []),  # too short
        ("加我微信13800138000", [(PiiType.CN_MOBILE, "13800138000")]),
    ],
)
def test_wechat_id(text: str, expected: list[tuple[PiiType, str]]) -> None:
    """WeChat IDs need a WeChat word, except system wxid_ IDs."""
    assert detected(text) == expected
