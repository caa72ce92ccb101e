"""Postal addresses in mainland China: administrative divisions, then a street and house number.

An address is anchored on what makes it specific to a household: a street (路, 街, 巷, 大道, 胡同,
弄, optionally a section such as 四段) followed by a house number (``123号``) and optionally a
building, unit and room (``绿地中心9栋2单元1602室``, ``圣爱大厦1201室``); an estate with a
building (``幸福小区5栋302``); or a village after a town (``固城镇东街村3组``). From the anchor the
recognizer looks left over the run of 汉字 for where the address starts:

1. words that introduce an address (地址, 寄到, 住在, 在, ...) end the run: the address starts after
   the last of them;
2. the leftmost administrative-division name from the shipped gazetteer (``data/divisions.tsv``:
   provinces, prefectures, counties, with short forms such as 广州 for 广州市) marks the start;
   whatever precedes it is kept only if it itself ends like a division (区, 县, 市, ...), i.e. a
   division missing from the table;
3. without any gazetteer name, a run that starts with something shaped like a division
   (``平桥区``) is still an address, with a lower score; a bare street and number counts only right
   after an address word.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context, tables

_CJK = "\u4e00-\u9fff"
# Building, unit and room after a house number or an estate: "绿地中心9栋2单元1602室",
# "B座12层1201", "5号楼301室", "圣爱大厦1201室".
_BUILDING = r"[0-9A-Za-z]{1,4}(?:栋|幢|座|号楼)"
_ROOM = r"(?:[0-9]{1,3}(?:层|楼))?[0-9]{1,5}"
_TAIL = (
    rf"(?:[{_CJK}A-Za-z]{{0,10}}?"
    rf"(?:{_BUILDING}(?:[0-9]{{1,3}}单元)?(?:{_ROOM}(?:室|房|号)?)?|{_ROOM}(?:室|房)))?"
)
_STREET = r"(?:路|街|巷|道|弄|胡同)(?:[一二三四五六七八九十]{1,3}段)?[0-9]{1,5}(?:号|弄)"
_ESTATE = rf"(?:小区|公寓|苑|大厦|广场|新村|社区|大院|区|园|期|城)(?={_BUILDING})"
_VILLAGE = rf"(?:镇|乡)[{_CJK}]{{1,6}}?村(?:[0-9]{{1,4}}组)?(?:[0-9]{{1,5}}号)?"
_ANCHOR = re.compile(rf"(?:{_STREET}|{_ESTATE}){_TAIL}|{_VILLAGE}")
# Words after which an address begins; the run to the anchor is cut after the last one.
_INTRO = re.compile(r"地址|住址|住在|寄到|送到|发到|寄往|送往|搬到|位于|在|是|到|住")
_ADDRESS_WORD = re.compile(r"地址|住址|住|寄到|送到|发到|寄往|送往|搬到|位于|收货|上门|送货")
_DIVISION_SUFFIX = "省市区县旗州盟"
_DIVISION_SHAPE = re.compile(rf"[{_CJK}]{{1,12}}?[省市区县旗州盟镇乡]")
_MAX_RUN = 48


class CnAddressRecognizer:
    """Finds street addresses and village addresses, starting at their first division name."""

    types: tuple[PiiType, ...] = (PiiType.CN_ADDRESS,)
    gate = re.compile(
        rf"[路街巷道弄同段][0-9]{{1,5}}[号弄]|[镇乡][{_CJK}]{{1,6}}村|[区园寓苑厦场村院期城]{_BUILDING}"
    )

    def __init__(self) -> None:
        """Load the gazetteer once per recognizer."""
        self._gazetteer = tables.gazetteer()

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Every address anchored on a street and number or on a village."""
        findings = []
        for match in _ANCHOR.finditer(folded):
            finding = self._address(folded, match.start(), match.end())
            if finding is not None:
                findings.append(finding)
        return findings

    def _address(self, folded: str, anchor: int, end: int) -> Finding | None:
        """The address ending at ``end`` whose street suffix is at ``anchor``, if there is one."""
        run = anchor
        floor = max(0, anchor - _MAX_RUN)
        while run > floor and "\u4e00" <= folded[run - 1] <= "\u9fff":
            run -= 1
        start = run
        for intro in _INTRO.finditer(folded, run, anchor):
            start = intro.end()
        if start >= anchor:
            return None
        cued = start > run or context.cue_before(_ADDRESS_WORD, folded, start, window=8)
        division = self._first_division(folded, start, anchor)
        if division is not None:
            # Text before the first known name stays only if it ends like a division itself.
            if division > start and folded[division - 1] not in _DIVISION_SUFFIX:
                start = division
            score, reason = context.PATTERN_CONTEXT, Reason.GAZETTEER
        elif _DIVISION_SHAPE.match(folded, start, anchor) is not None:
            score = context.WEAK + (0.05 if cued else 0.0)
            reason = Reason.CONTEXT if cued else Reason.PATTERN
        elif cued:
            score, reason = context.WEAK - 0.1, Reason.CONTEXT
        else:
            return None
        return Finding(PiiType.CN_ADDRESS, start, end, score, reason)

    def _first_division(self, folded: str, start: int, stop: int) -> int | None:
        """Position of the leftmost gazetteer name inside ``folded[start:stop]``."""
        gazetteer = self._gazetteer
        for position in range(start, stop - 1):
            if gazetteer.longest_at(folded, position, stop):
                return position
        return None
