"""Microsoft Presidio on ChatKeeper's labelled Chinese sample: the baseline to beat.

    .venv/bin/pip install -r bench/requirements-presidio.txt   # baseline only, not a dependency
    .venv/bin/python -m bench.pii_presidio [--sample PATH] [--limit N] [--out PATH]

Install: ``presidio-analyzer`` installs whole from PyPI with its dependencies (spaCy, regex,
phonenumbers, tldextract); no spaCy model is needed or downloaded, because both engines below run
on :class:`NoOpNlpEngine`. tldextract (used by Presidio's e-mail check) is pointed at its bundled
public-suffix snapshot, since it would otherwise try to fetch the list from the network.

Two Presidio set-ups are measured on the same messages as ChatKeeper's own analyzer:

(a) **Presidio configured fairly for Chinese** -- ``AnalyzerEngine`` with ``NoOpNlpEngine`` and
    ``supported_languages=["zh"]``, one ``PatternRecognizer`` per ChatKeeper type (same names), with
    the regexes a competent user would write, bounded by ASCII look-arounds
    (``(?<![0-9A-Za-z])...(?![0-9A-Za-z])``) because ``\\b`` never fires next to 汉字.

    * Context words: Presidio's default ``LemmaContextAwareEnhancer`` reads context from NLP tokens,
      which ``NoOpNlpEngine`` does not produce (Presidio documents and warns about this). So each
      recognizer implements Presidio's recognizer-level hook ``enhance_using_context`` with the
      default enhancer's rule and constants (+0.35, at least 0.4, case-insensitive substring match)
      over the :data:`CONTEXT_CHARS` characters *before* the match (Chinese has no spaces; the
      default enhancer looks at 5 words before and none after).
    * Scores: distinctive patterns (ID card, mobile, e-mail, IP, plate, address ...) score >= 0.4
      and are reported alone; weak ones (QQ, WeChat, permits, names, bare landlines) score below
      and are reported only with a context word. ``default_score_threshold`` is :data:`THRESHOLD`.
    * Checksums: none, except Luhn for BANK_CARD through ``validate_result``, as Presidio's own
      ``CreditCardRecognizer`` does (a valid number then scores 1.0, an invalid one is dropped).
      ID-card, USCC and permit check characters are not validated.

(b) **Presidio out of the box** -- ``AnalyzerEngine(nlp_engine=NoOpNlpEngine("en"))``: the default
    registry for English (where its recognizers are registered), default threshold 0, no model, so
    no PERSON/LOCATION. Mapped to our types: EMAIL_ADDRESS->EMAIL, IP_ADDRESS->IP_ADDRESS,
    CREDIT_CARD->BANK_CARD and PHONE_NUMBER->CN_MOBILE or CN_LANDLINE (the type of the labelled
    phone span it overlaps, else CN_MOBILE when its digits are 1 + 10 digits after an optional 86,
    else CN_LANDLINE). Other Presidio types (US_BANK_NUMBER, DATE_TIME, URL ...) are ignored
    and only counted. The other ten types have no Presidio recognizer: their recall is 0.

Overlaps: ``AnalyzerEngine`` only drops same-type duplicates; presidio-anonymizer then drops any
result contained in another, or on the same span with a lower or equal score
(``RecognizerResult.has_conflict``). That rule is applied before scoring, outside the timed runs
(for (b) among the mapped types only), so Presidio is scored on what it would mask.

Scoring: a true positive has the same type and exactly the same span as a labelled one; for (b)
recall is also given with overlap matching (any mapped finding of that type touching the span).
Speed: every message of the sample (or the first ``--limit``), one process, best of
:data:`ROUNDS` runs after a short warm-up, for (a), (b) and ChatKeeper's
``default_analyzer().analyze``; the ratio is ChatKeeper's messages/s over Presidio's.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, NoOpNlpEngine

ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLE = ROOT.parent / "shared" / "samples" / "pii-sample.jsonl"
TEST_SAMPLE = ROOT / "tests" / "samples" / "pii-sample-3000.jsonl"
DEFAULT_OUT = ROOT / "bench" / "out" / "pii-presidio.json"
ROUNDS = 3
WARMUP = 200
THRESHOLD = 0.4  # Presidio's minimum score once a context word is found
CONTEXT_CHARS = 10
CONTEXT_BOOST = 0.35  # LemmaContextAwareEnhancer's context_similarity_factor
MIN_SCORE_WITH_CONTEXT = 0.4  # LemmaContextAwareEnhancer's min_score_with_context_similarity

TYPES = (
    "CN_ID_CARD",
    "CN_MOBILE",
    "CN_LANDLINE",
    "BANK_CARD",
    "EMAIL",
    "CN_USCC",
    "CN_PASSPORT",
    "CN_HK_MACAO_PERMIT",
    "CN_TW_PERMIT",
    "CN_LICENSE_PLATE",
    "IP_ADDRESS",
    "QQ_NUMBER",
    "WECHAT_ID",
    "CN_ADDRESS",
    "PERSON_NAME",
)
PHONE_TYPES = ("CN_MOBILE", "CN_LANDLINE")
STOCK_MAP = {"EMAIL_ADDRESS": "EMAIL", "IP_ADDRESS": "IP_ADDRESS", "CREDIT_CARD": "BANK_CARD"}
STOCK_PHONE = "PHONE_NUMBER"
STOCK_TYPES = ("EMAIL", "IP_ADDRESS", "BANK_CARD", *PHONE_TYPES)

Span = tuple[str, int, int]
Table = dict[str, dict[str, float]]
Detect = Callable[[str], list[Any]]

HAN = r"\u4e00-\u9fff"
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)  # the ~100 most common single-character surnames
OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
HEX = r"[0-9A-F]{1,4}"
ADDRESS = (
    rf"[{HAN}]{{2,10}}?(?:省|自治区|特别行政区|市|县|区)[{HAN}0-9]{{0,30}}?[0-9]{{1,5}}号"
    rf"(?:[{HAN}]{{0,10}}?[0-9]{{1,4}}(?:栋|幢|单元|室|楼))*"
)


def ascii_bounded(core: str) -> str:
    """``core`` not glued to ASCII letters or digits (``\\b`` would also refuse 汉字 neighbours)."""
    return rf"(?<![0-9A-Za-z])(?:{core})(?![0-9A-Za-z])"


class Spec(NamedTuple):
    """One recognizer of set-up (a): the type, its (name, regex, score) patterns, context words."""

    type: str
    patterns: tuple[tuple[str, str, float], ...]
    context: tuple[str, ...]
    luhn: bool = False


SPECS: tuple[Spec, ...] = (
    Spec(
        "CN_ID_CARD", (("id", ascii_bounded(r"[1-9][0-9]{16}[0-9X]"), 0.5),), ("身份证", "证件号")
    ),
    Spec(
        "CN_MOBILE",
        (
            ("mobile", ascii_bounded(r"(?:\+?86[- ]?)?1[3-9][0-9]{9}"), 0.5),
            (
                "mobile 3-4-4",
                ascii_bounded(r"(?:\+?86[- ]?)?1[3-9][0-9]([- ])[0-9]{4}\1[0-9]{4}"),
                0.5,
            ),
        ),
        ("手机", "电话", "联系方式"),
    ),
    Spec(
        "CN_LANDLINE",
        (
            (
                "landline",
                ascii_bounded(r"(?:\(0[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2}[- ])[2-9][0-9]{6,7}"),
                0.5,
            ),
            ("landline compact", ascii_bounded(r"0[1-9][0-9]{1,2}[2-9][0-9]{6,7}"), 0.1),
        ),
        ("座机", "电话", "固话"),
    ),
    Spec(
        "BANK_CARD",
        (
            ("card", ascii_bounded(r"[0-9]{16,19}"), 0.3),
            ("card 4-4-4-4", ascii_bounded(r"[0-9]{4}(?: [0-9]{4}){3}(?: [0-9]{1,3})?"), 0.3),
        ),
        ("卡号", "银行卡", "储蓄卡", "信用卡", "借记卡"),
        luhn=True,
    ),
    Spec(
        "EMAIL",
        (("email", ascii_bounded(r"[A-Z0-9._%+-]+@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,}"), 0.6),),
        ("邮箱", "邮件", "email", "mail"),
    ),
    Spec(
        "CN_USCC",
        (("uscc", ascii_bounded(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}"), 0.4),),
        ("税号", "信用代码", "纳税人识别号"),
    ),
    Spec(
        "CN_PASSPORT",
        (("passport", ascii_bounded(r"E[A-Z]?[0-9]{7,8}|[GDPS][0-9]{7,8}"), 0.3),),
        ("护照", "passport"),
    ),
    Spec(
        "CN_HK_MACAO_PERMIT",
        (("permit", ascii_bounded(r"[CHM][0-9]{8}(?:[0-9]{2})?"), 0.3),),
        ("港澳", "回乡证", "通行证"),
    ),
    Spec("CN_TW_PERMIT", (("permit", ascii_bounded(r"L?[0-9]{8}"), 0.05),), ("台胞证", "台湾")),
    Spec(
        "CN_LICENSE_PLATE",
        (("plate", ascii_bounded(rf"[{PROVINCES}][A-Z][·• ]?[A-HJ-NP-Z0-9]{{5,6}}"), 0.5),),
        ("车牌",),
    ),
    Spec(
        "IP_ADDRESS",
        (
            ("ipv4", ascii_bounded(rf"(?:{OCTET}\.){{3}}{OCTET}"), 0.6),
            ("ipv6", ascii_bounded(rf"(?:{HEX}:){{7}}{HEX}"), 0.6),
            ("ipv6 ::", ascii_bounded(rf"(?:{HEX}:){{1,6}}(?::{HEX}){{1,6}}"), 0.5),
        ),
        ("IP", "地址"),
    ),
    Spec("QQ_NUMBER", (("qq", ascii_bounded(r"[1-9][0-9]{4,10}"), 0.05),), ("QQ", "扣扣")),
    Spec(
        "WECHAT_ID",
        (("wechat", ascii_bounded(r"[A-Z][-_A-Z0-9]{5,19}"), 0.05),),
        ("微信", "vx", "wx", "weixin", "wechat"),
    ),
    Spec("CN_ADDRESS", (("address", ADDRESS, 0.4),), ("地址", "寄到", "送到", "住在")),
    Spec(
        "PERSON_NAME",
        (("name", rf"[{SURNAMES}][{HAN}]{{1,2}}", 0.05),),
        ("我叫", "我是", "姓名", "名字", "收件人", "收货人", "联系人"),
    ),
)


class ZhContextRecognizer(PatternRecognizer):
    """A ``PatternRecognizer`` that finds its context words in the characters before a match."""

    def enhance_using_context(
        self,
        text: str,
        raw_recognizer_results: list[RecognizerResult],
        other_raw_recognizer_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        """Raise a result's score as Presidio's default enhancer would, without NLP tokens."""
        words = [word.lower() for word in self.context or ()]
        for result in raw_recognizer_results:
            before = text[max(0, result.start - CONTEXT_CHARS) : result.start].lower()
            if not any(word in before for word in words):
                continue
            boosted = max(result.score + CONTEXT_BOOST, MIN_SCORE_WITH_CONTEXT)
            result.score = min(boosted, 1.0)
            result.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
        return raw_recognizer_results


class LuhnRecognizer(ZhContextRecognizer):
    """Bank cards: valid Luhn check digit, as Presidio's ``CreditCardRecognizer`` checks."""

    def validate_result(self, pattern_text: str) -> bool:
        """True when the digits pass the Luhn check (the score becomes 1.0), else dropped."""
        total = 0
        digits = pattern_text.replace(" ", "")
        for position, char in enumerate(reversed(digits)):
            digit = int(char)
            if position % 2:
                digit = digit * 2 - 9 if digit > 4 else digit * 2
            total += digit
        return total % 10 == 0


def fair_engine() -> AnalyzerEngine:
    """Set-up (a): NoOpNlpEngine, language "zh", one pattern recognizer per ChatKeeper type."""
    recognizers = [
        (LuhnRecognizer if spec.luhn else ZhContextRecognizer)(
            supported_entity=spec.type,
            name=f"Zh_{spec.type}",
            supported_language="zh",
            patterns=[Pattern(name, regex, score) for name, regex, score in spec.patterns],
            context=list(spec.context),
        )
        for spec in SPECS
    ]
    nlp = NoOpNlpEngine(models=[{"lang_code": "zh", "model_name": "none"}])
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=["zh"])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp,
        supported_languages=["zh"],
        default_score_threshold=THRESHOLD,
    )


def stock_engine() -> AnalyzerEngine:
    """Set-up (b): the default English registry on NoOpNlpEngine (no model, threshold 0)."""
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])


def offline_tldextract() -> None:
    """Make tldextract (Presidio's e-mail check) use its bundled suffix list, never the network."""
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def resolve_conflicts(results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    """What presidio-anonymizer keeps: drop results contained in another or outscored on a span."""
    kept: list[RecognizerResult] = []
    for index, result in enumerate(results):
        others = [*kept, *results[index + 1 :]]
        if not any(result.has_conflict(other) for other in others):
            kept.append(result)
    return kept


def phone_type(text: str, start: int, end: int, truth: set[Span]) -> str:
    """Our type for a Presidio PHONE_NUMBER: the labelled phone it overlaps, else by its digits."""
    for kind, first, last in truth:
        if kind in PHONE_TYPES and first < end and start < last:
            return kind
    digits = "".join(str(int(char)) for char in text[start:end] if char.isdecimal())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return "CN_MOBILE" if len(digits) == 11 and digits.startswith("1") else "CN_LANDLINE"


def fair_spans(results: list[RecognizerResult]) -> set[Span]:
    """Set-up (a)'s findings as (type, start, end) after conflict resolution."""
    return {(r.entity_type, r.start, r.end) for r in resolve_conflicts(results)}


def stock_spans(text: str, results: list[RecognizerResult], truth: set[Span]) -> set[Span]:
    """Set-up (b)'s mapped findings as (our type, start, end) after conflict resolution."""
    mapped = [r for r in results if r.entity_type in STOCK_MAP or r.entity_type == STOCK_PHONE]
    spans = set()
    for r in resolve_conflicts(mapped):
        kind = STOCK_MAP.get(r.entity_type) or phone_type(text, r.start, r.end, truth)
        spans.add((kind, r.start, r.end))
    return spans


def metrics(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Counts with precision, recall and F1 (precision 1.0 where nothing was found)."""
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def tally(found: Iterable[set[Span]], truth: Iterable[set[Span]]) -> Table:
    """Exact-span precision, recall and F1 per type, plus an ``ALL`` row."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for got, want in zip(found, truth, strict=True):
        tp.update(span[0] for span in got & want)
        fp.update(span[0] for span in got - want)
        fn.update(span[0] for span in want - got)
    table = {kind: metrics(tp[kind], fp[kind], fn[kind]) for kind in TYPES}
    table["ALL"] = metrics(tp.total(), fp.total(), fn.total())
    return table


def add_aggregate(table: Table, name: str, kinds: Sequence[str]) -> None:
    """Add a row ``name`` that sums the counts of ``kinds``."""
    table[name] = metrics(*(int(sum(table[k][c] for k in kinds)) for c in ("tp", "fp", "fn")))


def overlap_recall(found: Iterable[set[Span]], truth: Iterable[set[Span]]) -> dict[str, float]:
    """Share of labelled spans touched by a finding of the same type, per type and ``ALL``."""
    hit: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for got, want in zip(found, truth, strict=True):
        for kind, start, end in want:
            total[kind] += 1
            if any(k == kind and s < end and start < e for k, s, e in got):
                hit[kind] += 1
    recall = {kind: hit[kind] / total[kind] if total[kind] else 1.0 for kind in TYPES}
    covered = sum(total[k] for k in STOCK_TYPES)
    recall["ALL (covered types)"] = sum(hit[k] for k in STOCK_TYPES) / covered if covered else 1.0
    recall["ALL"] = hit.total() / total.total() if total.total() else 1.0
    return recall


def timed(detect: Detect, texts: Sequence[str]) -> tuple[list[list[Any]], float]:
    """The first run's results and the best of :data:`ROUNDS` wall-clock times over ``texts``."""
    for text in texts[:WARMUP]:
        detect(text)
    first: list[list[Any]] = []
    best = float("inf")
    for round_ in range(ROUNDS):
        began = time.perf_counter()
        results = [detect(text) for text in texts]
        best = min(best, time.perf_counter() - began)
        if round_ == 0:
            first = results
    return first, best


def rate(seconds: float, texts: Sequence[str]) -> dict[str, float]:
    """Messages and megabytes (UTF-8) per second for one pass over ``texts``."""
    megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6
    return {
        "messages": len(texts),
        "megabytes": megabytes,
        "seconds": seconds,
        "messages_per_s": len(texts) / seconds,
        "mb_per_s": megabytes / seconds,
    }


def measure_chatkeeper(texts: Sequence[str]) -> dict[str, Any]:
    """ChatKeeper's ``default_analyzer().analyze`` speed, or the error it raised."""
    try:
        from chatkeeper.privacy.analyzer import default_analyzer

        _, seconds = timed(default_analyzer().analyze, texts)
    except Exception as error:  # the analyzer is being finished elsewhere: report, don't crash
        return {"error": f"{type(error).__name__}: {error}"}
    return {"speed": rate(seconds, texts)}


def load(path: Path, limit: int | None) -> tuple[list[str], list[set[Span]]]:
    """The sample's texts and labelled (type, start, end) sets, the first ``limit`` if given."""
    texts: list[str] = []
    truth: list[set[Span]] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if limit is not None and len(texts) >= limit:
                break
            if line.strip():
                record = json.loads(line)
                texts.append(record["text"])
                truth.append({(s["type"], s["start"], s["end"]) for s in record["spans"]})
    return texts, truth


def measure_fair(texts: Sequence[str], truth: Sequence[set[Span]]) -> dict[str, Any]:
    """Set-up (a): accuracy per type and speed."""
    engine = fair_engine()
    results, seconds = timed(lambda text: engine.analyze(text, language="zh"), texts)
    table = tally((fair_spans(r) for r in results), truth)
    return {"types": table, "speed": rate(seconds, texts), "threshold": THRESHOLD}


def measure_stock(texts: Sequence[str], truth: Sequence[set[Span]]) -> dict[str, Any]:
    """Set-up (b): accuracy per type (exact and overlap recall), speed, ignored Presidio types."""
    engine = stock_engine()
    results, seconds = timed(lambda text: engine.analyze(text, language="en"), texts)
    found = [stock_spans(t, r, w) for t, r, w in zip(texts, results, truth, strict=True)]
    table = tally(found, truth)
    add_aggregate(table, "ALL (covered types)", STOCK_TYPES)
    ignored = Counter(
        r.entity_type
        for rs in results
        for r in rs
        if r.entity_type not in STOCK_MAP and r.entity_type != STOCK_PHONE
    )
    return {
        "types": table,
        "overlap_recall": overlap_recall(found, truth),
        "ignored_presidio_types": dict(ignored.most_common()),
        "recognizers": sorted(r.name for r in engine.registry.recognizers),
        "speed": rate(seconds, texts),
    }


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that matter here."""
    found = {"python": platform.python_version()}
    for name in ("presidio-analyzer", "spacy", "regex", "phonenumbers", "tldextract", "chatkeeper"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def accuracy_markdown(table: Table, overlap: dict[str, float] | None = None) -> list[str]:
    """One accuracy table; precision shows "—" where nothing of that type was reported."""
    head = "| type | TP | FP | FN | precision | recall | F1 |"
    rule = "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    if overlap is not None:
        head, rule = head + " recall (overlap) |", rule + " ---: |"
    lines = [head, rule]
    for kind, m in table.items():
        precision = f"{m['precision']:.4f}" if m["tp"] + m["fp"] else "—"
        row = (
            f"| {kind} | {m['tp']:.0f} | {m['fp']:.0f} | {m['fn']:.0f} | "
            f"{precision} | {m['recall']:.4f} | {m['f1']:.4f} |"
        )
        if overlap is not None:
            row += f" {overlap[kind]:.4f} |"
        lines.append(row)
    return lines


def speed_markdown(results: dict[str, Any]) -> list[str]:
    """The throughput table with ChatKeeper's speed over each Presidio set-up's."""
    ours = results["chatkeeper"].get("speed")
    lines = [
        "| engine | messages/s | MB/s | seconds (best of 3) | ChatKeeper ÷ engine |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    rows = [
        ("ChatKeeper default_analyzer", ours),
        ("Presidio (a) fair zh config", results["fair"]["speed"]),
        ("Presidio (b) out of the box", results["stock"]["speed"]),
    ]
    for name, speed in rows:
        if speed is None:
            lines.append(f"| {name} | — | — | — | {results['chatkeeper']['error']} |")
            continue
        ratio = "—"
        if ours and speed is not ours:
            ratio = f"{ours['messages_per_s'] / speed['messages_per_s']:.1f}×"
        lines.append(
            f"| {name} | {speed['messages_per_s']:,.0f} | {speed['mb_per_s']:.3f} | "
            f"{speed['seconds']:.2f} | {ratio} |"
        )
    return lines


def markdown(results: dict[str, Any]) -> str:
    """Everything as Markdown: set-up, the two accuracy tables and the speed table."""
    speed = results["fair"]["speed"]
    lines = [
        f"Sample: `{results['sample']}`, {speed['messages']:,} messages, "
        f"{speed['megabytes']:.3f} MB UTF-8{results['limit_note']}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()) + ".",
        "",
        f"### (a) Presidio configured for Chinese (score ≥ {THRESHOLD}, exact spans)",
        "",
        *accuracy_markdown(results["fair"]["types"]),
        "",
        "### (b) Presidio out of the box (language en, NoOpNlpEngine, mapped types)",
        "",
        *accuracy_markdown(results["stock"]["types"], results["stock"]["overlap_recall"]),
        "",
        "Ignored Presidio types (b): "
        + (
            ", ".join(f"{k} {v}" for k, v in results["stock"]["ignored_presidio_types"].items())
            or "none"
        ),
        "",
        "### Throughput (one process, same messages)",
        "",
        *speed_markdown(results),
        "",
        f"Whole run: {results['run_seconds']:.0f} s.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run both Presidio set-ups and ChatKeeper, print Markdown and write the JSON results."""
    began = time.perf_counter()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sample", type=Path, default=None, help="labelled JSONL sample")
    parser.add_argument("--limit", type=int, default=None, help="only the first N messages")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args(argv)
    sample: Path = args.sample or (SHARED_SAMPLE if SHARED_SAMPLE.exists() else TEST_SAMPLE)
    texts, truth = load(sample, args.limit)
    offline_tldextract()
    results: dict[str, Any] = {
        "sample": str(sample),
        "limit": args.limit,
        "limit_note": f" (first {args.limit:,} only: --limit)" if args.limit else "",
        "versions": versions(),
        "machine": platform.machine(),
        "rounds": ROUNDS,
    }
    for key, step in (
        ("fair", measure_fair),
        ("stock", measure_stock),
        ("chatkeeper", lambda t, _: measure_chatkeeper(t)),
    ):
        print(f"measuring {key} ...", file=sys.stderr, flush=True)
        results[key] = step(texts, truth)
    ours = results["chatkeeper"].get("speed")
    results["ratio_chatkeeper_over_presidio"] = {
        key: ours["messages_per_s"] / results[key]["speed"]["messages_per_s"] if ours else None
        for key in ("fair", "stock")
    }
    results["run_seconds"] = time.perf_counter() - began
    print(markdown(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
