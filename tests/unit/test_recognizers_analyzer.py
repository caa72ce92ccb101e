"""The analyzer around the recognizers: folding, overlap resolution, canonical and written forms,
properties on arbitrary text, and accuracy on the 3,000-message labelled sample."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatkeeper.privacy.analyzer import Analyzer, default_analyzer, resolve_overlaps
from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.normalise import canonical_value, fold, written_forms
from chatkeeper.privacy.recognizers import CnMobileRecognizer, default_recognizers
from chatkeeper.privacy.recognizers.context import REPORT_THRESHOLD

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "pii-sample-3000.jsonl"


class TestFold:
    """Full-width characters fold one-for-one, so offsets stay valid."""

    @pytest.mark.parametrize(
        ("text", "folded"),
        [
            ("电话：１３８００１３８０００", "电话:13800138000"),
            ("ＡＢＣ＠ｑｑ．ｃｏｍ", "ABC@qq.com"),
            ("（＋８６）\u3000１", "(+86) 1"),
            ("没有全角", "没有全角"),
        ],
    )
    def test_fold(self, text: str, folded: str) -> None:
        """Folding maps each character to one character."""
        assert fold(text) == folded
        assert len(fold(text)) == len(text)

    def test_offsets_point_into_the_original_text(self) -> None:
        """GIVEN full-width digits WHEN analyzed THEN the span covers them in the original."""
        text = "手机号是１３８００１３８０００，谢谢"
        (finding,) = default_analyzer().analyze(text)
        assert finding.value(text) == "１３８００１３８０００"


class TestOverlaps:
    """Overlapping findings: the higher score wins, then the longer span."""

    def test_mobile_inside_id_is_not_a_separate_finding(self) -> None:
        """An ID number holding a mobile-shaped run (19850101001) is one ID finding."""
        text = "身份证号320106198501010018，谢谢"
        (finding,) = default_analyzer().analyze(text)
        assert (finding.type, finding.value(text)) == (PiiType.CN_ID_CARD, "320106198501010018")

    def test_resolution_prefers_score_then_length(self) -> None:
        """Resolution keeps the best finding of each overlapping group, sorted by start."""
        low_long = Finding(PiiType.BANK_CARD, 0, 19, 0.3, Reason.LOW_CONFIDENCE)
        high_short = Finding(PiiType.CN_MOBILE, 4, 15, 0.9, Reason.CONTEXT)
        same_score_longer = Finding(PiiType.CN_ID_CARD, 2, 20, 0.9, Reason.CHECKSUM)
        apart = Finding(PiiType.EMAIL, 25, 30, 0.5, Reason.PATTERN)
        kept = resolve_overlaps([low_long, high_short, same_score_longer, apart], 40)
        assert kept == [same_score_longer, apart]

    def test_min_score_drops_before_resolving(self) -> None:
        """A finding below min_score neither appears nor hides a weaker neighbour."""
        weak = Finding(PiiType.CN_MOBILE, 0, 11, 0.6, Reason.PATTERN)
        dropped = Finding(PiiType.QQ_NUMBER, 0, 11, 0.3, Reason.CONTEXT)
        assert resolve_overlaps([weak, dropped], 20, min_score=0.5) == [weak]

    def test_invalid_spans_are_dropped(self) -> None:
        """Findings with spans outside the text (a faulty recognizer) are never returned."""
        bad = [
            Finding(PiiType.EMAIL, 5, 5, 0.9, Reason.PATTERN),
            Finding(PiiType.EMAIL, 3, 99, 0.9, Reason.PATTERN),
        ]
        assert resolve_overlaps(bad, 10) == []

    def test_custom_recognizer_list_and_min_score(self) -> None:
        """An analyzer built with one recognizer and a threshold uses only those."""
        analyzer = Analyzer([CnMobileRecognizer()], min_score=REPORT_THRESHOLD)
        text = "订单号13800138000，电话13900139000，身份证320106198501010018"
        assert [f.value(text) for f in analyzer.analyze(text)] == ["13900139000"]

    def test_default_analyzer_is_cached_with_every_recognizer(self) -> None:
        """default_analyzer() is built once and covers every PiiType."""
        analyzer = default_analyzer()
        assert analyzer is default_analyzer()
        covered = {kind for recognizer in analyzer.recognizers for kind in recognizer.types}
        assert covered == set(PiiType)
        assert len(analyzer.recognizers) == len(default_recognizers())

    def test_empty_text(self) -> None:
        """Nothing in, nothing out."""
        assert default_analyzer().analyze("") == []
        assert default_analyzer().analyze("", KnownValues(names=("张三",))) == []


class TestCanonicalValue:
    """One canonical form per value, whatever way it was written."""

    @pytest.mark.parametrize(
        ("kind", "written", "canonical"),
        [
            (PiiType.CN_MOBILE, "+86 138-0013-8000", "13800138000"),
            (PiiType.CN_MOBILE, "(+86)13800138000", "13800138000"),
            (PiiType.CN_MOBILE, "0086 138 0013 8000", "13800138000"),
            (PiiType.CN_MOBILE, "8613800138000", "13800138000"),
            (PiiType.CN_MOBILE, "１３８００１３８０００", "13800138000"),
            (PiiType.CN_ID_CARD, "11010519491231002x", "11010519491231002X"),
            (PiiType.CN_ID_CARD, "110105 19491231 002x", "11010519491231002X"),
            (PiiType.BANK_CARD, "6217 0012 3456 7890 122", "6217001234567890122"),
            (PiiType.EMAIL, " Wang@Example.COM ", "wang@example.com"),
            (PiiType.CN_LANDLINE, "(010)62345678", "01062345678"),
            (PiiType.CN_LANDLINE, "0371 8994 8502", "037189948502"),
            (PiiType.CN_LANDLINE, "+86 10 62345678", "01062345678"),
            (PiiType.CN_LICENSE_PLATE, "粤b·d12345", "粤BD12345"),
            (PiiType.CN_LICENSE_PLATE, "苏S 27279", "苏S27279"),
            (PiiType.IP_ADDRESS, "2001:0DB8:0000::0001", "2001:db8::1"),
            (PiiType.CN_USCC, "９１３５０１００ｍ０００１００ｙ４３", "91350100M000100Y43"),
            (PiiType.QQ_NUMBER, "１２３４５", "12345"),
            (PiiType.PERSON_NAME, " 欧阳 娜娜 ", "欧阳娜娜"),
            (PiiType.WECHAT_ID, "Zhang-San88", "Zhang-San88"),
        ],
    )
    def test_canonical(self, kind: PiiType, written: str, canonical: str) -> None:
        """Prefixes, separators, case and full width do not change the canonical form."""
        assert canonical_value(kind, written) == canonical

    @pytest.mark.parametrize(
        ("kind", "value"),
        [
            (PiiType.CN_MOBILE, "13800138000"),
            (PiiType.BANK_CARD, "6217001234567890122"),
            (PiiType.CN_ID_CARD, "11010519491231002X"),
            (PiiType.CN_LANDLINE, "010-62345678"),
            (PiiType.CN_LICENSE_PLATE, "京A12345"),
        ],
    )
    def test_written_forms_round_trip(self, kind: PiiType, value: str) -> None:
        """Every written form has the same canonical value, canonical first, no duplicates."""
        forms = written_forms(kind, value)
        assert forms[0] == canonical_value(kind, value)
        assert len(forms) == len(set(forms)) > 1
        assert {canonical_value(kind, form) for form in forms} == {forms[0]}

    def test_written_forms_of_a_mobile(self) -> None:
        """Mobiles: plain, 3-4-4 with spaces or dashes, +86 prefixed."""
        forms = written_forms(PiiType.CN_MOBILE, "+86 138-0013-8000")
        for form in (
            "13800138000",
            "138 0013 8000",
            "138-0013-8000",
            "+8613800138000",
            "+86 13800138000",
        ):
            assert form in forms

    def test_written_forms_are_detected(self) -> None:
        """Each written form of a mobile, card and ID is found by the analyzer as that type."""
        for kind, value, cue in (
            (PiiType.CN_MOBILE, "13800138000", "电话"),
            (PiiType.BANK_CARD, "6217001234567890122", "卡号"),
            (PiiType.CN_ID_CARD, "11010519491231002X", "身份证"),
        ):
            for form in written_forms(kind, value):
                text = f"{cue}{form}，谢谢"
                assert [(f.type, f.value(text)) for f in default_analyzer().analyze(text)] == [
                    (kind, form)
                ]


# Text drawn from the characters recognizers care about, so that shapes actually occur.
_ALPHABET = st.sampled_from(
    list("0123456789０１２３４５６７８９Xx+-() .:@，：。号卡电话手机身份证地址")
    + list("路街村镇市区县省张王欧阳ABEGHLMCabvxwqQ京粤沪vx微信QQ收件人我叫\u3000\n")
)


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=80) | st.text(max_size=60))
def test_analyze_never_raises_and_spans_are_valid(text: str) -> None:
    """On any text: no exception, spans inside the text, sorted, not overlapping."""
    known = KnownValues(names=("张王",), phones=("13800138000",), addresses=("地址路",))
    for findings in (default_analyzer().analyze(text), default_analyzer().analyze(text, known)):
        previous_end = 0
        for finding in findings:
            assert 0 <= finding.start < finding.end <= len(text)
            assert finding.start >= previous_end
            assert 0.0 <= finding.score <= 1.0
            previous_end = finding.end


Counts = tuple[Counter[str], Counter[str], Counter[str]]


@pytest.fixture(scope="module")
def sample_counts() -> Counts:
    """True positives, false positives and false negatives per type on the 3,000-line sample."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    analyzer = default_analyzer()
    with SAMPLE.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            truth = {(s["type"], s["start"], s["end"]) for s in record["spans"]}
            found = {
                (f.type.value, f.start, f.end)
                for f in analyzer.analyze(record["text"])
                if f.score >= REPORT_THRESHOLD
            }
            tp.update(kind for kind, _, _ in found & truth)
            fp.update(kind for kind, _, _ in found - truth)
            fn.update(kind for kind, _, _ in truth - found)
    return tp, fp, fn


@pytest.mark.parametrize(
    ("kind", "min_precision", "min_recall"),
    [
        ("CN_ID_CARD", 0.98, 0.99),
        ("BANK_CARD", 0.98, 0.99),
        ("CN_USCC", 0.98, 0.99),
        *(
            (kind.value, 0.95, 0.95)
            for kind in PiiType
            if kind.value not in {"CN_ID_CARD", "BANK_CARD", "CN_USCC"}
        ),
    ],
)
def test_accuracy_on_the_labelled_sample(
    sample_counts: Counts, kind: str, min_precision: float, min_recall: float
) -> None:
    """GIVEN the 3,000 labelled messages THEN checksum types reach P >= 0.98, R >= 0.99."""
    tp, fp, fn = sample_counts
    assert tp[kind] + fn[kind] > 0, f"the sample has no {kind}"
    precision = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else 1.0
    recall = tp[kind] / (tp[kind] + fn[kind])
    assert precision >= min_precision, f"{kind} precision {precision:.4f}"
    assert recall >= min_recall, f"{kind} recall {recall:.4f}"
