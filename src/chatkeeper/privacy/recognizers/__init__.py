"""Recognizers of Chinese personal data, one module per kind (presidio's layout).

Each recognizer matches a shape with ASCII-only regexes on the full-width-folded text, validates
it (check digits, shipped tables) and weighs the words around it; the shared score scale and cues
live in :mod:`.context`, check-digit algorithms in :mod:`.checksums`, table loading in
:mod:`.tables`. Overlaps between recognizers are the analyzer's job
(:mod:`chatkeeper.privacy.analyzer`), masking is the caller's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatkeeper.privacy.recognizers.bank_card import BankCardRecognizer
from chatkeeper.privacy.recognizers.cn_address import CnAddressRecognizer
from chatkeeper.privacy.recognizers.cn_hk_macao_permit import CnHkMacaoPermitRecognizer
from chatkeeper.privacy.recognizers.cn_id_card import CnIdCardRecognizer
from chatkeeper.privacy.recognizers.cn_landline import CnLandlineRecognizer
from chatkeeper.privacy.recognizers.cn_license_plate import CnLicensePlateRecognizer
from chatkeeper.privacy.recognizers.cn_mobile import CnMobileRecognizer
from chatkeeper.privacy.recognizers.cn_passport import CnPassportRecognizer
from chatkeeper.privacy.recognizers.cn_tw_permit import CnTwPermitRecognizer
from chatkeeper.privacy.recognizers.cn_uscc import CnUsccRecognizer
from chatkeeper.privacy.recognizers.email import EmailRecognizer
from chatkeeper.privacy.recognizers.ip_address import IpAddressRecognizer
from chatkeeper.privacy.recognizers.known_values import KnownValueRecognizer
from chatkeeper.privacy.recognizers.person_name import PersonNameRecognizer
from chatkeeper.privacy.recognizers.qq_number import QqNumberRecognizer
from chatkeeper.privacy.recognizers.wechat_id import WechatIdRecognizer

if TYPE_CHECKING:
    from chatkeeper.privacy.analyzer import Recognizer

__all__ = [
    "BankCardRecognizer",
    "CnAddressRecognizer",
    "CnHkMacaoPermitRecognizer",
    "CnIdCardRecognizer",
    "CnLandlineRecognizer",
    "CnLicensePlateRecognizer",
    "CnMobileRecognizer",
    "CnPassportRecognizer",
    "CnTwPermitRecognizer",
    "CnUsccRecognizer",
    "EmailRecognizer",
    "IpAddressRecognizer",
    "KnownValueRecognizer",
    "PersonNameRecognizer",
    "QqNumberRecognizer",
    "WechatIdRecognizer",
    "default_recognizers",
]


def default_recognizers() -> list[Recognizer]:
    """One instance of every recognizer, digit-based ones first (they share one gate)."""
    return [
        CnIdCardRecognizer(),
        BankCardRecognizer(),
        CnMobileRecognizer(),
        CnLandlineRecognizer(),
        CnUsccRecognizer(),
        EmailRecognizer(),
        IpAddressRecognizer(),
        CnPassportRecognizer(),
        CnHkMacaoPermitRecognizer(),
        CnTwPermitRecognizer(),
        CnLicensePlateRecognizer(),
        QqNumberRecognizer(),
        WechatIdRecognizer(),
        CnAddressRecognizer(),
        PersonNameRecognizer(),
        KnownValueRecognizer(),
    ]
