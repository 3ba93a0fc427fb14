"""Settings: /settings (name, membership number, professional body, membership status,
time zone, date order, full day, studying where the scheme has that rule, monthly nudge,
calendar events), /studying, and /pause … /resume."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any, cast

from bot.core import agenda as sched
from bot.core import text as fmt
from bot.core.buttons import ButtonId
from bot.core.model import Choice, Incoming, Kind, Outgoing, PersonView, UpdatePerson
from bot.core.schemes import Scheme
from bot.dialogue.common import (
    NO,
    YES,
    clip,
    future_date,
    norm,
    say,
    stale,
    stay,
    with_effects,
    with_person,
)
from bot.dialogue.conversation import (
    DATE_ORDERS,
    Context,
    Conv,
    Data,
    State,
    Step,
    replace_data,
)
from bot.dialogue.flow import Command, Flow, prompt
from bot.dialogue.flows import bodies
from bot.dialogue.flows import settings_record as rec
from bot.dialogue.flows.calendar_flow import calendar_filter_changes, calendar_filter_label
from bot.dialogue.flows.onboarding import (
    TIMEZONE,
    ordered_schemes,
    scheme_named,
    timezone_prompt,
    zone_named,
)

S = State

SETTINGS = {
    **rec.SETTINGS,  # name and membership number for the record
    "scheme": "Professional body",
    "bodies": "Other bodies",  # issue 16: followed besides the primary (flows.bodies)
    "status": "Membership status",
    "timezone": "Time zone",
    "date_order": "Date order",
    "day": "Full day",
    "studying": "Studying for a degree",  # only where the scheme has the rule (IES)
    "nudges": "Monthly nudge",
    "calendar": "Calendar events",
}
SETTING = ButtonId("set")  # set:<setting> | set:done
VALUE = rec.VALUE  # val:<the setting's new value>
PAUSE_MAX_DAYS = 366
_STUDYING = "Noted: you are studying for a Masters or other higher-education qualification."
_NOT_STUDYING = "Noted: not studying for a higher-education qualification."

Changes = dict[str, object]


def _settings_value(conv: Conv, event: Incoming, ctx: Context) -> Step:
    key = conv.data.field or ""
    if key == "bodies":
        typed = (VALUE.parse(event.choice) or "") if event.kind == Kind.CHOICE else event.text
        return bodies.value_step(conv, typed, ctx)
    if event.kind == Kind.CHOICE:
        picked = VALUE.parse(event.choice)
        if picked is None:
            return stale(conv, ctx)
        value = picked
    else:
        value = event.text.strip()
    return _save(conv, key, value, ctx)


def _save(conv: Conv, key: str, value: str, ctx: Context) -> Step:
    """Setting `key` set to `value` (or why not), back to the settings menu."""
    # The last setting is the default, as it always was (a key from an older version).
    found = _SETTERS.get(key, _set_studying)(value, ctx)
    if isinstance(found, str):
        return stay(conv, ctx, found)
    changes, said = found
    # PersonView mirrors the person's column names, so the same changes apply to both.
    updated = replace(ctx.person, **cast(dict[str, Any], changes))
    ctx = with_person(ctx, updated)
    nxt = Conv(S.SETTINGS_MENU, replace_data(conv.data, field=None))
    return Step(nxt, (say(said), prompt(nxt, ctx)), (UpdatePerson(changes),))


def _set_scheme(value: str, ctx: Context) -> tuple[Changes, str] | str:
    scheme = ctx.schemes.get(value) or scheme_named(ctx, value)
    if scheme is None:
        return "Please pick one of the schemes."
    changes: Changes = {"scheme_id": scheme.id, "status_id": scheme.default_status}
    return changes, f"Professional body set to {scheme.name}."


def _set_status(value: str, ctx: Context) -> tuple[Changes, str] | str:
    status = next(
        (s for s in ctx.scheme.statuses if norm(value) in (norm(s.id), norm(s.label))), None
    )
    if status is None:
        return "Please pick one of the statuses."
    target = f"{status.hours:g} h a year" if status.hours else "no hours target"
    return {"status_id": status.id}, f"Membership status set to {status.label} ({target})."


def _set_timezone(value: str, ctx: Context) -> tuple[Changes, str] | str:
    zone = zone_named(value)
    if zone is None:
        return (
            f"I don't know the time zone '{clip(value)}'. Try a city or a zone like Europe/London."
        )
    return {"timezone": zone}, f"Time zone set to {zone}."


def _set_date_order(value: str, ctx: Context) -> tuple[Changes, str] | str:
    order = value.upper() if value.upper() in DATE_ORDERS else None
    if order is None:
        return "Please pick one of the date orders."
    return {"date_order": order}, f"Dates like 3/4 are now read {DATE_ORDERS[order]}."


def _set_nudges(value: str, ctx: Context) -> tuple[Changes, str] | str:
    found = _nudge_changes(value)
    if isinstance(found, str):
        return found
    person = replace(ctx.person, **cast(dict[str, Any], found))
    return found, "Monthly nudge: " + _nudge_label(person)


def _set_calendar(value: str, ctx: Context) -> tuple[Changes, str] | str:
    found = calendar_filter_changes(value)
    if isinstance(found, str):
        return found
    person = replace(ctx.person, **cast(dict[str, Any], found))
    return found, "Calendar events: " + calendar_filter_label(person) + "."


def _studying_rule(scheme: Scheme) -> int | None:
    """The categories the scheme asks of a member studying for an HE qualification (IES),
    or None: the scheme has no such rule, and nothing about studying is offered."""
    return scheme.balance.min_categories_when_studying if scheme.balance else None


def _no_studying_rule(scheme: Scheme) -> str:
    return (
        f"{scheme.name} has no rule for members studying for a higher-education "
        "qualification, so there is nothing to record."
    )


def _offered(ctx: Context) -> list[str]:
    """The settings this person can change (studying only where the scheme has the rule)."""
    return [k for k in SETTINGS if k != "studying" or _studying_rule(ctx.scheme) is not None]


def _set_studying(value: str, ctx: Context) -> tuple[Changes, str] | str:
    if _studying_rule(ctx.scheme) is None:
        return _no_studying_rule(ctx.scheme)
    yes = True if norm(value) in YES else False if norm(value) in NO else None
    if yes is None:
        return "Please answer yes or no."
    return {"studying_he": yes}, _STUDYING if yes else _NOT_STUDYING


_SETTERS: dict[str, Callable[[str, Context], tuple[Changes, str] | str]] = {
    "scheme": _set_scheme,
    "status": _set_status,
    "timezone": _set_timezone,
    "date_order": _set_date_order,
    "nudges": _set_nudges,
    "calendar": _set_calendar,
    "studying": _set_studying,
    **rec.SETTERS,
}


def _settings(conv: Conv, args: str, ctx: Context) -> Step:
    if (one_line := bodies.one_line_step(conv, args, ctx)) is not None:
        return one_line  # /settings bodies IPEM IET
    found = rec.one_line_setting(args)
    if conv.state != S.IDLE and found and found[1]:  # /settings name … in the settings menu
        return _save(conv, found[0], found[1], ctx)
    if (one_line := rec.one_line_step(conv, args, ctx)) is not None:
        return one_line  # /settings name Sam Patel CEng, /settings number 1234567
    data = Data(undo=conv.data.undo) if conv.state == S.IDLE else conv.data
    nxt = Conv(S.SETTINGS_MENU, replace_data(data, field=None))
    return Step(nxt, (prompt(nxt, ctx),))


def _settings_menu(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind == Kind.CHOICE:
        picked = SETTING.parse(event.choice)
        if picked is None:
            return stale(conv, ctx)
        key = picked
    else:
        key = norm(event.text).replace(" ", "_")
        key = {v.lower().replace(" ", "_"): k for k, v in SETTINGS.items()}.get(key, key)
        key = {
            "body": "scheme",
            "tz": "timezone",
            "time_zone": "timezone",
            "nudge": "nudges",
            "monthly_nudges": "nudges",
            "calendar_event": "calendar",
            **rec.ALIASES,
        }.get(key, key)
    if key == "done":
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (say("Settings saved."),))
    if key not in _offered(ctx):
        return stay(conv, ctx, "Please pick a setting to change, or Done.")
    nxt = Conv(S.SETTINGS_VALUE, replace_data(conv.data, field=key))
    return Step(nxt, (prompt(nxt, ctx),))


def _settings_prompt(ctx: Context) -> Outgoing:
    p = ctx.person
    scheme = ctx.scheme
    status = scheme.status(p.status_id)
    lines = [
        "Your settings:",
        *rec.menu_lines(p),
        f"Professional body: {scheme.name}",
        bodies.current_line(ctx),
        f"Membership status: {status.label}"
        + (f" ({status.hours:g} h a year)" if status.hours else " (no hours target)"),
        f"Time zone: {p.timezone}",
        f"Date order: {DATE_ORDERS.get(p.date_order, p.date_order)}",
        rec.day_line(p, scheme),
    ]
    if _studying_rule(scheme) is not None:
        lines.append(f"Studying for a degree: {'yes' if p.studying_he else 'no'}")
    lines += [
        f"Monthly nudge: {_nudge_label(p)}",
        f"Calendar events: {calendar_filter_label(p)}",
    ]
    if _paused_until(ctx):
        lines.append(f"Paused until {fmt.day(p.paused_until or ctx.today)} (/resume).")
    lines.append("What would you like to change?")
    choices = (
        *(Choice(SETTING.make(k), SETTINGS[k]) for k in _offered(ctx)),
        Choice(SETTING.make("done"), "Done"),
    )
    return Outgoing("\n".join(lines), choices)


def _settings_value_prompt(key: str, ctx: Context) -> Outgoing:
    if key == "scheme":
        return Outgoing(
            "Which professional body?",
            tuple(Choice(VALUE.make(s.id), s.name) for s in ordered_schemes(ctx)),
        )
    if key == "status":
        return Outgoing(
            "Which membership status?",
            tuple(Choice(VALUE.make(s.id), s.label) for s in ctx.scheme.statuses),
        )
    if key == "timezone":
        tz = timezone_prompt(ctx)
        return Outgoing(
            tz.text,
            tuple(Choice(VALUE.make(TIMEZONE.parse(c.id) or c.id), c.label) for c in tz.choices),
        )
    if key == "date_order":
        return Outgoing(
            "How should I read dates like 3/4?",
            tuple(Choice(VALUE.make(k), v) for k, v in DATE_ORDERS.items()),
        )
    if key == "nudges":
        return Outgoing(
            f"Your monthly progress message comes {_nudge_label(ctx.person)}. Type a day of "
            "the month and an hour to move it (e.g. '15 at 8' for the 15th at 08:00, "
            "'31' for the last day), or pick:",
            (
                Choice(VALUE.make("always"), "Every month"),
                Choice(VALUE.make("behind"), "Only when I'm behind"),
                Choice(VALUE.make("off"), "Off"),
            ),
        )
    if key == "calendar":
        return Outgoing(
            f"I ask about calendar events: {calendar_filter_label(ctx.person)}. Type your "
            "own keywords separated by commas, or pick:",
            (
                Choice(VALUE.make("keywords"), "Learning events (keywords)"),
                Choice(VALUE.make("all"), "All events"),
                Choice(VALUE.make("default"), "Default keywords"),
            ),
        )
    return Outgoing(
        "Are you studying for a Masters or other higher-education qualification?",
        (Choice(VALUE.make("yes"), "Yes"), Choice(VALUE.make("no"), "No")),
    )


def _paused_until(ctx: Context) -> date | None:
    """The day the person's pause ends, while it holds."""
    person = ctx.person
    return person.paused_until if sched.paused(person, ctx.snap.now) else None


def _pause(conv: Conv, args: str, ctx: Context) -> Step:
    text = re.sub(r"^(until|till|til|to)\b\s*", "", args.strip(), flags=re.IGNORECASE)
    if not text:
        now = _paused_until(ctx)
        state = f"You're paused until {fmt.day(now)}. " if now else ""
        return stay(
            conv,
            ctx,
            f"{state}Until when? e.g. /pause until 5 January — no monthly nudges, calendar "
            "prompts or reminders before that day. /resume starts them again.",
        )
    until = future_date(text, ctx)
    if until is None:
        return stay(
            conv, ctx, f"I couldn't read '{clip(text)}' as a date. Try /pause until 5 January."
        )
    if until == ctx.today:
        return stay(conv, ctx, f"{fmt.day(until)} is today. Pick a day ahead, e.g. 5 January.")
    if until < ctx.today:
        return stay(conv, ctx, f"{fmt.day(until)} has passed. Pick a day ahead, e.g. 5 January.")
    if (until - ctx.today).days > PAUSE_MAX_DAYS:
        return stay(conv, ctx, "I pause for up to a year. Pick a nearer day.")
    text = (
        f"Paused until {fmt.day(until)}: no monthly nudges, calendar prompts or reminders "
        "before then. /resume starts them again sooner."
    )
    return with_effects(conv, ctx, text, (UpdatePerson({"paused_until": until}),))


def _resume(conv: Conv, args: str, ctx: Context) -> Step:
    if _paused_until(ctx) is None:
        return stay(conv, ctx, "You're not paused: nudges and calendar prompts are on.")
    return with_effects(
        conv,
        ctx,
        "Welcome back: monthly nudges, calendar prompts and reminders are on again.",
        (UpdatePerson({"paused_until": None}),),
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _nudge_label(person: PersonView) -> str:
    if not person.nudges_enabled:
        return "off"
    day = "the last day" if person.nudge_day >= 31 else f"the {_ordinal(person.nudge_day)}"
    mode = "only when you're behind" if person.nudge_mode == "behind" else "every month"
    return f"{day} at {person.nudge_hour:02d}:00, {mode}"


# A nudge time is read word by word, and every word must mean something: '15th at 8am',
# 'last day at 18', 'on the 2nd at 18:00'. A sign, a fraction or a word that is not part
# of a day or an hour ('-1', '1 at 9.5', 'every 2nd tuesday') is refused, not skipped.
_NUDGE_TOKEN = re.compile(r"[0-9]+(?:st|nd|rd|th)?|[a-z]+|\S")
_NUDGE_FILLER = frozenset({"on", "the", "of", "every", "each", "month", "monthly", "day", ","})
_NUDGE_HOUR_WORDS = frozenset({"at", "@", "hour"})
_NUDGE_HELP = (
    "Type a day of the month from 1 to 31 (31: the last day) and an hour from 0 to 23, "
    "e.g. '15 at 8' for the 15th at 08:00, or choose every month, only when behind, or off."
)


def _nudge_changes(value: str) -> dict[str, object] | str:
    """Monthly nudge settings from a choice (always, behind, off) or text ('15 at 8')."""
    word = norm(value).replace("’", "'")
    if word in ("off", "never", "stop", "no", "none"):
        return {"nudges_enabled": False}
    if word in ("always", "on", "every month", "monthly", "yes"):
        return {"nudges_enabled": True, "nudge_mode": "always"}
    if "behind" in word:
        return {"nudges_enabled": True, "nudge_mode": "behind"}
    found = _nudge_time(_NUDGE_TOKEN.findall(word.rstrip(".!")))
    if found == _NUDGE_HELP:
        return f"I couldn't read '{clip(value)}' as a day and an hour. {_NUDGE_HELP}"
    if isinstance(found, str):
        return found
    day, hour = found
    changes: dict[str, object] = {"nudges_enabled": True}
    if day is not None:
        if not 1 <= day <= 31:
            return "The day of the month is 1 to 31 (31: the last day of every month)."
        changes["nudge_day"] = day
    if hour is not None:
        changes["nudge_hour"] = hour
    return changes


def _nudge_time(tokens: list[str]) -> tuple[int | None, int | None] | str:
    """(day, hour) from the words of a nudge time; what is wrong with them."""
    day: int | None = None
    hour: int | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        clock = _digits(token) and tokens[i + 1 : i + 2] in (["am"], ["pm"], [":"])
        if token in _NUDGE_HOUR_WORDS or clock:
            found, i = _nudge_hour(tokens, i if clock else i + 1)
            if isinstance(found, str) or hour is not None:
                return found if isinstance(found, str) else _NUDGE_HELP
            hour = found
            continue
        if token == "last" or _digits(token[0]):
            if day is not None:
                return _NUDGE_HELP
            day = 31 if token == "last" else int(token.rstrip("stndrh"))
        elif token not in _NUDGE_FILLER:
            return _NUDGE_HELP
        i += 1
    return (day, hour) if (day, hour) != (None, None) else _NUDGE_HELP


def _digits(token: str) -> bool:
    return token.isascii() and token.isdigit()


def _nudge_hour(tokens: list[str], i: int) -> tuple[int | str, int]:
    """The hour that starts at tokens[i] ('8', '8am', '18:00', '9.5'); the next index."""
    if i >= len(tokens) or not _digits(tokens[i]):
        return _NUDGE_HELP, i
    hour, i = int(tokens[i]), i + 1
    minutes = None
    after = tokens[i : i + 2]
    if len(after) == 2 and after[0] in (":", ".", ",") and _digits(after[1]):
        minutes, i = after[1], i + 2
    ampm = tokens[i] if tokens[i : i + 1] in (["am"], ["pm"]) else ""
    i += 1 if ampm else 0
    if minutes is not None and int(minutes) != 0:
        return "I send it on the hour: pick a whole hour such as 08:00.", i
    if ampm and not 1 <= hour <= 12:
        return "Hours look like 8, 8am, 18 or 18:00.", i
    if ampm:
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if not 0 <= hour <= 23:
        return "The hour is 0 to 23 (e.g. 8 or 18).", i
    return hour, i


def _studying(conv: Conv, args: str, ctx: Context) -> Step:
    word = norm(args)
    rule = ctx.scheme.balance
    studying = _studying_rule(ctx.scheme)
    if rule is None or studying is None:
        return stay(conv, ctx, _no_studying_rule(ctx.scheme))
    effect_note = (
        f" {ctx.scheme.name} then asks for {studying} categories instead of {rule.min_categories}."
    )
    if word in YES:
        return with_effects(
            conv,
            ctx,
            "Noted: you are studying for a Masters or other higher-education qualification."
            + effect_note,
            (UpdatePerson({"studying_he": True}),),
        )
    if word in NO:
        return with_effects(
            conv,
            ctx,
            "Noted: not studying for a higher-education qualification.",
            (UpdatePerson({"studying_he": False}),),
        )
    now = "You are" if ctx.person.studying_he else "You are not"
    return stay(
        conv,
        ctx,
        f"{now} recorded as studying for a Masters or other higher-education qualification. "
        f"/studying yes or /studying no changes it.{effect_note}",
    )


def _prompt(conv: Conv, ctx: Context) -> Outgoing:
    if conv.state == S.SETTINGS_MENU:
        return _settings_prompt(ctx)
    key = conv.data.field or ""
    if key == "bodies":
        return bodies.value_prompt(ctx)
    return rec.value_prompt(key, ctx) or _settings_value_prompt(key, ctx)


FLOW = Flow(
    name="settings",
    states=(S.SETTINGS_MENU, S.SETTINGS_VALUE),
    commands=(
        Command(
            "studying",
            _studying,
            help="/studying yes — you are studying for a Masters or other HE qualification "
            "(IES balance)",
            applies=lambda scheme: _studying_rule(scheme) is not None,
            help_rank=100,
            slashless=True,
            bare_only=True,
        ),
        Command(
            "pause",
            _pause,
            help="/pause until 5 January — no nudges, calendar prompts or reminders until then; "
            "/resume",
            help_rank=140,
            summary="Pause nudges and prompts, e.g. /pause until 5 January",
            menu_rank=110,
            slashless=True,
        ),
        Command("resume", _resume, slashless=True),
        Command(
            "settings",
            _settings,
            needs=bodies.settings_needs,
            help="/settings — name, membership number, professional body, status, time zone, "
            "date order,\n  full day, monthly nudge, calendar events (/settings name Sam Patel "
            "CEng, /settings day 7.5)",
            help_rank=150,
            summary="Professional body, status, time zone",
            menu_rank=130,
            essential=True,
            busy=True,
            also_in=(S.SETTINGS_MENU, S.SETTINGS_VALUE),  # /settings bodies IET as the answer
            slashless=True,
        ),
    ),
    transitions=(
        (S.IDLE, "/settings", S.SETTINGS_MENU),
        (S.IDLE, "/settings name or /settings number alone", S.SETTINGS_VALUE),
        (S.SETTINGS_MENU, "setting chosen", S.SETTINGS_VALUE),
        (S.SETTINGS_MENU, "done", S.IDLE),
        (S.SETTINGS_VALUE, "valid value: setting saved", S.SETTINGS_MENU),
    ),
    handlers={S.SETTINGS_MENU: _settings_menu, S.SETTINGS_VALUE: _settings_value},
    prompt=_prompt,
    needs=bodies.flow_needs,
)
