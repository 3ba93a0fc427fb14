"""The HCPC CPD profile (issue 16): its limits, the five CPD standards, word counts, the
two-year registration period, and the statements pre-filled from the picked activities.
Pure: `bot.dialogue.flows.profile` asks for it, `bot.services.audit_packs` lays it out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

from bot.core import text as fmt
from bot.core.model import EntryView, EvidenceView, ProfileView
from bot.core.schemes import Scheme

SUMMARY_WORDS = 500  # HCPC: summary of recent work, up to 500 words
STATEMENT_WORDS = 1500  # HCPC: statement of how the standards are met, up to 1,500 words
PICK_MIN, PICK_MAX = 4, 6  # HCPC: the statement usually draws on 4-6 activities
GAP_DAYS = 92  # a gap of three months or more (the longest three months) is explained
SCHEMES = frozenset({"ipem"})  # the bodies whose members HCPC audits
EMBEDDED = frozenset({"image/png", "image/jpeg"})  # evidence shown as pictures in the profile
# A statement of up to 1,500 words (about 10,000 characters) is read in one message; on a
# platform that caps messages lower (Telegram: 4,096), the member sends it in parts, each
# but the last ending with "…continued" (`continued`).
TEXT_MAX = 12_000
_CONTINUED = re.compile(  # "…continued", "...continued", "(continued)", "[cont.]"
    r"\s*(?:(?:…|\.\.\.)\s*(?:continued|cont\.?)|[(\[]\s*(?:continued|cont\.?|more)\s*[)\]])"
    r"\s*(?:…|\.\.\.)?\s*$",
    re.IGNORECASE,
)

# HCPC's standards for CPD; the statement says how each is met (the fifth is the profile).
STANDARDS: tuple[str, ...] = (
    "Maintain a continuous, up-to-date and accurate record of your CPD activities",
    "Demonstrate that your CPD activities are a mixture of learning activities relevant "
    "to current or future practice",
    "Seek to ensure that your CPD has contributed to the quality of your practice and "
    "service delivery",
    "Seek to ensure that your CPD benefits the service user",
    "Upon request, present a written profile (your own work, supported by evidence) "
    "explaining how you have met the standards for CPD",
)

_WORD = re.compile(r"\S+")


def word_count(text: str) -> int:
    """Words as a word processor counts them: runs of characters between spaces."""
    return len(_WORD.findall(text))


def words_line(count: int, limit: int) -> str:
    """'312 words of 500 (188 left)' or '540 words: 40 over the 500-word limit'."""
    if count > limit:
        return f"{count:,} words: {count - limit:,} over the {limit:,}-word limit"
    return f"{count:,} words of {limit:,} ({limit - count:,} left)"


def continued(text: str) -> str | None:
    """`text` without its closing "…continued" (more follows), or None when it has none."""
    found = _CONTINUED.search(text)
    if found is None or found.start() == 0:
        return None
    return text[: found.start()].rstrip()


def evidence_of(profile: ProfileView) -> list[EvidenceView]:
    """Every piece of evidence of the period's activities, in E-number order."""
    found = {e.number: e for entry in profile.entries for e in entry.evidence}
    return [found[n] for n in sorted(found)]


def separate_files(profile: ProfileView) -> list[EvidenceView]:
    """The files the profile lists but does not show (PDF, Word, ...): they go with it."""
    return [e for e in evidence_of(profile) if e.kind == "file" and e.mime not in EMBEDDED]


def period_start(today: date) -> date:
    """The first day of the two-year registration period ending `today`."""
    try:
        return today.replace(year=today.year - 2) + timedelta(days=1)
    except ValueError:  # 29 February
        return date(today.year - 2, 3, 1)


def _answers(entry: EntryView, question_id: str) -> str:
    return " ".join(
        r.answer for r in entry.reflections if r.question_id == question_id and r.answer
    )


def prefill(picked: Sequence[EntryView], scheme: Scheme, period_entries: int) -> tuple[str, ...]:
    """A first statement per standard from the picked activities' reflections (the
    member edits each): outcomes for quality of practice, application for the user."""
    refs = ", ".join(f"#{e.number}" for e in picked)
    kinds = sorted({fmt.category_label(scheme, e.category) for e in picked})
    outcomes = [f"{e.title} (#{e.number}): {a}" for e in picked if (a := _answers(e, "outcomes"))]
    uses = [f"{e.title} (#{e.number}): {a}" for e in picked if (a := _answers(e, "application"))]
    return (
        f"I log each CPD activity as I do it, with its date, type and reflection: "
        f"{period_entries} activities in the last two years, listed with their evidence "
        "in part 3.",
        f"My activities ({refs}) mix these learning methods: {', '.join(kinds)}.",
        " ".join(outcomes) or "What each activity changed in my practice:",
        " ".join(uses) or "How each activity benefited the service user:",
        "This profile is my own work; the evidence it cites is numbered in part 4.",
    )
