"""Fuzz (issue 12, "Done when"): hostile input never crashes and never stores a value out
of its range, on SQLite and on PostgreSQL.

Hypothesis drives (1) the whole dialogue through the real engine, a person at a time, with
arbitrary text (NUL, control, bidi and zero-width characters, huge numbers, very long
lines), commands with such arguments, buttons and stale button ids, and time passing; and
(2) `cpdbot import`'s reader and importer with arbitrary bytes, hostile JSON and CSV. After
every example the database is read back: minutes 1..1440, titles 1..200 characters with no
control, bidi or zero-width character, dates from 1950 to the person's today, categories a
scheme knows, settings in range, and no text longer than its column or holding NUL.

The runs are derandomized (the same examples every time, so CI is stable) and keep no
example database; `CPDBOT_FUZZ_EXAMPLES` raises the count for a longer local hunt."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, select
from sqlmodel import Session, SQLModel

from bot.core.export import BASE_COLUMNS, FORMAT, VERSION
from bot.core.model import IdentityKey, Incoming, Kind
from bot.core.sanitize import has_unsafe
from bot.core.schemes import Scheme, load_schemes
from bot.core.zones import is_zone, local_today
from bot.services import records
from bot.services.engine import Engine
from storage.db import Database
from storage.models import Entry, Objective, Person, Reflection
from tests.conftest import Chat, Clock

EXAMPLES = int(os.environ.get("CPDBOT_FUZZ_EXAMPLES", "120"))


def fuzz(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        # Each example is a new person in the test's one database, so state is shared on
        # purpose; examples are slow-ish (real transactions) and some inputs are large.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


SCHEMES = dict(load_schemes())
CATEGORIES = {c.id for s in SCHEMES.values() for c in s.categories}
EARLIEST = date(1950, 1, 1)
TITLE_MAX, REFLECTION_MAX, DAY_MINUTES = 200, 3000, 24 * 60

# ---------------------------------------------------------------- what is typed

HOSTILE = (
    "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9b\u061c\u200b\u200d\u200e\u200f"
    "\u202a\u202d\u202e\u2066\u2069\ufeff\ufffe\U0010ffff\n\r\t"
)
WORDS = (
    # dates, hours and numbers, fine and hostile
    "yesterday", "today", "tomorrow", "last Tuesday", "3 March", "31/02", "29/02",
    "2026-11-21", "0001-01-01", "9999-12-31", "1949-12-31", "in 3 days", "5 January",
    "2h", "90m", "1.5h", "1h30", "0h", "0.001h", "-2h", "24h", "25h", "1440m", "1441m",
    "1e308h", "1e-308h", "nan h", "inf hours", "99999999999999999999h", "٣ hours",
    "-1", "0", "1", "2", "3", "#1", "#7", "#99999999999999", "1 at 9.5", "15 at 8", "31",
    # categories, answers and buttons' words
    "#training", "#events", "#other", "#structured", "#nope", "yes", "no", "skip",
    "later", "done", "Done", "none", "all", "keywords", "default", "behind", "off",
    # settings and places
    "Europe/London", "localtime", "Factory", "UTC", "GMT", "Pacific/Kiritimati",
    "Etc/GMT+12", "../../etc/passwd", "MDY", "YMD",
    # markup and formulas
    "=HYPERLINK(\"http://x\"&A1,\"c\")", "+cmd|' /C calc'!A0", "@SUM(1+1)",
    "<script>alert(1)</script>", "[x](javascript:alert(1))", "![](http://x/i.png)",
    # calendar feeds (the dialogue only checks the address: nothing is fetched)
    "add https://example.com/x.ics", "add https://xn--a.com/x.ics", "add http://127.0.0.1/x",
    "add webcal://[::1]/x.ics", "remove 1", "keywords", "all",
    # plan
    "role", "add", "technical", "ethics", "leave", "gap", "study",
)  # fmt: skip
COMMANDS = (
    "log", "reflect", "edit", "delete", "undo", "settings", "pause", "resume", "studying",
    "calendar", "plan", "review", "forget", "status", "list", "help", "cancel", "start",
)  # fmt: skip

piece = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.sampled_from(HOSTILE), min_size=1, max_size=4),
    st.sampled_from(WORDS),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
phrase = st.lists(piece, max_size=6).map(" ".join)
huge = st.tuples(piece, st.integers(min_value=50, max_value=1500)).map(
    lambda t: (t[0] or "x") * t[1]
)
command = st.tuples(st.sampled_from(COMMANDS), phrase).map(lambda t: f"/{t[0]} {t[1]}")


# A one-line entry whose parts are each fine or hostile, so that entries do get saved.
def _mostly(fine: list[Any], hostile: list[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(fine), st.sampled_from(fine), st.sampled_from(hostile))


log_line = st.tuples(
    _mostly(["2h", "90m", "1.5h", "24h"], ["0h", "25h", "1e308h", "-1h", "", "99999999999h"]),
    st.one_of(phrase, phrase, huge),
    _mostly(["yesterday", "3 March", "today"], ["2099-01-01", "1900-01-01", "31/02", ""]),
    _mostly(["#training", "#events", "#other"], ["#nope", "", "#structured", "#"]),
).map(lambda t: "/log " + " ".join(t))
message = st.one_of(phrase, phrase, st.sampled_from(WORDS), command, command, log_line, huge)
move = st.one_of(
    message.map(lambda m: ("say", m)),
    message.map(lambda m: ("say", m)),
    st.integers(min_value=0, max_value=40).map(lambda i: ("press", i)),
    st.text(max_size=40).map(lambda c: ("choice", c)),
    st.integers(min_value=0, max_value=72).map(lambda h: ("wait", h)),
)
# After a one-line entry, answers that fit the question asked (a date when asked when, a
# category button when asked which) with hostile text where text is free (title,
# reflections), so that entries and reflections are saved and the database really tested.
answer = st.one_of(
    phrase.map(lambda m: ("answer", m)),
    phrase.map(lambda m: ("answer", m)),
    huge.map(lambda m: ("answer", m)),
    st.sampled_from(["later", "skip"]).map(lambda m: ("answer", m)),
    st.integers(min_value=0, max_value=3).map(lambda i: ("press", i)),
)
logging = st.tuples(log_line, st.lists(answer, min_size=2, max_size=6)).map(
    lambda t: [("say", t[0]), *t[1]]
)
dialogue = st.tuples(st.sampled_from(COMMANDS), st.lists(answer, min_size=1, max_size=6)).map(
    lambda t: [("say", f"/{t[0]}"), *t[1]]
)
moves_of = st.lists(
    st.one_of(move.map(lambda m: [m]), logging, dialogue), min_size=1, max_size=5
).map(lambda chunks: [m for chunk in chunks for m in chunk])


_FITTING = {"When was it": "yesterday", "How long": "2h"}


def _act(chat: Chat, clock: Clock, kind: str, value: Any) -> None:
    if kind == "answer":  # what the question asks for; the free text where it is free
        asked = chat.replies[-1] if chat.replies else None
        fitting = [v for k, v in _FITTING.items() if asked and k in asked.text]
        if asked and asked.choices and not asked.text.startswith("Reflection"):
            kind, value = "press", 0
        else:
            kind, value = "say", fitting[0] if fitting else value
    if kind == "say":
        chat.say(value)
    elif kind == "press":  # one of the buttons on show, if any
        shown = [c for r in chat.replies for c in r.choices]
        if shown:
            chat.send(Incoming(chat.identity, Kind.CHOICE, choice=shown[value % len(shown)].id))
    elif kind == "choice":  # a forged or stale button id
        chat.send(Incoming(chat.identity, Kind.CHOICE, choice=value))
    else:
        clock.now += timedelta(hours=value)


# ---------------------------------------------------------------- what is stored


def assert_stored_in_range(db: Database, now_: Any) -> None:
    """Every stored value is within its range (see the module's docstring)."""
    with Session(db.engine) as session:
        people = {p.id: p for p in session.scalars(select(Person))}
        for person in people.values():
            _check_person(person, now_)
        for entry in session.scalars(select(Entry)):
            today = local_today(now_, people[entry.person_id].timezone)
            _check_entry(entry, today)
        for reflection in session.scalars(select(Reflection)):
            answer = reflection.answer or ""
            assert len(answer) <= REFLECTION_MAX, len(answer)
            assert not has_unsafe(answer), repr(answer)
        for objective in session.scalars(select(Objective)):
            assert 0 < len(objective.title.strip()) <= TITLE_MAX, repr(objective.title)
            assert not has_unsafe(objective.title), repr(objective.title)
        _check_columns(session)


def _check_person(person: Person, now_: Any) -> None:
    assert 1 <= person.nudge_day <= 31, person.nudge_day
    assert 0 <= person.nudge_hour <= 23, person.nudge_hour
    assert is_zone(person.timezone), person.timezone
    assert person.date_order in ("DMY", "MDY", "YMD"), person.date_order
    scheme = SCHEMES.get(person.scheme_id)
    assert scheme is not None, person.scheme_id
    # "" until onboarding picks one: the scheme's default status is read for it.
    assert person.status_id in {"", *(s.id for s in scheme.statuses)}, person.status_id
    if person.paused_until is not None:
        assert person.paused_until <= local_today(now_, person.timezone) + timedelta(days=366)
    assert not has_unsafe(person.calendar_keywords or ""), repr(person.calendar_keywords)


def _check_entry(entry: Entry, today: date) -> None:
    # A multi-day entry: a last day after its first, at most 31 days, 24 h for each day.
    days = 1
    if entry.end_date is not None:
        days = (entry.end_date - entry.activity_date).days + 1
        assert 2 <= days <= 31 and entry.end_date <= today, (entry.activity_date, entry.end_date)
    assert 1 <= entry.minutes <= DAY_MINUTES * days, entry.minutes
    assert 0 < len(entry.title.strip()) <= TITLE_MAX, repr(entry.title)
    assert not has_unsafe(entry.title), repr(entry.title)
    assert EARLIEST <= entry.activity_date <= today, (entry.activity_date, today)
    # Known to a scheme: entries logged before a change of scheme keep their old ids.
    assert entry.category in CATEGORIES, entry.category
    assert entry.structured in (True, False, None)


def _check_columns(session: Session) -> None:
    """No text longer than its column (SQLite does not enforce it) and no NUL anywhere."""
    for table in SQLModel.metadata.sorted_tables:
        texts = [c for c in table.columns if isinstance(c.type, String)]
        if not texts:
            continue
        for row in session.connection().execute(select(*texts)):
            for column, value in zip(texts, row, strict=True):
                if value is None:
                    continue
                assert "\x00" not in value, f"NUL in {table.name}.{column.name}"
                limit = column.type.length
                assert limit is None or len(value) <= limit, f"{table.name}.{column.name}"


# ---------------------------------------------------------------- the dialogue


def test_fuzz_dialogue_never_crashes_nor_stores_out_of_range(
    engine: Engine, clock: Clock, schemes: dict[str, Scheme]
) -> None:
    people = itertools.count()
    labels = sorted(s.name for s in schemes.values())

    @fuzz(EXAMPLES)
    @given(
        onboard=st.sampled_from([True, True, True, False]),
        scheme=st.sampled_from(labels),
        days=st.integers(min_value=0, max_value=40),
        moves=moves_of,
    )
    def run(onboard: bool, scheme: str, days: int, moves: list[tuple[str, Any]]) -> None:
        clock.now += timedelta(days=days)  # time only moves on: what was past stays past
        chat = Chat(engine, IdentityKey("console", f"fuzz{next(people)}"))
        if onboard:
            chat.say("/start")
            chat.press(scheme)
            chat.press("Europe/London")
        for kind, value in moves:
            _act(chat, clock, kind, value)
        assert_stored_in_range(engine.db, clock.now)

    run()


# ---------------------------------------------------------------- `cpdbot import`

json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(WORDS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
day_value = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(["2026-11-21", "2099-01-01", "0001-01-01", "1949-12-31", "2026-02-30"]),
    json_value,
)
minutes_value = st.one_of(
    st.sampled_from([90, 1, 0, -5, 1440, 1441, 10**12, 1.5, True, False, "90", None]),
    json_value,
)
category_value = st.one_of(st.sampled_from(sorted(CATEGORIES)), json_value)
entry_json = st.fixed_dictionaries(
    {
        "number": st.one_of(st.integers(min_value=-3, max_value=10**20), json_value),
        "title": st.one_of(phrase, huge, json_value),
        "activity_date": day_value,
        "minutes": minutes_value,
        "category": category_value,
    },
    optional={
        "structured": json_value,
        "source": st.one_of(phrase, json_value),
        "deleted": json_value,
        "reflections": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {"question_id": json_value, "question": json_value},
                    optional={"answer": st.one_of(phrase, huge, json_value)},
                ),
                max_size=3,
            ),
            json_value,
        ),
    },
)
export_json = st.fixed_dictionaries(
    {
        "format": st.one_of(st.just(FORMAT), json_value),
        "version": st.one_of(st.just(VERSION), json_value),
        "entries": st.one_of(st.lists(entry_json, max_size=4), json_value),
    },
    optional={
        "person": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "scheme": st.one_of(st.sampled_from(sorted(SCHEMES)), json_value),
                    "status": json_value,
                    "timezone": st.one_of(
                        st.sampled_from(["Europe/London", "localtime"]), json_value
                    ),
                    "name": st.one_of(phrase, huge, json_value),
                },
            ),
            json_value,
        )
    },
).map(lambda d: json.dumps(d, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass"))

cell = st.one_of(
    phrase, st.sampled_from(WORDS), huge, st.sampled_from(["", "n/a", "1.5", "2026-11-21"])
)
csv_rows = st.tuples(
    st.lists(st.one_of(st.text(max_size=12).map(lambda t: f"{t} [q_1]"), cell), max_size=3),
    st.lists(
        st.tuples(
            st.one_of(st.integers(min_value=-3, max_value=10**20).map(str), cell),
            day_value.map(str),
            st.one_of(st.just(""), day_value.map(str), cell),  # end_date
            cell,
            st.one_of(st.sampled_from(["1.5", "0", "-1", "24", "25", "1e308", "nan", "inf"]), cell),
            st.one_of(st.sampled_from(sorted(CATEGORIES)), cell),
            st.one_of(st.sampled_from(["structured", "unstructured", ""]), cell),
            cell,
        ).map(list),
        max_size=4,
    ),
)


def _csv_bytes(parts: tuple[list[str], list[list[str]]], encoding: str) -> bytes:
    questions, rows = parts
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*BASE_COLUMNS, *questions])
    for row in rows:
        writer.writerow(row + ["answer"] * len(questions))
    return ("\ufeff" + out.getvalue()).encode(encoding, "replace")


export_csv = st.builds(
    _csv_bytes, csv_rows, st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16"])
)
deep = st.integers(min_value=10, max_value=200_000).map(
    lambda n: b'{"format": "cpdbot-record", "version": 1, "entries": ' + b"[" * n + b"]" * n + b"}"
)
titled = st.tuples(st.sampled_from(["Webinar", "Course", "=1+1", "Site visit"]), phrase).map(
    " ".join
)
# Files that pass the checks or nearly so: values at the edges of their ranges and hostile
# text where text is free, so that rows are imported and what is stored is checked.
IET = SCHEMES["iet"]
edge_entry = st.fixed_dictionaries(
    {
        "number": st.integers(min_value=1, max_value=10**6),
        "title": st.one_of(titled, titled, st.text(min_size=1, max_size=260)),
        "activity_date": _mostly(["1950-01-01", "2026-11-21", "2026-11-22"], ["2026-11-23"]),
        "end_date": _mostly([None, None, "2026-11-22"], ["2026-11-21", "2026-12-31", 5]),
        "minutes": _mostly([1, 59, 90, 1440, 2880], [1441, 0, 2881]),
        "category": st.sampled_from([c.id for c in IET.categories]),
        "structured": st.sampled_from([True, False, None]),
        "reflections": st.lists(
            st.fixed_dictionaries(
                {
                    "question_id": st.sampled_from([q.id for q in IET.asked_questions()]),
                    "question": titled,
                    "answer": st.one_of(st.none(), phrase, huge),
                }
            ),
            max_size=2,
        ),
    },
    optional={"deleted": st.booleans(), "source": phrase},
)
edge_json = st.lists(edge_entry, min_size=1, max_size=3).map(
    lambda entries: json.dumps(
        {"format": FORMAT, "version": VERSION, "person": {"scheme": "iet"}, "entries": entries},
        ensure_ascii=False,
    ).encode("utf-8", "surrogatepass")
)
edge_csv = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10**6).map(str),
        _mostly(["1950-01-01", "2026-11-21", "2026-11-22"], ["2026-11-23"]),
        _mostly(["", "", "2026-11-22"], ["2026-11-21", "2026-11-23", "2027-01-01"]),  # end_date
        st.one_of(titled, titled, st.text(min_size=1, max_size=260)),
        _mostly(["0.0167", "1.5", "24", "47.5"], ["24.02", "0", "48.02"]),
        st.sampled_from([c.label for c in IET.categories]),
        st.sampled_from(["structured", "unstructured", ""]),
        st.one_of(st.just("chat"), phrase),
    ).map(list),
    min_size=1,
    max_size=3,
).map(lambda rows: _csv_bytes(([], rows), "utf-8"))
import_data = st.one_of(
    st.binary(max_size=400),
    export_json,
    export_csv,
    deep,
    edge_json,
    edge_json,
    edge_csv,
    edge_csv,
)


def test_fuzz_import_never_crashes_nor_stores_out_of_range(
    db: Database, clock: Clock, schemes: dict[str, Scheme]
) -> None:
    people = itertools.count()

    @fuzz(EXAMPLES)
    @given(
        data=import_data,
        scheme=st.one_of(st.none(), st.just("iet"), st.sampled_from(sorted(schemes))),
        existing=st.booleans(),
    )
    def run(data: bytes, scheme: str | None, existing: bool) -> None:
        key = IdentityKey("console", f"import{next(people)}")
        if existing:  # a person who has used the bot: their own scheme reads the file
            records.import_entries(db, key, [], now=clock.now, person_fields={"scheme_id": "iet"})
        try:
            records.import_file(db, key, data, schemes, now=clock.now, scheme_id=scheme)
        except records.RecordImportError as exc:  # the module's own error, saying why
            assert str(exc).strip()
        assert_stored_in_range(db, clock.now)

    run()
