"""Masking operators: what a span of personal data becomes in the text people see.

Presidio's vocabulary, done for Chinese conventions:

* ``mask`` — the conventional display forms (mobile ``138****5678``, ID number keeps its first
  character and last two, bank card ``6222 **** **** 1234``, e-mail ``z***@qq.com``, name
  ``王**``, address keeps everything up to the district);
* ``redact`` — the span disappears;
* ``replace`` — a type label such as ``[手机号]``;
* ``pseudonymise`` — a label with a keyed HMAC of the canonical value, stable per value and
  deployment, so one person is recognisable across conversations without being revealed (never
  an unsalted or randomly salted hash: the first is reversible by enumeration, the second is not
  stable);
* ``encrypt`` — a label that points at the value's vault entry, reversible only through the vault.

:func:`apply` rewrites a text with one operator per type and returns the new text; offsets in
the findings refer to the original text.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum

from chatkeeper.privacy.findings import Finding, PiiType


class Operator(StrEnum):
    """What a finding is turned into."""

    MASK = "mask"
    REDACT = "redact"
    REPLACE = "replace"
    PSEUDONYMISE = "pseudonymise"
    ENCRYPT = "encrypt"
    KEEP = "keep"


LABELS: dict[PiiType, str] = {
    PiiType.CN_ID_CARD: "身份证号",
    PiiType.CN_MOBILE: "手机号",
    PiiType.CN_LANDLINE: "电话",
    PiiType.BANK_CARD: "银行卡号",
    PiiType.EMAIL: "邮箱",
    PiiType.CN_USCC: "统一社会信用代码",
    PiiType.CN_PASSPORT: "护照号",
    PiiType.CN_HK_MACAO_PERMIT: "港澳通行证号",
    PiiType.CN_TW_PERMIT: "台湾通行证号",
    PiiType.CN_LICENSE_PLATE: "车牌号",
    PiiType.IP_ADDRESS: "IP地址",
    PiiType.QQ_NUMBER: "QQ号",
    PiiType.WECHAT_ID: "微信号",
    PiiType.CN_ADDRESS: "地址",
    PiiType.PERSON_NAME: "姓名",
}

_DIGITS = frozenset("0123456789")
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
        "长孙", "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门",
    }
)  # fmt: skip
_DISTRICT_ENDINGS = ("自治县", "自治州", "区", "县", "旗", "市")


def _keep_ends(value: str, first: int, last: int, star: str = "*") -> str:
    if len(value) <= first + last:
        return star * len(value)
    return value[:first] + star * (len(value) - first - last) + (value[-last:] if last else "")


def _digits_only(value: str) -> str:
    return "".join(ch for ch in value if ch in _DIGITS)


def mask_value(kind: PiiType, value: str) -> str:
    """The conventional masked display form of one value."""
    if kind is PiiType.CN_MOBILE:
        digits = _digits_only(value)[-11:]
        return digits[:3] + "****" + digits[-4:] if len(digits) == 11 else "*" * len(value)
    if kind is PiiType.CN_ID_CARD:
        return _keep_ends(value, 1, 2)
    if kind is PiiType.BANK_CARD:
        digits = _digits_only(value)
        groups = max(0, (len(digits) - 8 + 3) // 4)
        return " ".join([digits[:4], *["****"] * groups, digits[-4:]])
    if kind is PiiType.EMAIL and "@" in value:
        local, domain = value.rsplit("@", 1)
        return (local[:1] or "*") + "***@" + domain
    if kind is PiiType.PERSON_NAME:
        surname = 2 if value[:2] in _COMPOUND_SURNAMES else 1
        return value[:surname] + "*" * max(1, len(value) - surname)
    if kind is PiiType.CN_ADDRESS:
        return _mask_address(value)
    if kind is PiiType.CN_LANDLINE:
        return _mask_landline(value)
    if kind is PiiType.IP_ADDRESS:
        if "." in value:
            parts = value.split(".")
            return ".".join(parts[:2] + ["*"] * (len(parts) - 2))
        return value.split(":")[0] + ":****"
    return _keep_ends(value, 2, 2)


def _mask_address(value: str) -> str:
    """Keep the address up to its district (or county, banner, city), hide the rest."""
    cut = 0
    for ending in _DISTRICT_ENDINGS:
        at = value.find(ending)
        while at != -1 and at + len(ending) <= 12:
            cut = max(cut, at + len(ending))
            at = value.find(ending, at + 1)
        if cut and ending in ("区", "县"):
            break
    if cut == 0 or cut >= len(value):
        return value[: min(3, len(value))] + "****"
    return value[:cut] + "****"


def _mask_landline(value: str) -> str:
    digits = _digits_only(value)
    for sep in ("-", " ", "－"):
        if sep in value:
            area, _, number = value.partition(sep)
            return area + sep + "****" + _digits_only(number)[-4:]
    return digits[:3] + "****" + digits[-4:]


def replace_value(kind: PiiType) -> str:
    """The type label, e.g. ``[手机号]``."""
    return f"[{LABELS[kind]}]"


def pseudonym(kind: PiiType, canonical: str, key: bytes) -> str:
    """A stable, keyed label for a value: the same value gives the same label everywhere."""
    digest = hmac.new(key, f"{kind}:{canonical}".encode(), hashlib.sha256).hexdigest()[:10]
    return f"[{LABELS[kind]}#{digest}]"


Replacement = Callable[[Finding, str], str]


def apply(text: str, findings: Sequence[Finding], replace: Replacement) -> str:
    """Rewrite ``text`` with ``replace(finding, value)`` for every (non-overlapping) finding."""
    if not findings:
        return text
    out: list[str] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < cursor:
            continue  # overlaps were resolved upstream; never emit a span twice
        out.append(text[cursor : finding.start])
        out.append(replace(finding, text[finding.start : finding.end]))
        cursor = finding.end
    out.append(text[cursor:])
    return "".join(out)


def replacer(
    policy: Mapping[PiiType, Operator],
    *,
    canonical: Callable[[PiiType, str], str],
    pseudonym_key: bytes = b"",
    vault_ref: Callable[[Finding], str] | None = None,
    default: Operator = Operator.MASK,
) -> Replacement:
    """The replacement function for a policy (operator per type)."""

    def replace(finding: Finding, value: str) -> str:
        operator = policy.get(finding.type, default)
        if operator is Operator.MASK:
            return mask_value(finding.type, value)
        if operator is Operator.REDACT:
            return ""
        if operator is Operator.REPLACE:
            return replace_value(finding.type)
        if operator is Operator.PSEUDONYMISE:
            return pseudonym(finding.type, canonical(finding.type, value), pseudonym_key)
        if operator is Operator.ENCRYPT and vault_ref is not None:
            return vault_ref(finding)
        if operator is Operator.KEEP:
            return value
        return mask_value(finding.type, value)

    return replace
