"""Onboarding: the professional body's scheme, then the time zone (two taps), on first
contact or /start. The kernel keeps a first message that is not a command and answers it
once onboarding is done."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache

from bot.core.buttons import ButtonId
from bot.core.model import Choice, Effect, Incoming, Kind, Outgoing, UpdatePerson
from bot.core.schemes import Scheme
from bot.core.zones import is_zone, region_zones
from bot.dialogue.common import clip, norm, say, stay, with_person
from bot.dialogue.conversation import Context, Conv, Data, State, Step
from bot.dialogue.flow import Command, Flow, prompt

S = State

COMMON_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Singapore",
    "UTC",
)
SCHEME = ButtonId("scheme")  # scheme:<scheme id>
TIMEZONE = ButtonId("tz")  # tz:<IANA zone>


def begin(conv: Conv, event: Incoming, ctx: Context, command: str) -> Step:
    """The onboarding gate: someone not set up wrote; keep their message for later."""
    pending = None
    if command not in ("", "start", "cancel", "help") or (not command and event.text.strip()):
        pending = {"kind": str(event.kind), "text": event.text, "command": event.command}
        pending["args"] = event.args
    if event.kind == Kind.CHOICE:
        pending = None
    intro = "Hello! I help you log CPD in under a minute."
    if pending:
        intro += " I'll come back to your message right after two quick questions."
    data = Data(pending=pending)
    return Step(Conv(S.ONBOARD_SCHEME, data), (say(intro), _scheme_prompt(ctx)))


def _start(conv: Conv, args: str, ctx: Context) -> Step:
    text = "Hello! Two quick taps to set you up."
    return Step(Conv(S.ONBOARD_SCHEME, Data(undo=conv.data.undo)), (say(text), _scheme_prompt(ctx)))


def _scheme_prompt(ctx: Context) -> Outgoing:
    choices = tuple(Choice(SCHEME.make(s.id), s.name) for s in ordered_schemes(ctx))
    return Outgoing("Which professional body's CPD scheme do you follow?", choices)


def ordered_schemes(ctx: Context) -> list[Scheme]:
    schemes = sorted(ctx.schemes.values(), key=lambda s: (s.id == "generic", s.name.lower()))
    return schemes


def match_scheme(ctx: Context, event: Incoming) -> Scheme | None:
    if event.kind == Kind.CHOICE:
        value = SCHEME.parse(event.choice)
        return ctx.schemes.get(value) if value is not None else None
    return scheme_named(ctx, event.text)


def scheme_named(ctx: Context, text: str) -> Scheme | None:
    """The scheme a person typed: its id, name, body, or one part of a 'A / B' name."""
    wanted = norm(text)
    for scheme in ctx.schemes.values():
        names = {norm(scheme.id), norm(scheme.name), norm(scheme.body)}
        if wanted in names or any(norm(part) == wanted for part in scheme.name.split("/")):
            return scheme
    return None


def _onboard_scheme(conv: Conv, event: Incoming, ctx: Context) -> Step:
    scheme = match_scheme(ctx, event)
    if scheme is None:
        return stay(conv, ctx, "Please pick one of these schemes.")
    effects = (UpdatePerson({"scheme_id": scheme.id, "status_id": scheme.default_status}),)
    person = replace(ctx.person, scheme_id=scheme.id, status_id=scheme.default_status)
    ctx = with_person(ctx, person)
    nxt = Conv(S.ONBOARD_TIMEZONE, conv.data)
    return Step(nxt, (prompt(nxt, ctx),), effects)


def timezone_prompt(ctx: Context) -> Outgoing:
    zones = list(COMMON_ZONES)
    # The platform's zone for this user (this event's, or the one stored when they first
    # wrote) goes first, so most people confirm it with one tap.
    hint = ctx.snap.timezone_hint or (ctx.person.timezone if ctx.person.timezone != "UTC" else None)
    if hint and zone_named(hint):
        zones = [hint] + [z for z in zones if z != hint]
    choices = tuple(Choice(TIMEZONE.make(z), z.replace("_", " ")) for z in zones)
    return Outgoing(
        "Which time zone are you in? Pick one, or type a city or zone (e.g. Europe/Paris).",
        choices,
    )


# Names of UTC itself that people type; each is stored as "UTC".
_UTC_NAMES = ("gmt", "utc", "etc/utc", "etc/gmt", "z", "zulu", "universal", "greenwich")


@cache
def _zone_index() -> dict[str, str]:
    """Region zones by their lower-case name and by their city ('new york')."""
    index: dict[str, str] = dict.fromkeys(_UTC_NAMES, "UTC")
    for name in sorted(region_zones()):
        index[name.lower()] = name
        index.setdefault(name.rsplit("/", 1)[-1].replace("_", " ").lower(), name)
    return index


def zone_named(text: str) -> str | None:
    """The time zone a person typed or tapped: a region zone, its city, or UTC."""
    key = " ".join(text.strip().replace("_", " ").split()).lower()
    if not key or len(key) > 64:
        return None
    found = _zone_index().get(key) or _zone_index().get(key.replace(" ", "_"))
    return found if found is not None and is_zone(found) else None


def _onboard_timezone(conv: Conv, event: Incoming, ctx: Context) -> Step:
    value = event.text
    if event.kind == Kind.CHOICE:
        picked = TIMEZONE.parse(event.choice)
        value = event.choice if picked is None else picked
    zone = zone_named(value)
    if zone is None:
        return stay(
            conv,
            ctx,
            f"I don't know the time zone '{clip(value)}'. Try a city or a zone like Europe/London.",
        )
    person = replace(ctx.person, timezone=zone, onboarded=True)
    ctx = with_person(ctx, person)
    effects: tuple[Effect, ...] = (UpdatePerson({"timezone": zone, "onboarded": True}),)
    scheme = ctx.scheme
    target = scheme.target_hours(person.status_id)
    goal = f"a target of {target:g} h a year" if target else "no fixed hours target"
    done = say(
        f"All set: {scheme.name} ({goal}), time zone {zone}. "
        f"Log an activity with /log, or in one line: /log {scheme.example_log}"
    )
    # A first message kept by the onboarding gate stays pending: the kernel answers it next.
    data = Data(undo=conv.data.undo, pending=conv.data.pending or None)
    return Step(Conv(S.IDLE, data), (done,), effects)


def event_from(event: Incoming, pending: Mapping[str, str]) -> Incoming:
    return Incoming(
        event.identity,
        Kind(pending.get("kind", "text")),
        text=pending.get("text", ""),
        command=pending.get("command", ""),
        args=pending.get("args", ""),
    )


def _prompt(conv: Conv, ctx: Context) -> Outgoing:
    if conv.state == S.ONBOARD_SCHEME:
        return _scheme_prompt(ctx)
    return timezone_prompt(ctx)


def _cancel(conv: Conv, ctx: Context) -> str:
    return (
        f"OK, I'll use {ctx.scheme.name} and the time zone {ctx.person.timezone} for now; "
        "/settings changes them any time."
    )


_REPLAYED = "time zone chosen, replaying the first message"

FLOW = Flow(
    name="onboarding",
    states=(S.ONBOARD_SCHEME, S.ONBOARD_TIMEZONE),
    commands=(
        Command(
            "start",
            _start,
            busy=True,
            also_in=(S.ONBOARD_SCHEME, S.ONBOARD_TIMEZONE),
            slashless=True,
        ),
    ),
    transitions=(
        (S.IDLE, "first contact or /start", S.ONBOARD_SCHEME),
        (S.ONBOARD_SCHEME, "scheme chosen", S.ONBOARD_TIMEZONE),
        (S.ONBOARD_TIMEZONE, "time zone chosen", S.IDLE),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.LOG_TITLE),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.LOG_DATE),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.LOG_HOURS),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.LOG_CATEGORY),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.LOG_STRUCTURED),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.LOG_REFLECT),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.REFLECT_PENDING),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.DELETE_CONFIRM),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.EDIT_FIELD),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.SETTINGS_MENU),
        (S.ONBOARD_TIMEZONE, _REPLAYED, S.PLAN_MENU),
        # Erasure is open to anyone, set up or not (the kernel's onboarding gate).
        (S.ONBOARD_SCHEME, "/forget", S.FORGET_CONFIRM),
        (S.ONBOARD_TIMEZONE, "/forget", S.FORGET_CONFIRM),
    ),
    handlers={S.ONBOARD_SCHEME: _onboard_scheme, S.ONBOARD_TIMEZONE: _onboard_timezone},
    prompt=_prompt,
    cancel=_cancel,
    cancel_effects=(UpdatePerson({"onboarded": True}),),
)
