"""Masking operators: the conventional Chinese display forms, labels, pseudonyms, offsets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatkeeper.privacy.findings import Finding, PiiType, Reason
from chatkeeper.privacy.operators import (
    Operator,
    apply,
    mask_value,
    pseudonym,
    replace_value,
    replacer,
)


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (PiiType.CN_MOBILE, "13812345678", "138****5678"),
        (PiiType.CN_MOBILE, "+86 138 1234 5678", "138****5678"),
        (PiiType.CN_MOBILE, "138-1234-5678", "138****5678"),
        (PiiType.CN_ID_CARD, "11010119900307663X", "1***************3X"),
        (PiiType.BANK_CARD, "6222021234567890123", "6222 **** **** **** 0123"),
        (PiiType.BANK_CARD, "6222 0212 3456 7890", "6222 **** **** 7890"),
        (PiiType.EMAIL, "zhangsan@qq.com", "z***@qq.com"),
        (PiiType.PERSON_NAME, "王小明", "王**"),
        (PiiType.PERSON_NAME, "李四", "李*"),
        (PiiType.PERSON_NAME, "欧阳娜娜", "欧阳**"),
        (PiiType.CN_ADDRESS, "北京市东城区东华门街道88号", "北京市东城区****"),
        (PiiType.CN_ADDRESS, "浙江省杭州市西湖区文三路99号", "浙江省杭州市西湖区****"),
        (PiiType.CN_LANDLINE, "010-87654321", "010-****4321"),
        (PiiType.IP_ADDRESS, "192.168.10.23", "192.168.*.*"),
        (PiiType.CN_PASSPORT, "E12345678", "E1*****78"),
    ],
)
def test_mask_forms(kind: PiiType, value: str, masked: str) -> None:
    """GIVEN a value WHEN masked THEN it takes the conventional display form."""
    assert mask_value(kind, value) == masked


def test_no_mask_leaks_the_hidden_digits() -> None:
    masked = mask_value(PiiType.CN_ID_CARD, "110101199003076639")
    assert "19900307" not in masked and len(masked) == 18


def test_replace_labels_are_chinese() -> None:
    assert replace_value(PiiType.CN_MOBILE) == "[手机号]"
    assert replace_value(PiiType.BANK_CARD) == "[银行卡号]"


def test_pseudonyms_are_stable_per_value_and_key_and_differ_otherwise() -> None:
    one = pseudonym(PiiType.CN_MOBILE, "13812345678", b"k1")
    assert one == pseudonym(PiiType.CN_MOBILE, "13812345678", b"k1")
    assert one != pseudonym(PiiType.CN_MOBILE, "13812345678", b"k2")
    assert one != pseudonym(PiiType.CN_MOBILE, "13912345678", b"k1")
    assert "13812345678" not in one and one.startswith("[手机号#")


class TestApply:
    def _finding(self, kind: PiiType, start: int, end: int) -> Finding:
        return Finding(kind, start, end, 1.0, Reason.CHECKSUM)

    def test_spans_are_replaced_by_the_policy_and_the_rest_kept(self) -> None:
        text = "我叫王小明，手机13812345678"
        findings = [
            self._finding(PiiType.PERSON_NAME, 2, 5),
            self._finding(PiiType.CN_MOBILE, 8, 19),
        ]
        policy = {PiiType.PERSON_NAME: Operator.REPLACE}
        replace = replacer(policy, canonical=lambda k, v: v)
        assert apply(text, findings, replace) == "我叫[姓名]，手机138****5678"

    def test_redact_and_keep(self) -> None:
        text = "邮箱a@b.cn结束"
        finding = [self._finding(PiiType.EMAIL, 2, 8)]
        redact = replacer({PiiType.EMAIL: Operator.REDACT}, canonical=lambda k, v: v)
        keep = replacer({PiiType.EMAIL: Operator.KEEP}, canonical=lambda k, v: v)
        assert apply(text, finding, redact) == "邮箱结束"
        assert apply(text, finding, keep) == text

    @given(st.text(max_size=40), st.data())
    def test_text_outside_the_spans_is_untouched(self, text: str, data: st.DataObject) -> None:
        cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6, unique=True)))
        spans = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b]
        findings = [self._finding(PiiType.QQ_NUMBER, a, b) for a, b in spans]
        out = apply(text, findings, lambda f, v: "#")
        kept = []
        cursor = 0
        for a, b in spans:
            kept.append(text[cursor:a])
            cursor = b
        kept.append(text[cursor:])
        assert out == "#".join(kept)
