"""Digit-based recognizers: resident ID, bank card, mobile, landline, USCC and QQ numbers.

Table-driven (presidio style): every recognizer has valid rows and negative rows (bad check digit,
order and tracking numbers, hotlines, unallocated segments, digits inside longer runs), plus rows
with full-width digits and 汉字 right next to the value. Valid values were computed with the demo
data module's own check-digit code, independent of the recognizers'.
"""

from __future__ import annotations

import pytest

from chatkeeper.privacy.analyzer import Analyzer
from chatkeeper.privacy.findings import PiiType, Reason
from chatkeeper.privacy.normalise import fold
from chatkeeper.privacy.recognizers import (
    BankCardRecognizer,
    CnIdCardRecognizer,
    CnLandlineRecognizer,
    CnMobileRecognizer,
    CnUsccRecognizer,
    QqNumberRecognizer,
)
from chatkeeper.privacy.recognizers.context import REPORT_THRESHOLD

ANALYZER = Analyzer(min_score=REPORT_THRESHOLD)
ALL_FINDINGS = Analyzer()


def detected(text: str) -> list[tuple[PiiType, str]]:
    """(type, value) of every finding at or above the report threshold."""
    return [(f.type, f.value(text)) for f in ANALYZER.analyze(text)]


def low_confidence(text: str) -> list[tuple[PiiType, str]]:
    """(type, value) of every finding below the report threshold."""
    return [
        (f.type, f.value(text)) for f in ALL_FINDINGS.analyze(text) if f.score < REPORT_THRESHOLD
    ]


ID = PiiType.CN_ID_CARD
CARD = PiiType.BANK_CARD
MOBILE = PiiType.CN_MOBILE
LANDLINE = PiiType.CN_LANDLINE
USCC = PiiType.CN_USCC
QQ = PiiType.QQ_NUMBER
NAME = PiiType.PERSON_NAME


class TestResidentIdCard:
    """GIVEN a message with an 18- or 15-digit number WHEN analyzed THEN only real IDs count."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("身份证号44030419900307123X，实名认证失败", [(ID, "44030419900307123X")]),
            ("身份证号44030419900307123x", [(ID, "44030419900307123x")]),
            ("号码320106198501010018", [(ID, "320106198501010018")]),
            ("我的身份证：650102 19751231 5673", [(ID, "650102 19751231 5673")]),
            ("证件650102-19751231-5673", [(ID, "650102-19751231-5673")]),
            ("闰日出生110101198002290018没问题", [(ID, "110101198002290018")]),
            (
                "身份证３２０１０６１９８５０１０１００１８",
                [(ID, "３２０１０６１９８５０１０１００１８")],
            ),
            ("旧身份证号320106850101001", [(ID, "320106850101001")]),
        ],
    )
    def test_valid(self, text: str, expected: list[tuple[PiiType, str]]) -> None:
        """Valid check character, real province and birth date: detected with exact span."""
        assert detected(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "订单号320106198501010011，麻烦查一下",  # bad check digit, order context
            "编号991061985010100172",  # province 99 does not exist
            "号码320106198513010018",  # month 13
            "号码320106290001010011",  # born in the future
            "320106850101001",  # 15 digits without context
            "单号A320106198501010018",  # glued to a letter: part of a code
            "12320106198501010018",  # inside a longer digit run
        ],
    )
    def test_negative(self, text: str) -> None:
        """Near misses and look-alikes are not detected as ID numbers."""
        assert (ID, text) not in detected(text)
        assert all(kind is not ID for kind, _ in detected(text))

    def test_bad_check_digit_with_context_is_low_confidence(self) -> None:
        """GIVEN a mistyped ID after 身份证号 THEN it is reported below the threshold."""
        text = "身份证号320106198501010011提示不正确"
        findings = CnIdCardRecognizer().find(text, text, None)
        assert [(f.value(text), f.reason) for f in findings] == [
            ("320106198501010011", Reason.LOW_CONFIDENCE)
        ]
        assert findings[0].score < REPORT_THRESHOLD
        assert low_confidence(text) == [(ID, "320106198501010011")]

    def test_valid_id_after_order_word_is_contradicted(self) -> None:
        """GIVEN a check-valid number right after 订单号 THEN it stays below the threshold."""
        assert low_confidence("订单号320106198501010018") == [(ID, "320106198501010018")]


class TestBankCard:
    """Cards need Luhn, a known issuer prefix and 16-19 digits; order words contradict them."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("卡号6217001234567890122，户名张三", [(CARD, "6217001234567890122"), (NAME, "张三")]),
            ("退到这张卡吧：6217 0012 3456 7890 122", [(CARD, "6217 0012 3456 7890 122")]),
            ("信用卡4367429876543216", [(CARD, "4367429876543216")]),
            ("卡5187101234567899", [(CARD, "5187101234567899")]),
            ("JCB卡号3568891234567899", [(CARD, "3568891234567899")]),
            ("中行卡6013829876543210982", [(CARD, "6013829876543210982")]),
            ("工行卡9558809876543210987绑定了", [(CARD, "9558809876543210987")]),
            ("卡号４３６７４２９８７６５４３２１６", [(CARD, "４３６７４２９８７６５４３２１６")]),
        ],
    )
    def test_valid(self, text: str, expected: list[tuple[PiiType, str]]) -> None:
        """Luhn-valid cards from known issuers are detected, grouped or not."""
        assert detected(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "卡号6217001234567890123绑定失败",  # Luhn fails
            "我的订单 2025731390979000 怎么还没发货？",  # Luhn-valid order number, unknown BIN
            "订单号4457640613813342403",  # Visa prefix but 19 digits, order context
            "订单号6217001234567890122，麻烦查一下",  # a valid card shape after 订单号
            "快递单号SF6217001234567890122",  # glued to letters: a tracking number
            "商品编码6901234567892",  # 13-digit barcode
        ],
    )
    def test_negative(self, text: str) -> None:
        """Bad checks, order and tracking numbers are not detected as cards."""
        assert all(kind is not CARD for kind, _ in detected(text))

    def test_bad_luhn_after_card_word_is_low_confidence(self) -> None:
        """GIVEN a mistyped card after 卡号 THEN it is reported with LOW_CONFIDENCE."""
        text = "卡号6217001234567890123绑定失败"
        (finding,) = BankCardRecognizer().find(text, text, None)
        assert finding.reason is Reason.LOW_CONFIDENCE
        assert finding.score < REPORT_THRESHOLD

    def test_card_word_beats_id_for_an_ambiguous_18_digit_number(self) -> None:
        """An 18-digit number valid as both card and ID follows its context word."""
        number = _ambiguous_18_digits()
        assert detected(f"卡号{number}") == [(CARD, number)]
        assert detected(f"身份证{number}") == [(ID, number)]


def _ambiguous_18_digits() -> str:
    """An 18-digit number that is both a valid Gansu ID number and a Luhn-valid UnionPay card."""
    from chatkeeper.demo.pii import id_card_check_char, luhn_ok

    for sequence in range(1000):
        first17 = f"62010219900101{sequence:03d}"
        number = first17 + id_card_check_char(first17)
        if luhn_ok(number):
            return number
    raise AssertionError("no ambiguous number found")


class TestMobile:
    """Mobile numbers in allocated segments, in their usual written forms."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("我的手机号是13800138000，收不到验证码", [(MOBILE, "13800138000")]),
            ("电话138 0013 8000到了打我", [(MOBILE, "138 0013 8000")]),
            ("电话138-0013-8000", [(MOBILE, "138-0013-8000")]),
            ("电话+8613800138000", [(MOBILE, "+8613800138000")]),
            ("电话+86 13800138000", [(MOBILE, "+86 13800138000")]),
            ("电话+86-138-0013-8000", [(MOBILE, "+86-138-0013-8000")]),
            ("电话0086 19912345678", [(MOBILE, "0086 19912345678")]),
            ("电话(+86)16712345678", [(MOBILE, "(+86)16712345678")]),
            (
                "电话（＋８６）１３８００１３８０００",
                [(MOBILE, "（＋８６）１３８００１３８０００")],
            ),
            ("打１３８００１３８０００或者", [(MOBILE, "１３８００１３８０００")]),
            ("张三13800138000北京", [(MOBILE, "13800138000")]),
        ],
    )
    def test_valid(self, text: str, expected: list[tuple[PiiType, str]]) -> None:
        """Every written form is found with its prefix, full-width forms at the right offsets."""
        assert [f for f in detected(text) if f[0] is MOBILE] == expected

    @pytest.mark.parametrize(
        "text",
        [
            "手机号12453774627一直收不到短信",  # segment 12x is not allocated
            "手机号14012345678",  # IoT segment
            "快递单号JD15061160460",  # tracking number
            "卡号6228 4813 8001 3800 0123",  # inside a grouped card number
            "号码138001380001",  # 12 digits
            "客服热线400-800-8888",  # hotline
            "银行那边说是95533打来的",  # service number
        ],
    )
    def test_negative(self, text: str) -> None:
        """Unallocated segments, codes and longer runs are not mobile numbers."""
        assert all(kind is not MOBILE for kind, _ in detected(text))

    def test_order_word_contradicts(self) -> None:
        """GIVEN 11 digits right after 订单号 THEN the mobile finding stays below threshold."""
        assert low_confidence("订单号13800138000") == [(MOBILE, "13800138000")]

    def test_qq_label_beats_mobile_shape(self) -> None:
        """A number labelled QQ that looks like a mobile number is a QQ number."""
        assert detected("QQ号：19874556264，离线可以留言") == [(QQ, "19874556264")]


class TestLandline:
    """Fixed lines need a real area code; 400/800 hotlines are company numbers."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("座机010-62345678", [(LANDLINE, "010-62345678")]),
            ("座机0755-2345678", [(LANDLINE, "0755-2345678")]),
            ("座机(020)32345678", [(LANDLINE, "(020)32345678")]),
            ("座机（０２０）３２３４５６７８", [(LANDLINE, "（０２０）３２３４５６７８")]),
            ("座机0371 8994 8502", [(LANDLINE, "0371 8994 8502")]),
            ("座机029 7570 2912", [(LANDLINE, "029 7570 2912")]),
            ("座机075754657326", [(LANDLINE, "075754657326")]),
            ("座机02260938179", [(LANDLINE, "02260938179")]),
            ("总机+86 10 87654321", [(LANDLINE, "+86 10 87654321")]),
        ],
    )
    def test_valid(self, text: str, expected: list[tuple[PiiType, str]]) -> None:
        """Landlines in every accepted form are detected."""
        assert detected(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "有问题可以拨打客服热线400-504-0343",
            "有问题可以拨打客服热线800-208-4917",
            "座机0261-2345678",  # 0261 is not an area code
            "座机010-12345678",  # local numbers never start with 1
            "卡号6229 0856 3823 5099 64",  # "0856 3823 5099" inside a card
            "快递单号JT0751231913",
            "电话0086 13916254360",  # a mobile with the 0086 prefix
        ],
    )
    def test_negative(self, text: str) -> None:
        """Hotlines, unknown area codes and digits inside other numbers are not landlines."""
        assert all(kind is not LANDLINE for kind, _ in detected(text))


class TestUscc:
    """Unified social credit codes validated by their GB 32100 check character."""

    @pytest.mark.parametrize(
        "code",
        ["91350100M000100Y43", "92652901JW0J2DE2UA", "12371427L5DGMPD7HL", "52410702NADMNWKUQG"],
    )
    def test_valid(self, code: str) -> None:
        """Valid codes are detected, with and without a context word."""
        assert detected(f"税号{code}") == [(USCC, code)]
        assert detected(f"发票抬头某某公司 {code} 谢谢") == [(USCC, code)]

    @pytest.mark.parametrize(
        "text",
        [
            "税号91350100M000100Y44",  # check character wrong
            "税号91350100M000100I43",  # I is not in the alphabet
            "优惠券码91350100M000100Y43X",  # glued to more letters
            "订单号913501001000100143",  # digits only, no context
        ],
    )
    def test_negative(self, text: str) -> None:
        """Wrong checks, wrong alphabets and bare digit runs are not codes."""
        assert all(kind is not USCC for kind, _ in detected(text))

    def test_bad_check_with_context_is_low_confidence(self) -> None:
        """GIVEN a mistyped code after 税号 THEN it is a LOW_CONFIDENCE finding."""
        text = "税号91350100M000100Y44"
        (finding,) = CnUsccRecognizer().find(text, text, None)
        assert finding.reason is Reason.LOW_CONFIDENCE


class TestQqNumber:
    """QQ numbers only after a QQ label."""

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("QQ号：972667，离线可以留言", "972667"),
            ("qq 1234567890", "1234567890"),
            ("扣扣是88888", "88888"),
        ],
    )
    def test_valid(self, text: str, value: str) -> None:
        """Labelled QQ numbers of 5 to 11 digits are detected."""
        findings = QqNumberRecognizer().find(text, fold(text), None)
        assert [f.value(text) for f in findings] == [value]

    @pytest.mark.parametrize(
        "text",
        [
            "客服工号75059为您服务",
            "QQ号：0123456",
            "我的车是云CQQ226",
            "QQ1234",
            "发到12345678@qq.com",
        ],
    )
    def test_negative(self, text: str) -> None:
        """Unlabelled numbers, leading zeros and too-short numbers are not QQ numbers."""
        assert all(kind is not QQ for kind, _ in detected(text))


@pytest.mark.parametrize(
    "recognizer",
    [CnIdCardRecognizer(), BankCardRecognizer(), CnMobileRecognizer(), CnLandlineRecognizer()],
)
def test_digit_recognizers_share_one_gate(recognizer: object) -> None:
    """The four long-number recognizers declare the same gate, evaluated once per text."""
    assert getattr(recognizer, "gate", None) is CnMobileRecognizer.gate
