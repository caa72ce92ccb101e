"""Chinese personal names: a surname from the shipped table and one or two given-name characters.

Names have no shape of their own, so a name is only reported where the text says one follows:

- after a cue: strong ones (我叫, 姓名, 收件人, 联系人, 持卡人, 户名, ...) and weaker ones (联系,
  转告, 您好, ...), optionally followed by a colon or 是;
- at the start of a clause when a phone number follows right after a separator
  (``朱娣，+8617249662887，...``), the way people list a contact.

The 汉字 run after the cue must start with a surname (compound surnames such as 欧阳 and 司马
first). If the run ends right after two to four characters, that is the name; if it goes on, the
name is cut before a word that usually follows a name (先生, 的, 说, ...) or before a place name
from the gazetteer (收件人张三北京市...), or not reported at all.
A surname with a title (王先生, 李老师) is not a full name and is not reported.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context, tables

_CJK = "\u4e00-\u9fff"


def _words(text: str) -> frozenset[str]:
    """The space-separated words of ``text`` (keeps long word lists readable)."""
    return frozenset(text.split())


_STRONG = (
    "我叫|我的名字是|名字是|名字叫|本人姓名|姓名|收件人|收货人|联系人|持卡人|开户名|户名|"
    "签收人|寄件人|经办人|法人代表|法定代表人|客户名|患者"
)
_WEAK = "联系|转告一下|转告|通知一下|通知|您好|你好|尊敬的|亲爱的|交给|告诉"
_CUED = re.compile(
    rf"(?:(?P<strong>{_STRONG})|{_WEAK})[:\s]{{0,3}}(?:是|为)?[:\s]{{0,3}}(?P<run>[{_CJK}]{{1,8}})"
)
_LISTED = re.compile(
    rf"(?:^|(?<=[,;。\s、!?]))(?P<run>[{_CJK}]{{2,4}})[,、\s]+"
    r"(?=\+86|0086|\(\+86\)|1[3-9][0-9]|0[1-9][0-9])"
)
# Characters that start the words usually written right after a name.
_FOLLOWERS = frozenset(
    "的了是在和与跟说吗呢吧啊呀先女老经同您你我他她也都就还会要来去到已今昨电手给把被让帮等签收打联请对"
    "性男身地住年"
)
# A surname followed by a title is a polite form of address, not a full name (王先生, 李老师).
_TITLES = _words("先生 女士 老师 经理 同学 师傅 小姐 阿姨 叔叔 大哥 大姐 总监 主任 医生 律师 警官")
# Characters that do not occur in given names: particles, pronouns, common verbs.
_NOT_GIVEN = frozenset(
    "了的是在有我你他她们这那个么吗呢吧啊哦嗯就都也还要会能以请问为您好谢不没下上来去到说给把被让"
    "从对号码电话机址单件元块钱吃喝拿买卖用看听想点些过着几多少什怎谁哪里啦嘛呀哈额呃噢哎唉已经再又"
    "很太最更非常所因但而且果虽只并即便接送发寄收退换修查找等完做弄叫打联系帮忙该应"
)
# Two-character words that start with a surname character but are not names.
_NOT_NAMES = _words(
    "高兴 方式 方便 方法 方面 时间 时候 安排 安装 安全 明天 明白 明日 于是 万一 全部 平台 周末 "
    "成功 程序 常用 文件 金额 原因 信息 商品 商家 关于 管理 车辆 包裹 单号 司机 应该 官方 马上 "
    "任何 师傅 邮件 费用 付款 支付 余额 客服 顾客 工作 工号 公司 国内 海外 云端 强烈 和您 向您 "
    "谷歌 黄金 石头 王者 董事 白天 夏天 冬天 春天 秋天 温度 严重 杨梅 江湖 汤圆 钱包 龙虾 熊猫 "
    "牛奶 鲁班 毛巾"
)


class PersonNameRecognizer:
    """Finds personal names after a cue word or in a name-then-phone listing."""

    types: tuple[PiiType, ...] = (PiiType.PERSON_NAME,)

    def __init__(self) -> None:
        """Load the surname table and the gazetteer (place names end a name)."""
        self._single, self._compound = tables.surnames()
        self._gazetteer = tables.gazetteer()

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Names introduced by a cue, and names listed before a phone number."""
        findings = []
        for match in _CUED.finditer(folded):
            strong = match.group("strong") is not None
            finding = self._name(match.group("run"), match.start("run"), strong)
            if finding is not None:
                findings.append(finding)
        for match in _LISTED.finditer(folded):
            run = match.group("run")
            length = self._name_length(run)
            if length == len(run):
                start = match.start("run")
                findings.append(
                    Finding(
                        PiiType.PERSON_NAME,
                        start,
                        start + length,
                        context.WEAK + 0.05,
                        Reason.CONTEXT,
                    )
                )
        return findings

    def _name(self, run: str, start: int, strong: bool) -> Finding | None:
        """The name at the head of the 汉字 ``run`` that starts at ``start``, if any."""
        length = self._name_length(run)
        if length == 0:
            return None
        if length == len(run):
            score = context.PATTERN_CONTEXT if strong else context.WEAK + 0.05
        else:
            score = context.WEAK + 0.05 if strong else context.WEAK - 0.1
        return Finding(PiiType.PERSON_NAME, start, start + length, score, Reason.CONTEXT)

    def _name_length(self, run: str) -> int:
        """Length of the name at the head of ``run``: surname plus one or two given characters."""
        surname = 2 if run[:2] in self._compound else 1 if run[:1] in self._single else 0
        if surname == 0 or len(run) <= surname or run[:2] in _NOT_NAMES:
            return 0
        if run[surname : surname + 2] in _TITLES or run[surname] in "总哥姐":
            return 0
        if len(run) <= surname + 2:
            lengths: tuple[int, ...] = (len(run),)
        else:
            # The run goes on: cut where a word that follows names, or a place name, begins.
            lengths = tuple(
                n
                for n in (surname + 2, surname + 1)
                if run[n] in _FOLLOWERS or self._gazetteer.longest_at(run, n, len(run))
            )
        for length in lengths:
            if not any(char in _NOT_GIVEN for char in run[surname:length]):
                return length
        return 0
