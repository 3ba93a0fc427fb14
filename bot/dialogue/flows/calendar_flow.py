"""Calendars: /calendar add|list|remove|all|keywords, and the buttons of a calendar prompt
(Log it / Not CPD / Later), answered in any state."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, cast

from bot.core import agenda as sched
from bot.core import text as fmt
from bot.core.buttons import CALENDAR_PREFIX, parse_calendar
from bot.core.model import AddFeed, DecideOccurrence, Incoming, PersonView, RemoveFeed, UpdatePerson
from bot.core.snapshot import Needs
from bot.core.zones import local_now
from bot.dialogue.common import TITLE_MAX, entry_number, norm, say, stay, tidy, with_effects
from bot.dialogue.conversation import Context, Conv, Data, Draft, State, Step
from bot.dialogue.flow import Command, Flow, doing
from bot.dialogue.flows import calendar_accounts as accounts
from bot.dialogue.flows.log import advance, guess, understood

S = State

MAX_FEEDS = 5
MAX_KEYWORDS = 30
KEYWORD_MAX = 40
KEYWORDS_TOTAL_MAX = 1000  # all of them, joined by ", " (the length of their column)


def _default_keywords() -> tuple[str, ...]:
    from bot.core.calendar_rules import DEFAULT_KEYWORDS

    return tuple(DEFAULT_KEYWORDS)


def calendar_filter_label(person: PersonView) -> str:
    if person.calendar_all_events:
        return "all events"
    words = sched.keywords_of(person.calendar_keywords, _default_keywords())
    shown = ", ".join(words[:8]) + (", …" if len(words) > 8 else "")
    mine = "your keywords" if person.calendar_keywords is not None else "keywords"
    return f"learning events ({mine}: {shown}; or #cpd in the event)"


def _calendar_usage(ctx: Context) -> str:
    return (
        "Connect a calendar and I'll ask, soon after a training event ends, whether to log "
        "it — title, date and hours already filled in.\n"
        "/calendar add <ICS address> — e.g. Google Calendar's 'Secret address in iCal "
        "format', or an Outlook published calendar (ICS link)\n"
        "/calendar outlook — sign in to Outlook / Microsoft 365 (also: microsoft, office365)\n"
        "/calendar caldav <server address> <user name> — iCloud, Fastmail, Nextcloud (also: "
        "/calendar icloud <Apple ID>, /calendar fastmail <user name>, /calendar nextcloud "
        "<address> <user name>)\n"
        "/calendar list — your calendars; /calendar remove 1 — disconnect one\n"
        "/calendar all — ask about every event; /calendar keywords training, course — "
        "only events with these words (or #cpd)\n"
        f"Now: {calendar_filter_label(ctx.person)}."
    )


def _calendar(conv: Conv, args: str, ctx: Context) -> Step:
    word, _, rest = args.strip().partition(" ")
    word = word.lower()
    rest = rest.strip()
    if word.startswith(("http://", "https://", "webcal://")):
        word, rest = "add", args.strip()
    if word in ("", "help"):
        return stay(conv, ctx, _calendar_usage(ctx))
    if word == "add":
        return _calendar_add(conv, rest, ctx)
    if word == "list":
        return stay(conv, ctx, _calendar_list(ctx))
    if word in accounts.ACCOUNT_WORDS:
        if len(ctx.snap.feeds) >= MAX_FEEDS:
            return stay(conv, ctx, _too_many(len(ctx.snap.feeds)))
        return accounts.connect(conv, word, rest, ctx)
    if word in ("remove", "delete", "rm"):
        return _calendar_remove(conv, rest, ctx)
    if word in ("all", "keywords", "keyword", "default"):
        value = {"all": "all", "default": "default"}.get(word, rest or "keywords")
        found = calendar_filter_changes(value)
        if isinstance(found, str):
            return stay(conv, ctx, found)
        person = replace(ctx.person, **cast(dict[str, Any], found))
        return with_effects(
            conv,
            ctx,
            f"Calendar events: I'll ask about {calendar_filter_label(person)}.",
            (UpdatePerson(found),),
        )
    return stay(conv, ctx, _calendar_usage(ctx))


def _owner_emails(url: str, extra: str) -> tuple[str, ...]:
    """Whose calendar it is (to skip events they declined): an address typed after the URL,
    or the calendar id of a Google secret address (/calendar/ical/<email>/private-…)."""
    from urllib.parse import unquote, urlsplit

    found: list[str] = []
    for word in extra.replace(",", " ").split():
        if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", word):
            found.append(word.lower())
    try:
        parts = urlsplit(url).path.split("/")
    except ValueError:
        parts = []
    if "ical" in parts:
        candidate = unquote(parts[parts.index("ical") + 1]) if parts[-1:] != ["ical"] else ""
        if re.fullmatch(r"[^@\s/]+@[^@\s/]+\.[^@\s/]+", candidate):
            found.append(candidate.lower())
    return tuple(dict.fromkeys(found))


def _calendar_add(conv: Conv, rest: str, ctx: Context) -> Step:
    from bot.core.calendar_rules import FeedError, validate_feed_url

    url, _, extra = rest.partition(" ")
    if not url:
        return stay(
            conv,
            ctx,
            "Send the calendar's ICS address after /calendar add — in Google Calendar: "
            "Settings → your calendar → 'Secret address in iCal format'.",
        )
    try:
        clean = validate_feed_url(url, allow_private=ctx.snap.allow_private_feeds)
    except FeedError as exc:
        return stay(conv, ctx, f"I can't use that calendar address: {exc}")
    feeds = ctx.snap.feeds
    same = next((f for f in feeds if f.url == clean), None)
    if same is not None:
        return stay(conv, ctx, f"That calendar is already connected (number {same.number}).")
    if len(feeds) >= MAX_FEEDS:
        return stay(conv, ctx, _too_many(len(feeds)))
    text = (
        f"Connected calendar {len(feeds) + 1} ({sched.mask_url(clean)}). I'll check it every "
        "few minutes and, soon after an event ends, ask whether to log it — for "
        f"{calendar_filter_label(ctx.person)}. The address is a secret: I never show it "
        "in full. /calendar list shows your calendars."
    )
    effect = AddFeed(clean, _owner_emails(clean, extra))
    return with_effects(conv, ctx, text, (effect,))


def _too_many(count: int) -> str:
    return f"You have {count} calendars connected, the most I follow. /calendar remove N first."


def _calendar_list(ctx: Context) -> str:
    feeds = ctx.snap.feeds
    waiting = accounts.signin_line(ctx)
    if not feeds:
        head = "No calendar connected. "
        return head + (waiting if waiting else _calendar_usage(ctx))
    lines = ["Your calendars:"]
    for f in feeds:
        if f.failures:
            state = f"can't be read just now ({f.failures} failed attempt(s) in a row)"
        elif f.last_ok_at is not None:
            local = local_now(f.last_ok_at, ctx.person.timezone)
            state = f"last read {fmt.day(local.date(), ctx.today)} {local:%H:%M}"
        else:
            state = "not read yet"
        lines.append(f"{f.number}. {accounts.feed_label(f)} — {state}")
    if waiting:
        lines.append(waiting)
    lines.append(f"I ask about {calendar_filter_label(ctx.person)}.")
    lines.append("/calendar remove N disconnects one.")
    return "\n".join(lines)


def _calendar_remove(conv: Conv, rest: str, ctx: Context) -> Step:
    number = entry_number(rest)
    feeds = ctx.snap.feeds
    feed = next((f for f in feeds if f.number == number), None)
    if feed is None and not rest.strip():
        cancelled = accounts.cancel_signin(conv, ctx)
        if cancelled is not None:
            return cancelled
    if feed is None:
        if not feeds:
            return stay(conv, ctx, "No calendar is connected.")
        if len(feeds) == 1:
            return stay(conv, ctx, "Which one? /calendar remove 1 (/calendar list shows it).")
        return stay(
            conv, ctx, f"Which one? /calendar remove 1 to {len(feeds)} (/calendar list shows them)."
        )
    text = f"Disconnected calendar {feed.number} ({accounts.feed_label(feed)})."
    if feed.kind != "ics":
        text += " Its sign-in is deleted."
    return with_effects(conv, ctx, text, (RemoveFeed(feed.feed_id),))


def calendar_filter_changes(value: str) -> dict[str, object] | str:
    word = norm(value)
    if word in ("all", "all events", "every event"):
        return {"calendar_all_events": True}
    if word in ("keywords", "learning", "learning events", "learning events (keywords)"):
        return {"calendar_all_events": False}
    if word in ("default", "default keywords", "defaults", "reset"):
        return {"calendar_all_events": False, "calendar_keywords": None}
    words = [w.strip().lstrip("#").lower() for w in value.split(",")]
    words = list(dict.fromkeys(" ".join(w.split()) for w in words if w.strip()))
    if not words:
        return "Type keywords separated by commas, e.g. training, course, webinar."
    if len(words) > MAX_KEYWORDS or any(len(w) > KEYWORD_MAX for w in words):
        return (
            f"Up to {MAX_KEYWORDS} keywords of up to {KEYWORD_MAX} characters each, "
            "separated by commas."
        )
    joined = ", ".join(words)
    if len(joined) > KEYWORDS_TOTAL_MAX:
        return (
            f"Those keywords come to {len(joined):,} characters; I keep up to "
            f"{KEYWORDS_TOTAL_MAX:,} in all. Use fewer or shorter ones, separated by commas."
        )
    return {"calendar_all_events": False, "calendar_keywords": joined}


def _calendar_choice(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """A button of a calendar prompt: Log it / Not CPD / Later (any state, any time)."""
    button = parse_calendar(event.choice)
    action = button.action if button else None
    occ = ctx.snap.occurrence
    if action is None or occ is None:
        return stay(
            conv, ctx, "I no longer have that calendar event (was its calendar disconnected?)."
        )
    title = f"'{occ.title}'"
    if occ.decision == "logged":
        text = f"{title} is already logged as #{occ.entry_number}."
        if action == "no" and occ.entry_number:
            text += f" /delete {occ.entry_number} removes it if it wasn't CPD."
        return stay(conv, ctx, text)
    if action == "no":
        if occ.decision == "not_cpd":
            return stay(conv, ctx, f"Already noted: {title} is not CPD.")
        return with_effects(
            conv,
            ctx,
            f"OK, {title} is not CPD; I won't ask about it again.",
            (DecideOccurrence(occ.id, "not_cpd"),),
        )
    if action == "later":
        if occ.decision == "later":
            return stay(conv, ctx, f"I'll ask about {title} again later, once.")
        if occ.decision == "reasked":
            return stay(
                conv, ctx, f"I've asked about {title} again already. /log it whenever you like."
            )
        at = sched.later_time(ctx.person.timezone, ctx.snap.now)
        when = sched.describe_later(ctx.person.timezone, ctx.snap.now, at)
        return with_effects(
            conv,
            ctx,
            f"OK, I'll ask about {title} again {when}.",
            (DecideOccurrence(occ.id, "later", remind_at=at),),
        )
    if conv.state != S.IDLE:
        return stay(
            conv,
            ctx,
            f"We're in the middle of {doing(conv)}. Finish it (or /cancel), then press "
            f"Log it again for {title}.",
        )
    day = min(local_now(occ.start, ctx.person.timezone).date(), ctx.today)
    draft = Draft(
        title=tidy(occ.title)[:TITLE_MAX] or "Calendar event",
        activity_date=day,
        minutes=occ.minutes,
        source="calendar",
        occurrence=occ.id,
    )
    guess(draft, ctx)  # 'Webinar: grounding' is an event: the echo shows it, one tap changes it
    intro = say("Logging " + understood(draft, ctx) + ".")
    return advance(Conv(S.IDLE, Data(draft=draft, undo=conv.data.undo)), ctx, [intro])


FLOW = Flow(
    name="calendar",
    commands=(
        Command(
            "calendar",
            _calendar,
            needs=lambda args: Needs(feeds=True),
            help="/calendar add <ICS address> — after a training event in your calendar ends, "
            "I ask whether\n  to log it (/calendar outlook, /calendar caldav <server> <user>, "
            "/calendar list,\n  /calendar remove 1, /calendar all, /calendar keywords a, b)",
            help_rank=130,
            summary="Connect a calendar for prompts after events",
            menu_rank=100,
            essential=True,
            slashless=True,
        ),
    ),
    transitions=(
        (S.IDLE, "calendar prompt: Log it", S.LOG_CATEGORY),
        (S.IDLE, "calendar prompt: Log it (all-day event: hours asked)", S.LOG_HOURS),
    ),
    buttons={CALENDAR_PREFIX: _calendar_choice},
)
