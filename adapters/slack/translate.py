"""Slack payloads -> platform-free `Incoming` events (pure functions, no API calls)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.slack.blocks import form_values, plain
from bot.core.model import IdentityKey, Incoming, Kind
from bot.services.commands import busy_commands, slashless_words, takes

PLATFORM = "slack"
# Words that make `/cpd <word> ...` that command; anything else is a quick log line.
COMMAND_WORDS = slashless_words() | busy_commands()


@dataclass(frozen=True)
class Profile:
    """What `users.info` tells us about a person: their name and IANA time zone."""

    name: str = ""
    tz: str | None = None

    @staticmethod
    def of(user: Mapping[str, Any]) -> Profile:
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or ""
        )
        tz = user.get("tz")
        return Profile(str(name), str(tz) if tz else None)


def identity(team_id: str, user_id: str) -> IdentityKey:
    """(team, user): the same user id in two workspaces is two people."""
    return IdentityKey(PLATFORM, user_id, team_id)


def is_direct_message(event: Mapping[str, Any]) -> bool:
    """A message a person typed in their DM with the bot (not an edit, a bot, a join, or
    a file without words)."""
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(str(event.get("text") or "").strip())
    )


FILES_MAX = 10  # files taken from one message (Slack allows ten per message)


def is_file_share(event: Mapping[str, Any]) -> bool:
    """Files a person shared in their DM with the bot (`message` event, subtype
    `file_share`, its `files` list; any text is their caption)."""
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and event.get("subtype") == "file_share"
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(shared_files(event))
    )


def shared_files(event: Mapping[str, Any]) -> list[str]:
    """The ids of the files a message shared, in order (for `files.info`)."""
    files = event.get("files")
    if not isinstance(files, list):
        return []
    ids = [str(f["id"]) for f in files if isinstance(f, Mapping) and f.get("id")]
    return ids[:FILES_MAX]


def file_share(
    event: Mapping[str, Any],
    key: IdentityKey,
    profile: Profile,
    event_id: str | None,
    index: int,
) -> Incoming:
    """The `index`-th file of a file_share message, without its bytes (fetched next);
    the caption goes with the first file only."""
    dedupe = None
    if event_id:
        dedupe = f"event:{event_id}" if index == 0 else f"event:{event_id}:{index}"
    return Incoming(
        key,
        Kind.FILE,
        text=plain(str(event.get("text") or "")) if index == 0 else "",
        chat_id=event.get("channel"),
        display_name=profile.name,
        timezone_hint=profile.tz,
        dedupe_key=dedupe,
        sent_at=sent_at(event.get("ts")),
    )


def direct_message(
    event: Mapping[str, Any], key: IdentityKey, profile: Profile, event_id: str | None
) -> Incoming:
    """A DM: the same dialogue as the console (slash-less command words work when idle)."""
    return Incoming.text_of(
        key,
        plain(str(event.get("text") or "")),
        chat_id=event.get("channel"),
        display_name=profile.name,
        timezone_hint=profile.tz,
        dedupe_key=f"event:{event_id}" if event_id else None,
        sent_at=sent_at(event.get("ts")),
    )


def sent_at(ts: object) -> datetime | None:
    """A message's `ts` ("1700000000.000100", seconds since the epoch) as a UTC time."""
    try:
        return datetime.fromtimestamp(float(str(ts)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def mention(
    event: Mapping[str, Any],
    key: IdentityKey,
    profile: Profile,
    event_id: str | None,
    bot_user_id: str | None,
) -> Incoming:
    """An @mention in a channel: not private, so the dialogue shows nothing personal."""
    return Incoming.text_of(
        key,
        plain(str(event.get("text") or ""), drop_user=bot_user_id),
        private=False,
        display_name=profile.name,
        timezone_hint=profile.tz,
        dedupe_key=f"event:{event_id}" if event_id else None,
    )


def slash_command(body: Mapping[str, Any], key: IdentityKey, profile: Profile) -> Incoming | None:
    """`/cpd status` -> that command; `/cpd 1.5h webinar` -> /log; `/cpd` alone -> None (form)."""
    text = plain(str(body.get("text") or ""))
    if not text:
        return None
    head, _, rest = text.partition(" ")
    word = head.removeprefix("/").lower()
    known = word in COMMAND_WORDS and takes(word, rest)
    command, args = (word, rest.strip()) if known else ("log", text)
    trigger = body.get("trigger_id")
    return Incoming(
        key,
        Kind.COMMAND,
        text=text,
        command=command,
        args=args,
        display_name=profile.name,
        timezone_hint=profile.tz,
        dedupe_key=f"command:{trigger}" if trigger else None,
    )


def choice(
    value: str, key: IdentityKey, profile: Profile, dedupe_key: str | None, chat_id: str | None
) -> Incoming:
    """A button press: the choice id the button carried in its value."""
    return Incoming(
        key,
        Kind.CHOICE,
        choice=value,
        chat_id=chat_id,
        display_name=profile.name,
        timezone_hint=profile.tz,
        dedupe_key=dedupe_key,
    )


def press_key(body: Mapping[str, Any], team_id: str) -> str | None:
    """A message's buttons count once: a second press on the same message is a duplicate.

    Presses in App Home (a view, pressed again and again) are keyed by their trigger.
    """
    container = body.get("container") or {}
    if container.get("type") == "message" and container.get("message_ts"):
        return f"press:{team_id}:{container.get('channel_id')}:{container['message_ts']}"
    trigger = body.get("trigger_id")
    return f"action:{trigger}" if trigger else None


def form(
    view: Mapping[str, Any], key: IdentityKey, profile: Profile, trigger: str | None
) -> Incoming:
    """A submitted entry modal: field id -> raw value."""
    return Incoming(
        key,
        Kind.FORM,
        form=form_values(view),
        display_name=profile.name,
        timezone_hint=profile.tz,
        dedupe_key=f"view:{trigger}" if trigger else None,
    )
