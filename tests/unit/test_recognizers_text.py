"""Text recognizers: addresses (gazetteer + street and number), personal names, known values."""

from __future__ import annotations

import pytest

from chatkeeper.privacy.analyzer import Analyzer
from chatkeeper.privacy.findings import KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import tables
from chatkeeper.privacy.recognizers.context import REPORT_THRESHOLD

ANALYZER = Analyzer(min_score=REPORT_THRESHOLD)

ADDRESS = PiiType.CN_ADDRESS
NAME = PiiType.PERSON_NAME
MOBILE = PiiType.CN_MOBILE


def detected(text: str, known: KnownValues | None = None) -> list[tuple[PiiType, str]]:
    """(type, value) of every finding at or above the report threshold."""
    return [(f.type, f.value(text)) for f in ANALYZER.analyze(text, known)]


class TestAddress:
    """GIVEN an address in a sentence WHEN analyzed THEN the span runs from the first division."""

    @pytest.mark.parametrize(
        ("text", "address"),
        [
            (
                "帮我改一下地址，寄到湖南省岳阳市湘阴县和平路171号17栋1102室。谢谢",
                "湖南省岳阳市湘阴县和平路171号17栋1102室",
            ),
            (
                "我住在内蒙古自治区锡林郭勒盟正蓝旗学府路569号，附近有没有自提点",
                "内蒙古自治区锡林郭勒盟正蓝旗学府路569号",
            ),
            ("我在北京市朝阳区建国路88号上班", "北京市朝阳区建国路88号"),
            (
                "地址是广州天河区体育西路103号维多利广场B座1201",
                "广州天河区体育西路103号维多利广场B座1201",
            ),
            ("收件人张三北京市朝阳区建国路88号", "北京市朝阳区建国路88号"),
            ("送到河北省保定市定兴县固城镇东街村3组", "河北省保定市定兴县固城镇东街村3组"),
            (
                "上门地址凉山彝族自治州冕宁县青年路286号绿地中心19栋3104室",
                "凉山彝族自治州冕宁县青年路286号绿地中心19栋3104室",
            ),
            ("寄到平桥区府前街412号15栋3001室", "平桥区府前街412号15栋3001室"),
            (
                "寄到某某新区创业大道12号",
                "某某新区创业大道12号",
            ),  # a division missing from the table
            ("寄到省直辖县级行政区划仙桃市人民路3号", "省直辖县级行政区划仙桃市人民路3号"),
            ("地址：上海市浦东新区世纪大道１００号", "上海市浦东新区世纪大道１００号"),
            (
                "寄到上海市徐汇区漕溪北路88号圣爱大厦1201室",
                "上海市徐汇区漕溪北路88号圣爱大厦1201室",
            ),
            ("我住在成都市武侯区人民南路四段12号", "成都市武侯区人民南路四段12号"),
            (
                "地址：体育西路103号维多利广场B座12层1201，谢谢",
                "体育西路103号维多利广场B座12层1201",
            ),
            ("请送到朝阳区望京西园三区5号楼", "朝阳区望京西园三区5号楼"),
            ("我住幸福小区5栋302", "幸福小区5栋302"),
        ],
    )
    def test_found(self, text: str, address: str) -> None:
        """Addresses are found with exact spans, intro words and names left out."""
        assert (ADDRESS, address) in detected(text)

    @pytest.mark.parametrize(
        "text",
        [
            "我知道12号发货",
            "报道1号楼",
            "请问还有其他问题吗？",
            "我想修改一下收货地址",
            "北京市朝阳区",
            "公交3路12号站台",
        ],
    )
    def test_not_found(self, text: str) -> None:
        """No street-and-number anchor, or no division or address word: not an address."""
        assert all(kind is not ADDRESS for kind, _ in detected(text))

    def test_street_only_after_address_word_is_weak(self) -> None:
        """A bare street and number is an address only right after an address word, weakly."""
        (finding,) = [f for f in Analyzer().analyze("我家住在幸福路12号") if f.type is ADDRESS]
        assert finding.reason is Reason.CONTEXT
        assert REPORT_THRESHOLD <= finding.score < 0.7

    def test_gazetteer_has_every_level_and_short_forms(self) -> None:
        """The shipped table knows provinces, prefectures, counties and short names."""
        names = tables.gazetteer().names
        for name in (
            "广东省",
            "广东",
            "广西壮族自治区",
            "广西",
            "广州市",
            "广州",
            "从化区",
            "正蓝旗",
            "湾仔区",
        ):
            assert name in names
        assert "城区" not in names  # generic words never anchor an address
        assert len(names) > 3000


class TestPersonName:
    """Names need a cue (or a listing before a phone) and a surname from the table."""

    @pytest.mark.parametrize(
        ("text", "name"),
        [
            ("收货地址：南京市六合区新华路313号，收件人：舒爱秀，电话：13374939799", "舒爱秀"),
            ("我叫司马凝洋，上周买的洗衣机坏了", "司马凝洋"),
            ("我的身份证：130481200409020353，姓名俞毓", "俞毓"),
            ("师傅会联系卜蓉薇，上门地址四川省甘孜藏族自治州甘孜县幸福巷928号", "卜蓉薇"),
            ("您好罗宏桂，您的退款已原路退回", "罗宏桂"),
            ("麻烦转告一下涂娅强，我明天再联系", "涂娅强"),
            ("卡号6212261819480028598，户名祝婕娜，开户行招商银行", "祝婕娜"),
            ("朱娣，+8617249662887，广东省广州市从化区花园路350号", "朱娣"),
            ("顾可，171 3381 7420，湖北省十堰市竹山县文化街483号", "顾可"),
            ("联系人：欧阳娜娜 电话 021-62345678", "欧阳娜娜"),
            ("我叫王小明啊", "王小明"),
            ("姓名张三性别男", "张三"),
            ("收件人张三北京市朝阳区建国路88号", "张三"),
        ],
    )
    def test_found(self, text: str, name: str) -> None:
        """Names after cues and in listings are found with exact spans."""
        assert (NAME, name) in detected(text)

    @pytest.mark.parametrize(
        "text",
        [
            "陆先生您好，请问还有什么可以帮您",  # surname and title only
            "告诉王老师一声",
            "您好，请问有什么可以帮您？",
            "已为您登记，联系电话18313294123，请保持畅通",
            "联系方式是13800138000",
            "您好高兴为您服务",
            "我叫了外卖",
            "电话，13800138000",
            "您好由于系统原因",
            "联系相关部门",
            "联系门店",
            "您好支付成功",
        ],
    )
    def test_not_found(self, text: str) -> None:
        """Titles, pronouns and common words after a cue are not names."""
        assert all(kind is not NAME for kind, _ in detected(text))


class TestKnownValues:
    """GIVEN values on file for the customer THEN they are found in any written form, first."""

    KNOWN = KnownValues(
        names=("王芳",),
        phones=("+86 13800138000", "010-62345678"),
        addresses=("幸福小区",),
        others={PiiType.CN_ID_CARD: ("11010519491231002x",), PiiType.EMAIL: ("Wang@Example.com",)},
    )

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("客户王芳说的", [(NAME, "王芳")]),
            ("她的电话是138 0013 8000", [(MOBILE, "138 0013 8000")]),
            ("号码+86-138-0013-8000", [(MOBILE, "+86-138-0013-8000")]),
            ("座机(010)62345678", [(PiiType.CN_LANDLINE, "(010)62345678")]),
            ("住在幸福小区", [(ADDRESS, "幸福小区")]),
            ("证件号11010519491231002X", [(PiiType.CN_ID_CARD, "11010519491231002X")]),
            ("邮箱wang@example.com", [(PiiType.EMAIL, "wang@example.com")]),
            ("号码913800138000", []),  # the phone inside a longer number is not the phone
        ],
    )
    def test_found_in_every_form(self, text: str, expected: list[tuple[PiiType, str]]) -> None:
        """Known values are matched through their written forms."""
        assert detected(text, self.KNOWN) == expected

    def test_known_value_wins_with_top_score(self) -> None:
        """A known value outranks whatever else reports the same span."""
        (finding,) = Analyzer().analyze("电话13800138000", self.KNOWN)
        assert finding.reason is Reason.KNOWN_VALUE
        assert finding.score == 1.0
