"""Logging as members write (issue 13): every field echoed before saving, the category
taken from the title when it is clear (and changed with one tap), "did you mean" for
categories, a date in an earlier CPD year asked about, multi-day activities as one entry,
'full day' / 'half day' / '1-2pm' at the hours question, each body's own examples."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.core.model import Incoming, Kind, Outgoing, SaveEntry
from bot.core.schemes import Scheme
from bot.core.snapshot import Snapshot
from bot.dialogue import Context, Conv, Step, step
from bot.dialogue.flows.log_form import entry_form
from bot.dialogue.registry import HELP
from tests.dialogue.chat import ME, YESTERDAY, S, draft, person, press, text

# Today is Sunday 22 November 2026 (tests/dialogue/chat.py); last week is 9-15 Nov.
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def ctx_for(
    schemes: dict[str, Scheme], scheme: str = "iet", now: datetime = NOW, **p: Any
) -> Context:
    who = person(scheme_id=scheme, status_id=schemes[scheme].default_status, **p)
    return Context(Snapshot(now=now, person=who), schemes)


def said(result: Step) -> str:
    return "\n".join(r.text for r in result.replies)


def labels(reply: Outgoing) -> list[str]:
    return [c.label for c in reply.choices]


def run(ctx: Context, *events: Incoming, conv: Conv | None = None) -> Step:
    result = Step(conv or Conv())
    for event in events:
        result = step(result.conv, event, ctx)
    return result


def saved(result: Step) -> SaveEntry:
    (effect,) = [e for e in result.effects if isinstance(e, SaveEntry)]
    return effect


# ---------------------------------------------------------------- 1. the echo


def test_a_bare_number_at_the_hours_question_is_echoed_before_the_next_question(
    schemes: dict[str, Scheme],
) -> None:
    ctx = ctx_for(schemes)
    result = run(ctx, text("/log"), text("Site visit"), text("yesterday"), text("3"))
    assert result.conv.state == S.LOG_CATEGORY
    assert result.replies[0].text == "Got it: 'Site visit' · yesterday · 3 h."
    assert result.replies[-1].text == "Which category?"


def test_every_answer_that_fills_a_field_begins_with_the_whole_draft(
    schemes: dict[str, Scheme],
) -> None:
    ctx = ctx_for(schemes, "step")
    first = run(ctx, text("/log"), text("Estate planning talk"))
    assert first.replies[0].text.startswith("Got it: 'Estate planning talk'")
    dated = step(first.conv, press("date:2026-11-21"), ctx)
    assert dated.replies[0].text == "Got it: 'Estate planning talk' · yesterday."
    timed = step(dated.conv, text("1.5h"), ctx)
    assert timed.replies[0].text == "Got it: 'Estate planning talk' · yesterday · 1 h 30."
    typed = step(timed.conv, press("cat:other"), ctx)
    assert typed.replies[0].text == "Got it: 'Estate planning talk' · yesterday · 1 h 30 · Other."
    structured = step(typed.conv, press("struct:yes"), ctx)
    assert structured.replies[0].text.endswith("· Other · structured.")


def test_a_one_liner_missing_only_reflections_is_echoed_and_saved_after_them(
    schemes: dict[str, Scheme],
) -> None:
    ctx = ctx_for(schemes, "step")
    asked = run(ctx, text("/log 2h design review on the 2nd #conference"))
    assert asked.conv.state == S.LOG_REFLECT and not asked.effects
    assert asked.replies[0].text == (
        "Got it: 'Design review' · Mon 2 Nov · 2 h · Conference · structured."
    )
    assert asked.replies[-1].text.startswith("Reflection 1/")
    done = step(asked.conv, text("later"), ctx)
    entry = saved(done)
    assert (entry.title, entry.activity_date, entry.minutes, entry.category, entry.structured) == (
        "Design review",
        date(2026, 11, 2),
        120,
        "conference",
        True,
    )
    assert done.replies[-1].text.startswith(
        "Saved #13: Design review · Mon 2 Nov · 2 h · Conference · structured."
    )


# ---------------------------------------------------------------- 2. the category from the title


@pytest.mark.parametrize(
    ("scheme", "line", "category", "label"),
    [
        ("iet", "/log 1h webinars on grounding yesterday", "events_and_seminars",
         "Events and seminars"),
        ("iet", "/log 2h self-study of IEC 61850 yesterday", "self_study", "Self-study"),
        ("iet", "/log 1h self study: IEC 61850 yesterday", "self_study", "Self-study"),
        ("ies", "/log 2h site visit with contractor yesterday", "work_based",
         "Work-based learning"),
        ("step", "/log 1h STEP webinar on trusts yesterday", "webinar", "Webinar"),
        ("ipem", "/log 1h journal club yesterday", "self_directed", "Self-directed learning"),
    ],
)  # fmt: skip
def test_a_kind_of_activity_in_the_title_sets_the_category(
    scheme: str, line: str, category: str, label: str, schemes: dict[str, Scheme]
) -> None:
    result = run(ctx_for(schemes, scheme), text(line))
    kept = result.conv.data.draft
    assert kept is not None
    assert (kept.category, kept.category_guessed) == (category, True)
    assert f"· {label}" in result.replies[0].text
    assert "Which category" not in said(result)
    assert "Change category" in labels(result.replies[-1])


def test_change_category_asks_it_then_goes_back_to_where_the_log_was(
    schemes: dict[str, Scheme],
) -> None:
    ctx = ctx_for(schemes)
    guessed = run(ctx, text("/log 1h webinar on arc-flash yesterday"))
    assert guessed.conv.state == S.LOG_REFLECT
    asked = step(guessed.conv, press("logcat:change"), ctx)
    assert asked.conv.state == S.LOG_CATEGORY
    assert asked.replies[-1].text == "Which category?"
    back = step(asked.conv, press("cat:self_study"), ctx)
    assert back.conv.state == S.LOG_REFLECT
    assert back.replies[0].text == "Got it: 'Webinar on arc-flash' · yesterday · 1 h · Self-study."
    assert back.replies[-1].text.startswith("Reflection 1/2")
    assert "Change category" not in labels(back.replies[-1])
    done = step(back.conv, text("later"), ctx)
    assert saved(done).category == "self_study"


def test_change_category_drops_the_structured_default_of_the_guess(
    schemes: dict[str, Scheme],
) -> None:
    ctx = ctx_for(schemes, "step")
    guessed = run(ctx, text("/log 1h webinar on trusts yesterday"))
    assert "· Webinar · structured" in guessed.replies[0].text
    changed = run(ctx, press("logcat:change"), press("cat:other"), conv=guessed.conv)
    assert changed.conv.state == S.LOG_STRUCTURED  # Other has no default: asked


def test_the_title_answer_sets_the_category_too(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    result = run(ctx, text("/log 1.5h yesterday"), text("Seminar on protection relays"))
    assert result.conv.state == S.LOG_REFLECT
    assert result.replies[0].text == (
        "Got it: 'Seminar on protection relays' · yesterday · 1 h 30 · Events and seminars."
    )


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ("/log 1h webinar on reading drawings yesterday #reading", "self_study"),
        ("/log 1h webinar yesterday #course", "training_courses"),
    ],
)
def test_an_explicit_hint_wins_over_the_title(
    line: str, category: str, schemes: dict[str, Scheme]
) -> None:
    result = run(ctx_for(schemes), text(line))
    kept = result.conv.data.draft
    assert kept is not None and (kept.category, kept.category_guessed) == (category, False)
    assert "Change category" not in labels(result.replies[-1])


@pytest.mark.parametrize(
    "line",
    [
        "/log 1h webinar on a training course yesterday",  # two categories: asked
        "/log 1h site visit yesterday",  # none
        "/log 1h other engineers' talk yesterday",  # 'other' names no kind of activity
    ],
)
def test_no_clear_category_in_the_title_is_asked(line: str, schemes: dict[str, Scheme]) -> None:
    result = run(ctx_for(schemes), text(line))
    assert result.conv.state == S.LOG_CATEGORY
    assert result.conv.data.draft is not None and result.conv.data.draft.category is None


# ---------------------------------------------------------------- 3. fuzzy categories


@pytest.mark.parametrize(
    ("scheme", "typed", "category"),
    [
        ("iet", "self study", "self_study"),
        ("iet", "Self-Study", "self_study"),
        ("iet", "webinars", "events_and_seminars"),
        ("iet", "#webinars", "events_and_seminars"),
        ("iet", "event and seminar", "events_and_seminars"),
        ("ies", "work based", "work_based"),
        ("ies", "self study", "self_directed"),
        ("ipem", "in-service", "work_based"),
        ("ipem", "inservice", "work_based"),
        ("ipem", "self study", "self_directed"),
        ("generic", "work based", "work_based"),
        ("generic", "self study", "self_study"),
        ("step", "in house", "in_house"),
        ("step", "webinars", "webinar"),
        ("step", "courses", "course"),
    ],
)
def test_near_identical_categories_are_read_at_the_question(
    scheme: str, typed: str, category: str, schemes: dict[str, Scheme]
) -> None:
    ctx = ctx_for(schemes, scheme)
    data = draft(title="Thing", activity_date=YESTERDAY, minutes=60)
    result = step(Conv(S.LOG_CATEGORY, data), text(typed), ctx)
    assert result.conv.data.draft is not None
    assert result.conv.data.draft.category == category, said(result)


def test_a_hint_read_loosely_in_a_one_liner(schemes: dict[str, Scheme]) -> None:
    result = run(ctx_for(schemes, "ipem"), text("/log 2h audit yesterday #in-service"))
    assert result.conv.data.draft is not None
    assert result.conv.data.draft.category == "work_based"


def test_a_misspelt_category_gets_did_you_mean_never_a_guess(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    data = draft(title="Thing", activity_date=YESTERDAY, minutes=60)
    result = step(Conv(S.LOG_CATEGORY, data), text("semniars"), ctx)
    assert result.conv.state == S.LOG_CATEGORY
    assert result.conv.data.draft is not None and result.conv.data.draft.category is None
    assert "'semniars' is not a category in IET" in result.replies[0].text
    asked = result.replies[-1]
    assert asked.text.startswith("Did you mean Events and seminars?")
    assert asked.choices[0].id == "cat:events_and_seminars"
    assert len(asked.choices) == len(schemes["iet"].categories)  # then the full list


def test_a_misspelt_hint_gets_did_you_mean_at_the_category_question(
    schemes: dict[str, Scheme],
) -> None:
    result = run(ctx_for(schemes), text("/log 1h grounding talk yesterday #semniar"))
    assert result.conv.state == S.LOG_CATEGORY
    assert "I don't know the category #semniar in IET. Did you mean Events and seminars?" in (
        said(result)
    )
    assert result.replies[-1].choices[0].id == "cat:events_and_seminars"


def test_nothing_close_lists_the_categories(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    data = draft(title="Thing", activity_date=YESTERDAY, minutes=60)
    result = step(Conv(S.LOG_CATEGORY, data), text("juggling"), ctx)
    assert result.replies[-1].text == "Which category?"


# ---------------------------------------------------------------- 4. earlier CPD years


def test_a_date_in_the_last_cpd_year_is_asked_and_yes_logs_it_there(
    schemes: dict[str, Scheme],
) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log 1h site visit 25/12"))
    assert asked.conv.state == S.LOG_DATE_CONFIRM and not asked.effects
    question = asked.replies[-1]
    assert question.text == (
        "'25/12' is Thu 25 Dec 2025, in your 2025 CPD year, not 2026. Log it there?"
    )
    assert labels(question) == ["Yes, 2025", "No, another date"]
    result = run(ctx, press("logyear:yes"), press("cat:work_experience"), text("later"),
                 conv=asked.conv)  # fmt: skip
    assert saved(result).activity_date == date(2025, 12, 25)
    assert "It counts in your 2025 CPD year." in result.replies[-1].text


def test_no_asks_the_date_again_and_a_typed_date_answers_at_once(
    schemes: dict[str, Scheme],
) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log"), text("Site visit"), text("25/12"))
    assert asked.conv.state == S.LOG_DATE_CONFIRM
    again = step(asked.conv, press("logyear:no"), ctx)
    assert again.conv.state == S.LOG_DATE
    assert again.conv.data.draft is not None and again.conv.data.draft.activity_date is None
    typed = step(asked.conv, text("3 Nov"), ctx)
    assert typed.conv.state == S.LOG_HOURS
    assert typed.conv.data.draft is not None
    assert typed.conv.data.draft.activity_date == date(2026, 11, 3)
    nonsense = step(asked.conv, text("hmm"), ctx)
    assert nonsense.conv.state == S.LOG_DATE_CONFIRM
    assert "yes or no" in said(nonsense)


def test_29_february_in_december_is_2024_and_asked(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes, now=datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    result = run(ctx, text("/log 1h site visit 29/2"))
    assert result.conv.state == S.LOG_DATE_CONFIRM
    assert "'29/2' is Thu 29 Feb 2024, in your 2024 CPD year, not 2026" in said(result)


def test_dates_in_this_cpd_year_are_not_asked(schemes: dict[str, Scheme]) -> None:
    result = run(ctx_for(schemes), text("/log 1h site visit 2/1"))
    assert result.conv.state == S.LOG_CATEGORY


def test_dates_before_the_earliest_year_keep_their_error(schemes: dict[str, Scheme]) -> None:
    result = run(ctx_for(schemes), text("/log"), text("Site visit"), text("3 March 1949"))
    assert result.conv.state == S.LOG_DATE
    assert "too far back" in said(result)


# ---------------------------------------------------------------- 5. multi-day activities


def test_a_range_in_a_one_liner_is_one_entry_and_full_days_are_offered(
    schemes: dict[str, Scheme],
) -> None:
    ctx = ctx_for(schemes, day_minutes=450)
    asked = run(ctx, text("/log annual conference 14-15 Nov"))
    assert asked.conv.state == S.LOG_HOURS
    assert asked.replies[0].text.startswith("Got it: 'Annual conference' · Sat 14 – Sun 15 Nov")
    hours = asked.replies[-1]
    assert hours.numeric_answer
    assert labels(hours)[:2] == ["2 full days (2 × 7 h 30)", "2 half days (2 × 3 h 45)"]
    picked = step(asked.conv, press(hours.choices[0].id), ctx)
    assert picked.replies[0].text == (
        "Got it: 'Annual conference' · Sat 14 – Sun 15 Nov · 15 h · Events and seminars."
    )
    done = step(picked.conv, text("later"), ctx)
    entry = saved(done)
    assert (entry.activity_date, entry.end_date, entry.minutes) == (
        date(2026, 11, 14),
        date(2026, 11, 15),
        900,
    )
    assert "Saved #13: Annual conference · Sat 14 – Sun 15 Nov · 15 h" in done.replies[-1].text


def test_hours_over_a_range_may_pass_24_but_not_24_a_day(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log annual conference 14-15 Nov"))
    ok = step(asked.conv, text("30h"), ctx)
    assert ok.conv.data.draft is not None and ok.conv.data.draft.minutes == 1800
    refused = step(asked.conv, text("49h"), ctx)
    assert refused.conv.state == S.LOG_HOURS
    assert "more than 24 hours a day over 2 days" in said(refused)


def test_a_range_answers_the_date_question(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    result = run(ctx, text("/log"), text("Site visits"), text("14-15 Nov"))
    assert result.conv.state == S.LOG_HOURS
    kept = result.conv.data.draft
    assert kept is not None
    assert (kept.activity_date, kept.end_date) == (date(2026, 11, 14), date(2026, 11, 15))
    assert "over the 2 days" in result.replies[-1].text


def test_days_without_dates_ask_which_days(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log 2 days last week at a conference"))
    assert asked.conv.state == S.LOG_DATE
    assert asked.replies[-1].text == (
        "Which 2 days last week? (e.g. 'Mon-Tue last week' or '9-10 Nov')"
    )
    answered = step(asked.conv, text("Tue-Wed last week"), ctx)
    kept = answered.conv.data.draft
    assert kept is not None
    assert (kept.activity_date, kept.end_date, kept.minutes) == (
        date(2026, 11, 10),
        date(2026, 11, 11),
        840,
    )
    assert "onference' · Tue 10 – Wed 11 Nov · 14 h (2 × 7 h)" in answered.replies[0].text


def test_days_in_a_week_still_to_come_are_refused_not_asked_which(
    schemes: dict[str, Scheme],
) -> None:
    asked = run(ctx_for(schemes), text("/log 2 days next week conference"))
    assert asked.conv.state == S.LOG_DATE
    shown = said(asked)
    assert "still to come" in shown and "Which 2 days" not in shown
    assert asked.replies[-1].text.startswith("When was it?")


def test_hours_that_no_longer_fit_the_dates_are_asked_again(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log 30h conference 4 days last week"))
    one_day = step(asked.conv, text("Tuesday last week"), ctx)
    assert one_day.conv.state == S.LOG_HOURS
    assert "30 h does not fit those dates" in said(one_day)


def test_step_members_are_reminded_of_the_full_hours_rule(schemes: dict[str, Scheme]) -> None:
    rule = "STEP: claim a conference's full hours only if you attended all of it."
    step_ctx, iet_ctx = ctx_for(schemes, "step"), ctx_for(schemes)
    asked = run(step_ctx, text("/log conference 14-15 Nov"))
    assert rule not in said(asked)  # no hours claimed yet
    assert rule in step(asked.conv, text("2 full days"), step_ctx).replies[0].text
    assert rule in run(step_ctx, text("/log full day conference yesterday")).replies[0].text
    assert rule not in said(run(step_ctx, text("/log 2h conference yesterday")))
    assert rule not in said(run(iet_ctx, text("/log conference 14-15 Nov")))


# ---------------------------------------------------------------- 6. the hours question


@pytest.mark.parametrize(
    ("typed", "minutes", "shown"),
    [
        ("full day", 420, "7 h"),
        ("half day", 210, "3 h 30"),
        ("1-2pm", 60, "1 h"),
        ("09:30–11:00", 90, "1 h 30"),
        ("3", 180, "3 h"),
    ],
)
def test_the_hours_question_reads_days_and_time_ranges(
    typed: str, minutes: int, shown: str, schemes: dict[str, Scheme]
) -> None:
    ctx = ctx_for(schemes)
    result = step(Conv(S.LOG_HOURS, draft(title="Site visit", activity_date=YESTERDAY)),
                  text(typed), ctx)  # fmt: skip
    assert result.conv.data.draft is not None
    assert result.conv.data.draft.minutes == minutes
    assert result.replies[0].text == f"Got it: 'Site visit' · yesterday · {shown}."


def test_a_full_day_is_the_persons_own_day(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes, day_minutes=450)
    result = step(Conv(S.LOG_HOURS, draft(title="W", activity_date=YESTERDAY)),
                  text("full day"), ctx)  # fmt: skip
    assert result.conv.data.draft is not None and result.conv.data.draft.minutes == 450


def test_hours_quick_picks_stay_lettered(schemes: dict[str, Scheme]) -> None:
    result = run(ctx_for(schemes), text("/log site visit yesterday"))
    assert result.conv.state == S.LOG_HOURS and result.replies[-1].numeric_answer


# ---------------------------------------------------------------- 7. each body's examples


@pytest.mark.parametrize("scheme", ["iet", "ies", "step", "ipem", "generic"])
def test_prompts_use_the_bodys_own_examples(scheme: str, schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes, scheme)
    assert schemes[scheme].example_activity in run(ctx, text("/log")).replies[-1].text
    assert schemes[scheme].example_log in said(run(ctx, text("hello there")))


def test_log_help_talks_about_no_particular_body() -> None:
    lines = [line for line in HELP.splitlines() if line.startswith("/log")]
    assert lines and not any("arc-flash" in line for line in lines)


# ---------------------------------------------------------------- 8. the entry form


def form(**values: str) -> Incoming:
    base = {"title": "Annual conference", "date": "2026-11-14", "hours": "14h",
            "category": "events_and_seminars"}  # fmt: skip
    return Incoming(ME, Kind.FORM, form={**base, **values})


def test_the_form_has_an_optional_last_day(schemes: dict[str, Scheme]) -> None:
    fields = {f.id: f for f in entry_form(schemes["iet"])}
    assert fields["end_date"].label == "Last day (multi-day)"
    assert (fields["end_date"].kind, fields["end_date"].required) == ("date", False)
    assert fields["title"].placeholder == schemes["iet"].example_activity


def test_the_form_saves_a_range(schemes: dict[str, Scheme]) -> None:
    result = step(Conv(), form(end_date="2026-11-15", hours="30h"), ctx_for(schemes))
    entry = saved(result)
    assert (entry.activity_date, entry.end_date, entry.minutes) == (
        date(2026, 11, 14),
        date(2026, 11, 15),
        1800,
    )


@pytest.mark.parametrize(
    ("values", "field", "says"),
    [
        ({"end_date": "2026-11-13"}, "end_date", "is before"),
        ({"end_date": "2026-11-30"}, "end_date", "in the future"),
        ({"end_date": "2026-11-15", "hours": "49h"}, "hours", "over 2 days"),
        ({"hours": "25h"}, "hours", "more than the 24 hours"),
    ],
)
def test_the_form_checks_the_last_day(
    values: dict[str, str], field: str, says: str, schemes: dict[str, Scheme]
) -> None:
    result = step(Conv(), form(**values), ctx_for(schemes))
    assert not result.effects
    assert says in result.replies[0].errors[field]


def test_change_category_from_an_earlier_message_is_ignored(schemes: dict[str, Scheme]) -> None:
    result = step(Conv(), press("logcat:change"), ctx_for(schemes))
    assert result.conv.state == S.IDLE
    assert "earlier message" in said(result)


# ---------------------------------------------------------------- 8. the reviewer's round


@pytest.mark.parametrize("answer", ["today", "yesterday", "3 Nov", "16-17 Nov"])
def test_days_outside_the_period_named_are_asked_again_with_the_period(
    answer: str, schemes: dict[str, Scheme]
) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log 2 days last week conference on trusts"))
    refused = step(asked.conv, text(answer), ctx)
    assert refused.conv.state == S.LOG_DATE
    assert not refused.effects
    assert refused.replies[0].text == f"'{answer}' is not one of those days."
    assert refused.replies[-1].text.startswith("Which 2 days last week?")
    assert refused.conv.data.draft is not None and refused.conv.data.draft.minutes == 840


@pytest.mark.parametrize(
    ("answer", "minutes", "shown"),
    [("Mon-Wed last week", 1260, "21 h (3 × 7 h)"), ("Tuesday last week", 420, "7 h")],
)
def test_another_number_of_days_counts_the_hours_again_and_says_so(
    answer: str, minutes: int, shown: str, schemes: dict[str, Scheme]
) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log 2 days last week conference on trusts"))
    answered = step(asked.conv, text(answer), ctx)
    kept = answered.conv.data.draft
    assert kept is not None and kept.minutes == minutes
    assert f"· {shown} ·" in answered.replies[0].text
    assert f"so I've counted {fmt_hours(minutes)}" in said(answered)


def fmt_hours(minutes: int) -> str:
    from bot.core import text as fmt

    return fmt.hours(minutes)


def test_explicit_hours_over_the_days_named_are_kept(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log 10h conference 2 days last week"))
    answered = step(asked.conv, text("Tue-Wed last week"), ctx)
    assert answered.conv.data.draft is not None and answered.conv.data.draft.minutes == 600
    assert "counted" not in said(answered)


@pytest.mark.parametrize(("typed", "minutes"), [("30", 1800), ("48", 2880), ("49", 49)])
def test_a_bare_number_over_a_range_is_hours_up_to_24_a_day(
    typed: str, minutes: int, schemes: dict[str, Scheme]
) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log webinar 14-15 Nov"))
    assert "a bare number is hours up to 48, minutes above" in asked.replies[-1].text
    answered = step(asked.conv, text(typed), ctx)
    assert answered.conv.data.draft is not None and answered.conv.data.draft.minutes == minutes


@pytest.mark.parametrize(
    ("line", "minutes", "shown"),
    [
        ("/log half day workshop on 14-15 Nov", 420, "7 h (2 × 3 h 30)"),
        ("/log full day course 14-16 Nov", 1260, "21 h (3 × 7 h)"),
    ],
)
def test_a_full_or_half_day_over_a_range_counts_each_day(
    line: str, minutes: int, shown: str, schemes: dict[str, Scheme]
) -> None:
    ctx = ctx_for(schemes)
    result = run(ctx, text(line))
    assert result.conv.data.draft is not None and result.conv.data.draft.minutes == minutes
    assert f"· {shown} ·" in result.replies[0].text


def test_half_day_typed_at_the_range_hours_question_counts_each_day(
    schemes: dict[str, Scheme],
) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log workshop 14-15 Nov"))
    answered = step(asked.conv, text("half day"), ctx)
    assert answered.conv.data.draft is not None and answered.conv.data.draft.minutes == 420
    assert "7 h (2 × 3 h 30)" in answered.replies[0].text


def test_a_time_range_that_makes_a_long_day_is_asked(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    result = run(ctx, text("/log 2-1pm webinar yesterday"))
    assert result.conv.state == S.LOG_HOURS
    assert "11 h" not in said(result)


@pytest.mark.parametrize("word", ["later", "skip", "Later"])
@pytest.mark.parametrize(
    ("events", "state"),
    [
        ((text("/log"),), S.LOG_TITLE),
        ((text("/log"), text("Talk")), S.LOG_DATE),
        ((text("/log"), text("Talk"), text("yesterday")), S.LOG_HOURS),
        ((text("/log 1h talk yesterday"),), S.LOG_CATEGORY),
    ],
)
def test_later_or_skip_at_a_question_the_entry_needs_is_refused_plainly(
    word: str, events: tuple[Incoming, ...], state: S, schemes: dict[str, Scheme]
) -> None:
    ctx = ctx_for(schemes)
    before = run(ctx, *events)
    assert before.conv.state == state
    after = step(before.conv, text(word), ctx)
    assert after.conv == before.conv
    assert after.replies[0].text.startswith("I need ")
    assert "only the reflections can wait" in after.replies[0].text
    assert "Did you mean" not in said(after)


def test_a_range_still_to_come_is_called_the_future(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes, now=datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
    asked = run(ctx, text("/log"), text("Conference"))
    refused = step(asked.conv, text("1-5 Dec"), ctx)
    assert refused.conv.state == S.LOG_DATE
    assert "in the future. CPD is logged once it has happened" in said(refused)


def test_a_misspelt_hint_asks_did_you_mean_once(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    result = run(ctx, text("/log 1h meeting yesterday #trainng"))
    assert result.conv.state == S.LOG_CATEGORY
    assert said(result).count("Did you mean") == 1
    assert labels(result.replies[-1])[0] in said(result)


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("/log 1h ethics webinar on 14-15 Nov", False),
        ("/log 2h conference yesterday", False),
        ("/log half day conference yesterday", False),
        ("/log full day conference yesterday", True),
        ("/log 14h conference 14-15 Nov", True),
    ],
)
def test_steps_full_hours_rule_shows_only_for_full_days(
    line: str, shown: bool, schemes: dict[str, Scheme]
) -> None:
    rule = "STEP: claim a conference's full hours only if you attended all of it."
    result = run(ctx_for(schemes, "step"), text(line))
    assert (rule in said(result)) is shown


@pytest.mark.parametrize("typed", ["3", "b", "x", "12"])
def test_a_number_or_letter_is_not_saved_as_a_reflection(
    typed: str, schemes: dict[str, Scheme]
) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log 1h course yesterday #training"))
    assert asked.conv.state == S.LOG_REFLECT
    answered = step(asked.conv, text(typed), ctx)
    assert answered.conv == asked.conv
    assert answered.replies[0].text.startswith("Did you mean one of the buttons?")
    assert "Skip or Later" in answered.replies[0].text


def test_two_lengths_in_one_line_ask_the_hours_and_say_why(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    result = run(ctx, text("/log 1h full day course yesterday"))
    assert result.conv.state == S.LOG_HOURS
    assert "The line says both '1h' and 'full day', so I'll ask the hours." in said(result)


def test_a_step_never_changes_the_draft_it_was_given(schemes: dict[str, Scheme]) -> None:
    ctx = ctx_for(schemes)
    asked = run(ctx, text("/log 2h webinar on grounding yesterday"))
    before = asked.conv.data.draft
    assert before is not None
    kept = before.model_dump()
    step(asked.conv, text("Grounding grids and step voltage"), ctx)  # answers a reflection
    assert before.model_dump() == kept  # the stored conversation it came from is untouched
