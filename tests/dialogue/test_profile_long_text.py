"""/profile as a member writes it (issue 16 review), through the real engine on SQLite and
PostgreSQL: the picks echoed with their titles, examples from the numbers on screen, a
1,500-word statement taken whole or in "…continued" parts, counts with thousands
separators, and one full stop after a reason that has its own."""

from __future__ import annotations

from bot.core import hcpc
from storage.db import Database
from tests.conftest import Chat
from tests.dialogue.test_profile import _kept, _text, ipem  # noqa: F401  (the fixture)


def test_picks_are_echoed_with_their_titles(ipem: Chat) -> None:  # noqa: F811
    said = _text(ipem.say("/profile"))
    assert "the # numbers shown (e.g. 5 4 3 2)" in said  # the newest, listed first
    said = _text(ipem.say("1 2 3 5"))
    assert (
        "Picked #1 'Radiotherapy QA workshop', #2 'Journal club', #3 'IPEM conference', "
        "#5 'Read the new IRMER guidance'." in said
    )


def test_a_long_statement_is_read_whole_and_counted_with_separators(
    ipem: Chat,  # noqa: F811
    db: Database,
) -> None:
    ipem.say("/profile")
    ipem.say("1 2 3 4")
    ipem.say("I run radiotherapy QA.")
    long = " ".join(["dosimetry"] * 1_200)  # 11,999 characters: over the 4,000 of a message
    said = _text(ipem.say(long))
    assert "Nothing was changed" not in said
    standards = _kept(db, ipem)[2]  # type: ignore[index]
    assert standards[0] == long
    total = sum(hcpc.word_count(s) for s in standards)  # with the other four suggested
    assert total > 1_200
    assert (
        f"Standard 1 kept. The statement: {total:,} words of 1,500 ({1_500 - total} left)." in said
    )


def test_a_statement_in_continued_parts(ipem: Chat, db: Database) -> None:  # noqa: F811
    ipem.say("/profile")
    ipem.say("1 2 3 4")
    ipem.say("I run radiotherapy QA.")
    first = " ".join(["audit"] * 600)
    said = _text(ipem.say(first + " …continued"))
    others = sum(hcpc.word_count(s) for s in _kept(db, ipem)[2][1:])  # type: ignore[index]
    total = 600 + others
    assert (
        f"Standard 1 so far; the statement: {total} words of 1,500 ({1_500 - total} left)." in said
    )
    assert "standard 2 of 5" not in said
    said = _text(ipem.say("and the rest (continued)"))
    assert f"{total + 3} words" in said and "standard 2 of 5" not in said
    said = _text(ipem.say("The end."))
    assert f"Standard 1 kept. The statement: {total + 5} words of 1,500" in said
    assert "standard 2 of 5" in said
    assert _kept(db, ipem)[2][0] == f"{first}\n\nand the rest\n\nThe end."  # type: ignore[index]


def test_a_summary_in_continued_parts(ipem: Chat, db: Database) -> None:  # noqa: F811
    ipem.say("/profile")
    ipem.say("1 2 3 4")
    said = _text(ipem.say("I am a clinical scientist ...continued"))
    assert "Summary so far: 5 words of 500 (495 left)" in said
    said = _text(ipem.say("in radiotherapy physics."))
    assert "Summary kept: 8 words of 500 (492 left)." in said and "standard 1 of 5" in said
    kept = _kept(db, ipem)
    assert kept is not None and kept[1] == "I am a clinical scientist\n\nin radiotherapy physics."


def test_a_gap_reason_gets_one_full_stop(ipem: Chat) -> None:  # noqa: F811
    ipem.say("/profile")
    ipem.say("1 2 3 5")
    ipem.say("My summary.")
    for _ in range(4):
        ipem.press("Keep it")
    said = _text(ipem.press("Keep it"))
    assert "From 11 Apr 2025 to 13 Oct 2026" in said
    said = _text(ipem.say("Parental leave until Oct 2026."))
    assert "Gap explained: 11 Apr 2025 – 13 Oct 2026: Parental leave until Oct 2026." in said
    assert "2026.." not in said


def test_word_counts_have_thousands_separators() -> None:
    assert hcpc.words_line(1_989, 1_500) == "1,989 words: 489 over the 1,500-word limit"
    assert hcpc.words_line(140, 1_500) == "140 words of 1,500 (1,360 left)"
