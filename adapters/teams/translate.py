"""Teams activities -> platform-free `Incoming` events (pure functions, no API calls).

Activities are Bot Framework Activity objects as Teams sends them (Microsoft Learn,
"Conversation basics" and the Bot Framework Activity schema): `type`, `id`, `timestamp`,
`serviceUrl`, `channelId` ("msteams"), `from` (`id`, `name`, `aadObjectId`),
`conversation` (`id`, `conversationType` personal | groupChat | channel, `tenantId`),
`channelData.tenant.id`, `text`, `localTimezone`; an Adaptive Card `Action.Submit` press
arrives as a message activity with `value` (the button's data) and `replyToId` (the card).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.model import IdentityKey, Incoming, Kind
from bot.services.commands import essential_menu

PLATFORM = "teams"
CHOICE_FIELD = "cpd"  # Action.Submit data: {"cpd": "<choice id>", ...}
# The quick form's Save (Action.Submit) data: {"cpd_form": <how many times it was drawn>};
# the submit's `value` holds that and every input, by field id.
FORM_FIELD = "cpd_form"
# A secret's card (a CalDAV password): its Action.Submit data is {"cpd_secret": "<field>"},
# and the submit's `value` also holds the password input, by field id.
SECRET_FIELD = "cpd_secret"
# Sent alone, with or without a slash, these open the quick form: "form", and "cpd" as
# Slack's `/cpd` alone does. Neither is a dialogue command (bot/dialogue/registry.py).
FORM_WORDS = frozenset({"form", "cpd"})
# What a person sees in the app's command menu and sends by picking it: the ten commands
# the registry marks essential, titles without the slash (cpdbot/teams_package.py). Sent
# alone, each runs that command.
MENU_TITLES = frozenset(name.lower() for name, _ in essential_menu())
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^<>]+>")


@dataclass(frozen=True)
class Where:
    """Where an activity came from and who sent it (None: not a person we can tell)."""

    service_url: str
    conversation_id: str
    personal: bool
    identity: IdentityKey | None


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def tenant_of(activity: Mapping[str, Any]) -> str:
    conversation = _dict(activity.get("conversation"))
    tenant = conversation.get("tenantId") or _dict(
        _dict(activity.get("channelData")).get("tenant")
    ).get("id")
    return str(tenant or "")


def where(activity: Mapping[str, Any]) -> Where:
    conversation = _dict(activity.get("conversation"))
    sender = _dict(activity.get("from"))
    tenant, aad = tenant_of(activity), str(sender.get("aadObjectId") or "")
    key = IdentityKey(PLATFORM, aad, tenant) if tenant and aad else None
    return Where(
        service_url=str(activity.get("serviceUrl") or ""),
        conversation_id=str(conversation.get("id") or ""),
        personal=conversation.get("conversationType") == "personal",
        identity=key,
    )


def short(text: str, limit: int) -> str:
    """`text` if short enough, else a digest of it (database keys hold 200 characters)."""
    if len(text) <= limit:
        return text
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def activity_key(activity: Mapping[str, Any]) -> str | None:
    """The inbox row's name: conversation and activity id (a repeat has the same)."""
    activity_id = activity.get("id")
    if not activity_id:
        return None
    conversation = str(_dict(activity.get("conversation")).get("id") or "")
    return f"activity:{short(conversation, 40)}:{short(str(activity_id), 120)}"


def press_key(activity: Mapping[str, Any]) -> str | None:
    """A card's buttons count once: a second press on the same card is a repeat."""
    card = activity.get("replyToId")
    if not card:
        return activity_key(activity)
    conversation = str(_dict(activity.get("conversation")).get("id") or "")
    return f"press:{short(conversation, 40)}:{short(str(card), 120)}"


def pressed_choice(activity: Mapping[str, Any]) -> str | None:
    """The choice id a card button carried, if this activity is a press of one of ours."""
    value = activity.get("value")
    if isinstance(value, Mapping) and isinstance(value.get(CHOICE_FIELD), str):
        return str(value[CHOICE_FIELD])
    return None


def asks_for_form(activity: Mapping[str, Any]) -> bool:
    """A typed 'form' (or 'cpd', either with a slash): send the quick form."""
    if activity.get("value") is not None:
        return False
    text = plain(str(activity.get("text") or "")).lower()
    return text.removeprefix("/") in FORM_WORDS


def form_round(activity: Mapping[str, Any]) -> int | None:
    """How many times the submitted form had been drawn (None: not a form submit)."""
    value = activity.get("value")
    if not isinstance(value, Mapping) or FORM_FIELD not in value:
        return None
    try:
        return max(1, int(value[FORM_FIELD]))
    except (TypeError, ValueError):
        return 1


def secret_field(activity: Mapping[str, Any]) -> str | None:
    """The field a secret's card asked for, if this activity is its submission."""
    value = activity.get("value")
    if isinstance(value, Mapping) and isinstance(value.get(SECRET_FIELD), str):
        return str(value[SECRET_FIELD])
    return None


def form_values(activity: Mapping[str, Any]) -> dict[str, str]:
    """A submitted form's inputs: field id -> raw value ('' when left empty)."""
    values: dict[str, str] = {}
    for name, value in _dict(activity.get("value")).items():
        if name != FORM_FIELD and (value is None or isinstance(value, str | int | float)):
            values[str(name)] = "" if value is None else str(value)
    return values


def form_key(activity: Mapping[str, Any]) -> str | None:
    """Each drawing of a form is saved once: a double click on Save is a repeat, while the
    same card re-drawn with its errors is submitted anew."""
    card = activity.get("replyToId")
    if not card:
        return activity_key(activity)
    conversation = str(_dict(activity.get("conversation")).get("id") or "")
    drawn = form_round(activity) or 1
    return f"form:{short(conversation, 40)}:{short(str(card), 110)}:{drawn}"


def plain(text: str) -> str:
    """What a person typed: mentions of the bot dropped, tags and entities decoded."""
    return html.unescape(_TAG.sub("", _MENTION.sub("", text))).strip()


def sent_at(activity: Mapping[str, Any]) -> datetime | None:
    stamp = activity.get("timestamp")
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def incoming(activity: Mapping[str, Any], key: IdentityKey) -> Incoming:
    """A personal-chat message activity: typed text, a command, or a card press."""
    extra: dict[str, Any] = {
        "display_name": str(_dict(activity.get("from")).get("name") or ""),
        "timezone_hint": str(activity.get("localTimezone") or "") or None,
        "sent_at": sent_at(activity),
    }
    field = secret_field(activity)
    if field is not None:  # only the secret's own input, whatever else rode along
        typed = _dict(activity.get("value")).get(field)
        secret = {field: typed if isinstance(typed, str) else ""}
        return Incoming(key, Kind.FORM, form=secret, dedupe_key=press_key(activity), **extra)
    if form_round(activity) is not None:
        values = form_values(activity)
        return Incoming(key, Kind.FORM, form=values, dedupe_key=form_key(activity), **extra)
    choice = pressed_choice(activity)
    if choice is not None:
        return Incoming(key, Kind.CHOICE, choice=choice, dedupe_key=press_key(activity), **extra)
    text = plain(str(activity.get("text") or ""))
    dedupe = activity_key(activity)
    if text.lower() in MENU_TITLES:
        return Incoming(
            key, Kind.COMMAND, text=text, command=text.lower(), dedupe_key=dedupe, **extra
        )
    return Incoming.text_of(key, text, dedupe_key=dedupe, **extra)


DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
FILES_MAX = 10  # files taken from one message


@dataclass(frozen=True)
class FileLink:
    """A file a person sent in the personal chat, to fetch before the engine sees it.

    A file (`DOWNLOAD_INFO`: `content.downloadUrl`, pre-authorised, no token) or an image
    pasted in the message (`image/*`: `contentUrl` on the connector, which wants the bot's
    token); Microsoft Learn, "Send and receive files using bot" and "Receive images"."""

    url: str
    name: str
    needs_token: bool
    mime_hint: str = ""


def file_links(activity: Mapping[str, Any]) -> list[FileLink]:
    """The files and inline images a message activity carries, in order."""
    links: list[FileLink] = []
    attachments = activity.get("attachments")
    for n, item in enumerate(attachments if isinstance(attachments, list) else []):
        attachment = _dict(item)
        kind = str(attachment.get("contentType") or "")
        name = str(attachment.get("name") or "")
        if kind == DOWNLOAD_INFO:
            content = _dict(attachment.get("content"))
            url = str(content.get("downloadUrl") or "")
            file_type = str(content.get("fileType") or "")
            fallback = f"file-{n + 1}.{file_type}" if file_type else f"file-{n + 1}"
            if url:
                links.append(FileLink(url, name or fallback, False))
        elif kind.startswith("image/") and attachment.get("contentUrl"):
            hint = "" if kind == "image/*" else kind
            suffix = {"image/png": ".png", "image/gif": ".gif"}.get(kind, ".jpg")
            links.append(
                FileLink(
                    str(attachment["contentUrl"]), name or f"image-{n + 1}{suffix}", True, hint
                )
            )
    return links[:FILES_MAX]


def file_event(activity: Mapping[str, Any], key: IdentityKey, index: int) -> Incoming:
    """The `index`-th file of a message, without its bytes (fetched next); the message's
    text, if any, goes with the first file as its caption."""
    dedupe = activity_key(activity)
    if dedupe is not None and index > 0:
        dedupe = f"{dedupe[:190]}:{index}"
    return Incoming(
        key,
        Kind.FILE,
        text=plain(str(activity.get("text") or "")) if index == 0 else "",
        display_name=str(_dict(activity.get("from")).get("name") or ""),
        timezone_hint=str(activity.get("localTimezone") or "") or None,
        sent_at=sent_at(activity),
        dedupe_key=dedupe,
    )


def pressed_label(activity: Mapping[str, Any]) -> str:
    value = _dict(activity.get("value"))
    return str(value.get("label") or value.get(CHOICE_FIELD) or "")


def pressed_text(activity: Mapping[str, Any]) -> str:
    return str(_dict(activity.get("value")).get("q") or "")


def bot_added(activity: Mapping[str, Any]) -> bool:
    """A `conversationUpdate` whose `membersAdded` names the bot itself (`recipient.id`):
    the app was installed in this conversation (Microsoft Learn, "Conversation events")."""
    if activity.get("type") != "conversationUpdate":
        return False
    bot_id = _dict(activity.get("recipient")).get("id")
    added = activity.get("membersAdded")
    if not bot_id or not isinstance(added, list):
        return False
    return any(_dict(member).get("id") == bot_id for member in added)


def welcome(activity: Mapping[str, Any], key: IdentityKey) -> Incoming:
    """The app installed in a personal chat: the dialogue's first contact, as `/start`
    (a repeat of the same update is answered once)."""
    activity_id = activity.get("id")
    conversation = str(_dict(activity.get("conversation")).get("id") or "")
    dedupe = f"welcome:{short(conversation, 40)}:{short(str(activity_id), 120)}"
    return Incoming(
        key,
        Kind.COMMAND,
        text="/start",
        command="start",
        display_name=str(_dict(activity.get("from")).get("name") or ""),
        timezone_hint=str(activity.get("localTimezone") or "") or None,
        dedupe_key=dedupe if activity_id else None,
    )
