"""The risk lexicon: one-pass matching, folding, ASCII word edges, aggregation, configuration.

Run this file as a script (``python -m tests.unit.test_classify_lexicon``) for a rough
throughput figure; it is deliberately not a timed test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatkeeper.classify import ClassifyError, Lexicon, RiskLevel, RiskMatch
from chatkeeper.classify._terms import fold
from chatkeeper.errors import ErrorCode

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "pii-sample-3000.jsonl"
DEFAULT = Lexicon.default()
H, M, L, N = RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW, RiskLevel.NONE


def only(*terms: tuple[str, str, str]) -> Lexicon:
    """A lexicon of exactly these (term, category, level) entries."""
    entries = [{"term": t, "category": c, "level": lv} for t, c, lv in terms]
    return Lexicon.from_mapping({"replace_default": True, "term": entries})


class TestRiskLevel:
    """GIVEN a level's text form WHEN parsed THEN it is the level; anything else fails."""

    @pytest.mark.parametrize(
        ("text", "level"), [("low", L), ("medium", M), ("high", H), (" HIGH ", H), ("Low", L)]
    )
    def test_parses(self, text: str, level: RiskLevel) -> None:
        assert RiskLevel.parse(text) is level
        assert level.name.lower() == text.strip().lower()

    @pytest.mark.parametrize("text", ["none", "", "critical", "3", "高"])
    def test_rejects(self, text: str) -> None:
        with pytest.raises(ValueError, match="low, medium, high"):
            RiskLevel.parse(text)

    def test_levels_are_ordered(self) -> None:
        assert N < L < M < H and max(L, H, M) is H


class TestMatching:
    """GIVEN a text WHEN matched against the default lexicon THEN exactly its terms are found."""

    @pytest.mark.parametrize(
        ("text", "terms", "level"),
        [
            ("我要打12315", ("12315",), H),
            ("12315", ("12315",), H),
            ("12315是吧，好", ("12315",), H),
            ("我要去法院起诉你们", ("法院", "起诉"), H),
            ("你们这是刷单吧", ("刷单",), H),
            ("加我微信私聊", ("加我微信", "私聊"), L),
            ("这个理财保证收益吗", ("保证收益",), H),
            ("你个SB", ("sb",), M),
            ("SB!", ("sb",), M),
            ("傻b客服", ("傻B",), H),
            ("加我QQ12345678", ("加我qq",), L),  # a mixed term matches before an ASCII run
            ("您好，请问有什么可以帮您？", (), N),
            ("可以开发票吗？", (), N),  # 开发票 is not 代开发票
            ("多媒体播放器怎么连蓝牙", (), N),
            ("烟雾报警器一直响", (), N),
            ("去死皮膏怎么用", (), N),
            ("这是保本价了亲", (), N),
            ("百分百纯棉的", (), N),
            ("垃圾桶什么时候发货", (), N),
            ("相机曝光补偿怎么调", (), N),
        ],
    )
    def test_default_terms(self, text: str, terms: tuple[str, ...], level: RiskLevel) -> None:
        match = DEFAULT.match(text)
        assert match.terms == terms
        assert match.level is level

    @pytest.mark.parametrize(
        ("text", "found"),
        [
            ("8123156", False),  # inside a longer digit run
            ("电话138123156789", False),
            ("a12315", False),
            ("12315b", False),
            ("打12315投诉", True),
            ("(12315)", True),
            ("12315 ", True),
            ("１２３１５", True),  # full-width digits fold to ASCII
            ("tel:12315.", True),
        ],
    )
    def test_ascii_term_needs_word_edges(self, text: str, found: bool) -> None:
        assert ("12315" in DEFAULT.match(text).terms) is found

    @pytest.mark.parametrize("text", ["usb坏了", "HPOLVISB", "sbx", "xsb", "s b"])
    def test_short_ascii_term_not_inside_words(self, text: str) -> None:
        assert "sb" not in DEFAULT.match(text).terms

    @pytest.mark.parametrize("text", ["ＳＢ", "Sb", "sB", "ｓｂ"])
    def test_folding_width_and_case(self, text: str) -> None:
        assert DEFAULT.match(text).terms == ("sb",)

    def test_overlapping_terms_are_all_found_in_one_pass(self) -> None:
        # GIVEN terms that overlap and nest: 投诉 ⊂ 投诉到, 消协 right after
        match = DEFAULT.match("我要投诉到消协")
        # THEN every occurrence counts, every term is listed once, sorted
        assert match.terms == ("投诉", "投诉到", "消协")
        assert match.count == 3
        assert match.categories == ("escalation",)
        assert match.level is H

    def test_overlap_across_categories(self) -> None:
        lexicon = only(("甲乙丙", "x", "low"), ("乙丙丁", "y", "high"), ("丙", "z", "medium"))
        match = lexicon.match("甲乙丙丁")
        assert (match.terms, match.categories, match.level, match.count) == (
            ("丙", "乙丙丁", "甲乙丙"),
            ("x", "y", "z"),
            H,
            3,
        )

    def test_repeats_count_but_list_once(self) -> None:
        match = DEFAULT.match("投诉投诉，还是投诉")
        assert match.terms == ("投诉",) and match.count == 3

    def test_aggregates_level_and_categories(self) -> None:
        match = DEFAULT.match("垃圾客服，加我微信，不然找媒体曝光你们")
        assert match.categories == ("abuse", "escalation", "off_platform")
        assert match.terms == ("加我微信", "垃圾客服", "媒体曝光", "找媒体", "曝光你们")
        assert match.level is H

    def test_terms_are_reported_as_written(self) -> None:
        lexicon = only(("ＶＩＰ退款", "fraud", "low"))
        assert lexicon.match("vip退款").terms == ("ＶＩＰ退款",)

    @pytest.mark.parametrize("text", ["", None])
    def test_empty_text(self, text: str | None) -> None:
        match = DEFAULT.match(text)
        assert match == RiskMatch(N, (), (), 0)
        assert not match

    def test_a_match_is_true(self) -> None:
        assert DEFAULT.match("律师")

    def test_empty_lexicon_matches_nothing(self) -> None:
        empty = Lexicon.from_mapping({"replace_default": True})
        assert len(empty) == 0
        assert empty.match("律师 12315") == RiskMatch(N, (), (), 0)

    def test_constructor_rejects_terms_equal_once_folded(self) -> None:
        from chatkeeper.classify.lexicon import LexiconEntry

        with pytest.raises(ValueError, match="twice"):
            Lexicon([LexiconEntry("SB", "abuse", M), LexiconEntry("ｓｂ", "abuse", L)])


class TestDefaultLexicon:
    """GIVEN the shipped lexicon THEN it is sized, categorised and graded as documented."""

    def test_size_and_categories(self) -> None:
        assert 60 <= len(DEFAULT) <= 120
        assert {e.category for e in DEFAULT.entries} == {
            "abuse",
            "data_leak",
            "escalation",
            "forbidden_promise",
            "fraud",
            "off_platform",
        }
        assert all(e.level >= L for e in DEFAULT.entries)

    @pytest.mark.parametrize(
        "term",
        ["12315", "消费者协会", "消协", "律师", "起诉", "法院", "工商局", "市场监管", "找媒体"],
    )
    def test_threats_to_regulators_courts_media_are_high(self, term: str) -> None:
        entry = next(e for e in DEFAULT.entries if e.term == term)
        assert (entry.category, entry.level) == ("escalation", H)

    def test_default_is_built_once(self) -> None:
        assert Lexicon.default() is Lexicon.default()


class TestConfiguration:
    """GIVEN configuration WHEN it extends, trims or replaces the default THEN matching follows."""

    def test_empty_configuration_is_the_default(self) -> None:
        assert Lexicon.from_mapping({}).entries == DEFAULT.entries

    def test_extends(self) -> None:
        lexicon = Lexicon.from_mapping(
            {"term": [{"term": "黑名单", "category": "data_leak", "level": "medium"}]}
        )
        assert len(lexicon) == len(DEFAULT) + 1
        assert lexicon.match("把我拉黑名单，去法院").terms == ("法院", "黑名单")

    def test_new_category(self) -> None:
        lexicon = Lexicon.from_mapping(
            {"term": [{"term": "自杀", "category": "self_harm", "level": "high"}]}
        )
        assert lexicon.match("不想活了想自杀").categories == ("self_harm",)

    def test_same_term_replaces_the_default_entry(self) -> None:
        # GIVEN the default 投诉 (escalation, low) WHEN configured as medium THEN medium, in place
        lexicon = Lexicon.from_mapping(
            {"term": [{"term": "投诉", "category": "escalation", "level": "medium"}]}
        )
        assert len(lexicon) == len(DEFAULT)
        assert lexicon.match("我要投诉").level is M

    def test_disable(self) -> None:
        lexicon = Lexicon.from_mapping({"disable": ["私聊", "SB"]})  # compared folded
        assert len(lexicon) == len(DEFAULT) - 2
        assert lexicon.match("你个sb，私聊").terms == ()
        assert lexicon.match("加我微信私聊").terms == ("加我微信",)

    def test_replace_default(self) -> None:
        lexicon = Lexicon.from_mapping(
            {
                "replace_default": True,
                "term": [{"term": "退钱", "category": "escalation", "level": "low"}],
            }
        )
        assert [e.term for e in lexicon.entries] == ["退钱"]
        assert lexicon.match("律师说退钱").terms == ("退钱",)

    def test_from_toml(self, tmp_path: Path) -> None:
        path = tmp_path / "lexicon.toml"
        path.write_text(
            'disable = ["投诉"]\n\n[[term]]\nterm = "黑猫"\ncategory = "escalation"\n'
            'level = "high"\n',
            encoding="utf-8",
        )
        lexicon = Lexicon.from_toml(path)
        assert lexicon.match("我要投诉到黑猫").terms == ("投诉到", "黑猫")


def config_error(data: object) -> ClassifyError:
    with pytest.raises(ClassifyError) as caught:
        Lexicon.from_mapping(data, source="settings [classify.lexicon]")  # type: ignore[arg-type]
    error = caught.value
    assert error.code is ErrorCode.CONFIG_INVALID and error.exit_code == 78
    assert error.message.startswith("settings [classify.lexicon]")
    return error


def terms(*entries: dict[str, object]) -> dict[str, object]:
    return {"term": list(entries)}


GOOD: dict[str, object] = {"term": "退钱", "category": "escalation", "level": "low"}


class TestErrors:
    """GIVEN an invalid lexicon WHEN loaded THEN the error names the source, entry and field."""

    @pytest.mark.parametrize(
        ("data", "entry", "field", "reason"),
        [
            (terms(GOOD, {"category": "fraud", "level": "low"}), 2, "term", "is required"),
            (terms({**GOOD, "term": "  "}), 1, "term", "non-empty string"),
            (terms({**GOOD, "term": 12315}), 1, "term", "non-empty string"),
            (terms({**GOOD, "term": " 律师"}), 1, "term", "white space"),
            (terms({**GOOD, "category": None}), 1, "category", "is required"),
            (terms({"term": "x", "level": "low"}), 1, "category", "is required"),
            (terms({**GOOD, "category": "Abuse"}), 1, "category", "lower-case identifier"),
            (terms({**GOOD, "category": "辱骂"}), 1, "category", "lower-case identifier"),
            (terms({"term": "x", "category": "fraud"}), 1, "level", "is required"),
            (terms(GOOD, GOOD, {**GOOD, "term": "x", "level": "hgih"}), 3, "level", "low, medium"),
            (terms({**GOOD, "level": 3}), 1, "level", "non-empty string"),
            (terms({**GOOD, "note": "x"}), 1, "note", "valid fields: term, category, level"),
        ],
    )
    def test_entry_errors(
        self, data: dict[str, object], entry: int, field: str, reason: str
    ) -> None:
        error = config_error(data)
        assert (error.section, error.entry, error.field) == ("term", entry, field)
        assert f"[[term]] entry {entry}, field '{field}'" in error.message
        assert reason in error.message
        assert error.details["entry"] == entry and error.details["field"] == field

    def test_duplicate_terms_once_folded(self) -> None:
        error = config_error(terms({**GOOD, "term": "ＳＢ"}, GOOD, {**GOOD, "term": "sb"}))
        assert (error.section, error.entry) == ("term", 3)
        assert "repeats entry 1" in error.message

    @pytest.mark.parametrize(
        ("data", "field", "reason"),
        [
            ({"terms": []}, "terms", "unknown key 'terms'"),
            ({"version": 2}, "version", "must be 1"),
            ({"replace_default": "yes"}, "replace_default", "true or false"),
            ({"disable": "律师"}, "disable", "list of non-empty strings"),
            ({"disable": ["律师", ""]}, "disable", "list of non-empty strings"),
            (
                {"disable": ["律师", "不存在的词"]},
                "disable",
                "item 2 '不存在的词' is not a default",
            ),
            ({"replace_default": True, "disable": ["律师"]}, "disable", "replace_default is"),
            ({"term": {"term": "x"}}, "term", "list of tables"),
        ],
    )
    def test_top_level_errors(self, data: dict[str, object], field: str, reason: str) -> None:
        error = config_error(data)
        assert error.field == field
        assert reason in error.message

    def test_entry_not_a_table(self) -> None:
        error = config_error({"term": [GOOD, "律师"]})
        assert (error.section, error.entry) == ("term", 2)
        assert "[[term]] entry 2: must be a table" in error.message

    def test_not_a_mapping(self) -> None:
        assert "top level" in config_error(["律师"]).message


class TestFileErrors:
    """GIVEN a lexicon file that cannot be used WHEN loaded THEN the error names the file."""

    def load_error(self, path: Path) -> ClassifyError:
        with pytest.raises(ClassifyError) as caught:
            Lexicon.from_toml(path)
        assert caught.value.message.startswith(f"lexicon file '{path}'")
        return caught.value

    def test_missing(self, tmp_path: Path) -> None:
        assert "does not exist" in self.load_error(tmp_path / "none.toml").message

    def test_directory(self, tmp_path: Path) -> None:
        assert "cannot be read" in self.load_error(tmp_path).message

    def test_invalid_toml_names_the_line(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.toml"
        path.write_text('[[term]]\nterm = "律师"\nlevel = high\n', encoding="utf-8")
        assert re.search(r"not valid TOML .*line 3", self.load_error(path).message)

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "gbk.toml"
        path.write_bytes('[[term]]\nterm = "律师"\n'.encode("gbk"))
        assert "not UTF-8" in self.load_error(path).message

    def test_bad_entry_names_file_entry_and_field(self, tmp_path: Path) -> None:
        path = tmp_path / "lexicon.toml"
        path.write_text(
            '[[term]]\nterm = "退钱"\ncategory = "escalation"\nlevel = "low"\n\n'
            '[[term]]\nterm = "黑猫"\ncategory = "escalation"\nlevel = "severe"\n',
            encoding="utf-8",
        )
        error = self.load_error(path)
        assert error.message == (
            f"lexicon file '{path}', [[term]] entry 2, field 'level': "
            "must be one of low, medium, high"
        )
        assert error.details == {
            "source": f"lexicon file '{path}'",
            "section": "term",
            "entry": 2,
            "field": "level",
        }


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """The sample's message texts, in file order."""
    with SAMPLE.open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines]


class TestSample:
    """GIVEN 3,000 ordinary customer-service messages full of phone, ID and card numbers, coupon
    codes and WeChat ids WHEN the default lexicon runs over them THEN it finds the complaints
    and the WeChat hand-offs, and nothing else."""

    def test_complaints_are_escalations(self, texts: list[str]) -> None:
        complaints = [t for t in texts if "我要投诉" in t]
        assert len(complaints) == 49
        escalations = [t for t in texts if "escalation" in DEFAULT.match(t).categories]
        assert escalations == complaints
        assert {DEFAULT.match(t).level for t in complaints} == {L}

    def test_wechat_hand_offs_before_ascii_ids_are_found(self, texts: list[str]) -> None:
        hand_offs = [t for t in texts if re.search(r"加我微信[\w-]+发你照片", t)]
        assert len(hand_offs) == 38
        found = [t for t in texts if DEFAULT.match(t).categories == ("off_platform",)]
        assert found == hand_offs

    def test_nothing_else_is_found(self, texts: list[str]) -> None:
        found = {term for t in texts for term in DEFAULT.match(t).terms}
        assert found == {"投诉", "加我微信"}
        assert max(DEFAULT.match(t).level for t in texts) is L

    def test_ascii_term_inside_a_coupon_code_is_not_found(self, texts: list[str]) -> None:
        # The sample's coupon code HPOLVISB ends in "sb", an abuse term
        coupons = [t for t in texts if "sb" in fold(t)]
        assert coupons
        assert all(not DEFAULT.match(t) for t in coupons)


# Hypothesis: texts built from lexicon terms (as written, upper-cased, full-width) and filler
# that includes ASCII letters and digits, so that word edges are exercised.
PROPERTY_LEXICON = Lexicon.from_mapping(
    {"term": [{"term": "a1", "category": "abuse", "level": "low"}]}  # a 2-char ASCII term too
)
_TERMS = [e.term for e in PROPERTY_LEXICON.entries]
_WITH_ASCII = [t for t in _TERMS if any(c.isascii() for c in t)]  # where word edges matter
_FILLER = st.text(alphabet="ab1２ｓＢ 投诉到，。微信我要.-_QqSs5", max_size=6)


def _variant(term: str, how: int) -> str:
    if how == 1:
        return term.upper()
    if how == 2:  # full-width forms of ASCII letters and digits
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in term)
    return term


_PIECES = st.one_of(
    _FILLER,
    st.builds(_variant, st.sampled_from(_TERMS), st.integers(0, 2)),
    st.builds(_variant, st.sampled_from(_WITH_ASCII), st.integers(0, 2)),
)


def naive_terms(lexicon: Lexicon, text: str) -> tuple[str, ...]:
    """Scan for every term separately, with the documented word-edge rule as a regex."""
    folded = fold(text)
    found = set()
    for entry in lexicon.entries:
        key = fold(entry.term)
        if not key.isascii():
            hit = key in folded
        else:
            left = r"(?<![0-9a-z])" if key[0].isalnum() else ""
            right = r"(?![0-9a-z])" if key[-1].isalnum() else ""
            hit = re.search(left + re.escape(key) + right, folded) is not None
        if hit:
            found.add(entry.term)
    return tuple(sorted(found))


class TestProperty:
    """GIVEN any text of terms and filler WHEN matched THEN the automaton equals a naive scan."""

    @settings(max_examples=400, deadline=None)
    @given(st.lists(_PIECES, max_size=8).map("".join))
    def test_automaton_equals_naive_scan(self, text: str) -> None:
        assert PROPERTY_LEXICON.match(text).terms == naive_terms(PROPERTY_LEXICON, text)


def _throughput() -> None:  # pragma: no cover - run by hand
    import time

    with SAMPLE.open(encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines] * 50
    match = DEFAULT.match
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            match(text)
        elapsed = time.perf_counter() - start
        print(f"{len(texts) / elapsed:,.0f} messages/s ({len(texts)} messages, {elapsed:.2f} s)")


if __name__ == "__main__":  # pragma: no cover
    _throughput()
