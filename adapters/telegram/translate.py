"""Telegram updates -> engine events (`to_route`), engine replies -> Telegram messages (`render`).

Pure functions: python-telegram-bot's `Update` in, the Bot API's JSON out (see `Markup`);
no network, no database, no CPD logic.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from telegram import CallbackQuery, Message, Update, User
from telegram.constants import ChatType, MessageEntityType

from bot.core.model import Attachment, Choice, IdentityKey, Incoming, Kind, Outgoing
from bot.services.commands import menu

log = logging.getLogger("cpdbot.telegram")

PLATFORM = "telegram"
TEXT_LIMIT = 4096  # sendMessage text, in UTF-16 code units
CAPTION_LIMIT = 1024  # sendDocument caption
CALLBACK_DATA_LIMIT = 64  # bytes
ROW_BUTTONS = 3  # buttons per row when every label is short
SHORT_LABEL = 12  # characters
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

# The command menu (setMyCommands), from the dialogue's flows. Descriptions are what a
# person sees in the "/" menu.
COMMANDS: tuple[tuple[str, str], ...] = menu()

# Replies the adapter gives itself, for things that never reach the dialogue.
NOT_TEXT = (
    "I can only read text, button presses, and photos or documents (kept as evidence), "
    "so I did not keep that. "
    "To record an activity, type it, e.g. /log 1h webinar on risk assessment yesterday"
)
EDITED = (
    "I read each message once, as it arrives, so that edit was not applied. "
    "Send the correction as a new message, or use /edit to change a saved entry."
)
BUTTON_GONE = "That button is no longer active."
PRIVATE_LINK = "Message me privately"
PRESSED = "\n\n✓ {label}"
# A secret (a CalDAV password) is typed as a plain message: the bot deletes it once read.
SECRET_PROMPT = (
    "{label}: send it as your next message here. "
    "I'll delete your message as soon as I have read it."
)
NOT_DELETED = (
    "I could not delete your message with the password (Telegram did not let me). "
    "Please delete it yourself now: long-press it, then Delete."
)


@dataclass(frozen=True)
class Keyboard:
    """The message whose inline keyboard was pressed, to be edited so it cannot be pressed again."""

    chat_id: int
    message_id: int
    text: str | None  # the message text, if known (None: only the buttons are removed)
    pressed: str | None  # label of the pressed button, shown under the text


@dataclass(frozen=True)
class FileRef:
    """A photo or document a person sent: what getFile needs, and what Telegram declared.

    The adapter fetches it after the update is recorded (the inbox keeps the update, with
    this file id, never the bytes) and puts it on the event as `Incoming.file`."""

    file_id: str
    name: str
    size: int  # as declared (0: not said)
    mime_hint: str = ""


@dataclass(frozen=True)
class Route:
    """What one update asks of the adapter (all optional: an empty Route means ignore)."""

    chat_id: int | None = None  # where replies go
    event: Incoming | None = None  # for the engine
    notice: str | None = None  # the adapter's own reply (the update never reaches the engine)
    query_id: str | None = None  # callback query to answer (every one is answered)
    query_text: str | None = None  # short notice shown with the answer
    keyboard: Keyboard | None = None
    reply_to: int | None = None  # in a group: the message the reply answers
    private: bool = True
    # The person's message as (chat id, message id): deleted when a reply says it held a
    # secret (`Outgoing.scrub_incoming`).
    said: tuple[int, int] | None = None
    file: FileRef | None = None  # a file to fetch for `event` (Kind.FILE) before the engine


# Outgoing messages are built as the Bot API's JSON, not as python-telegram-bot objects:
# serialising those objects and parsing the returned Message into them cost about 0.3 ms of
# CPU per call, a tenth of a worker's budget per update (docs/telegram.md).
Markup = dict[str, Any]  # an InlineKeyboardMarkup as JSON


@dataclass(frozen=True)
class TextPart:
    text: str
    markup: Markup | None = None

    @property
    def has_buttons(self) -> bool:
        """Buttons that send a callback (to be retired later), not just a link."""
        return self.markup is not None and any(
            "callback_data" in b for row in self.markup["inline_keyboard"] for b in row
        )


@dataclass(frozen=True)
class DocumentPart:
    attachment: Attachment
    caption: str | None = None


Part = TextPart | DocumentPart


def sender(payload: Mapping[str, Any]) -> IdentityKey | None:
    """Who sent a raw update (its message's, press's ... `from`), read before it is parsed,
    so the inbox row that keeps it can be shown and erased with the rest of their data."""
    for name, value in payload.items():
        user = value.get("from") if name != "update_id" and isinstance(value, Mapping) else None
        user_id = user.get("id") if isinstance(user, Mapping) else None
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            return IdentityKey(PLATFORM, str(user_id))
    return None


def chat_key(update: Update) -> int:
    """Updates with the same key are handled one at a time, in order (one chat = one queue)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


def to_route(update: Update, me: User) -> Route:
    """Translate one update. `me` is the bot (getMe), to recognise its @name and its messages."""
    key = str(update.update_id)
    if update.callback_query is not None:
        return _callback(update.callback_query, key)
    if update.edited_message is not None:
        message = update.edited_message
        if message.chat.type == ChatType.PRIVATE and _from_person(message):
            return Route(chat_id=message.chat.id, notice=EDITED)
        return Route()
    if update.message is not None:
        return _message(update.message, me, key)
    return Route()


def _from_person(message: Message) -> bool:
    return message.from_user is not None and not message.from_user.is_bot


def _message(message: Message, me: User, key: str) -> Route:
    user = message.from_user
    if user is None or user.is_bot:
        return Route()
    chat = message.chat
    identity = IdentityKey(PLATFORM, str(user.id))
    text = message.text
    if chat.type != ChatType.PRIVATE:
        if text is None or not _addressed(message, text, me):
            return Route()
        event = Incoming.text_of(
            identity, text, private=False, display_name=user.full_name, dedupe_key=key
        )
        return Route(
            chat_id=chat.id,
            event=event,
            reply_to=message.message_id,
            private=False,
            said=(chat.id, message.message_id),
        )
    if text is None:
        if message.effective_attachment is None:
            return Route()  # a service message (pin, timer change, ...): nothing was said
        ref = file_of(message)
        if ref is not None:  # a photo or document: evidence, fetched before the engine
            own = _private_chat(user)
            event = Incoming(
                identity,
                Kind.FILE,
                text=message.caption or "",
                chat_id=str(own),
                display_name=user.full_name,
                dedupe_key=key,
                sent_at=message.date,
            )
            return Route(chat_id=own, event=event, said=(chat.id, message.message_id), file=ref)
        # The adapter's own notice (nothing personal, nothing stored): where it was sent.
        return Route(chat_id=chat.id, notice=NOT_TEXT)
    own = _private_chat(user)
    event = Incoming.text_of(
        identity,
        _without_leading_mention(text, me),
        chat_id=str(own),
        display_name=user.full_name,
        dedupe_key=key,
        sent_at=message.date,
    )
    return Route(chat_id=own, event=event, said=(chat.id, message.message_id))


def file_of(message: Message) -> FileRef | None:
    """A private message's photo (its largest size) or document, if it carries one."""
    if message.document is not None:
        document = message.document
        suffix = _suffix(document.mime_type)
        return FileRef(
            document.file_id,
            document.file_name or f"document-{message.message_id}{suffix}",
            document.file_size or 0,
            document.mime_type or "",
        )
    if message.photo:
        # Telegram sends each photo in several sizes, smallest first.
        photo = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        name = f"photo-{message.message_id}.jpg"  # Telegram re-encodes photos as JPEG
        return FileRef(photo.file_id, name, photo.file_size or 0, "image/jpeg")
    return None


def _suffix(mime: str | None) -> str:
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(
        mime or "", ""
    )


def _private_chat(user: User) -> int:
    """The sender's private chat with the bot: its id is the user's id (Bot API), so where
    the dialogue's replies go (and the chat stored for scheduled messages) is derived from
    who sent the update, never from the chat it names."""
    return user.id


def _addressed(message: Message, text: str, me: User) -> bool:
    """In a group: a /command (bare or @this_bot), an @mention of the bot, or a reply to it."""
    name = (me.username or "").casefold()
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1:
        head = stripped[1:].split(maxsplit=1)[0]
        _, at, target = head.partition("@")
        return not at or target.casefold() == name
    mentions = message.parse_entities([MessageEntityType.MENTION]).values()
    if name and any(m.casefold() == f"@{name}" for m in mentions):
        return True
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == me.id)


def _without_leading_mention(text: str, me: User) -> str:
    """'@this_bot /log 1h x' -> '/log 1h x' (people address the bot out of habit)."""
    if not me.username:
        return text
    mention = f"@{me.username}"
    stripped = text.lstrip()
    if stripped[: len(mention)].casefold() == mention.casefold():
        rest = stripped[len(mention) :]
        if not rest or rest[0].isspace():
            return rest.strip() or text
    return text


def _query_notice(has_message: bool, has_data: bool) -> str | None:
    """What the answer to a callback query shows: nothing, unless the button is not ours."""
    # Without a message or data it came from an inline-mode message or a game: never one
    # of this bot's keyboards.
    return None if has_message and has_data else BUTTON_GONE


def callback_answer(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """For a raw update holding a callback query: its answerCallbackQuery, as the JSON a
    webhook response carries (Telegram performs a method given in the response); else None.

    The answer depends on the update alone, so it can go back with the webhook's 200
    instead of as a call of its own; `to_route` gives the same answer in polling mode.
    """
    query = payload.get("callback_query")
    if not isinstance(query, Mapping) or not isinstance(query.get("id"), str):
        return None
    answer: dict[str, Any] = {"method": "answerCallbackQuery", "callback_query_id": query["id"]}
    notice = _query_notice("message" in query, "data" in query)
    if notice is not None:
        answer["text"] = notice
    return answer


def _callback(query: CallbackQuery, key: str) -> Route:
    message = query.message
    if message is None or query.data is None:
        return Route(
            query_id=query.id, query_text=_query_notice(message is not None, query.data is not None)
        )
    chat = message.chat
    private = chat.type == ChatType.PRIVATE
    user = query.from_user
    # A private chat's replies go to the presser's own chat; a group's to the group (where
    # the dialogue only points to a private chat, and nothing of the chat is stored).
    to = _private_chat(user) if private else chat.id
    event = Incoming(
        IdentityKey(PLATFORM, str(user.id)),
        Kind.CHOICE,
        choice=query.data,
        private=private,
        chat_id=str(to) if private else None,
        display_name=user.full_name,
        dedupe_key=key,
    )
    text = message.text if isinstance(message, Message) else None
    # Only a keyboard in the chat replies go to is edited (not one in a chat the payload names).
    board = Keyboard(chat.id, message.message_id, text, _label_of(message, query.data))
    keyboard = board if chat.id == to else None
    return Route(chat_id=to, event=event, query_id=query.id, keyboard=keyboard, private=private)


def _label_of(message: object, data: str) -> str | None:
    """The label of the pressed button, read back from the message (display only)."""
    markup = message.reply_markup if isinstance(message, Message) else None
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


# ---------------------------------------------------------------- rendering


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji can count as two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The number of characters of `text` that fit in `limit` UTF-16 code units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at paragraph, then line, then word boundaries into parts Telegram accepts."""
    parts: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        cut = _fit(rest, limit)
        window = rest[:cut]
        at = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > cut // 2:
                break
        if at <= cut // 2:
            at = cut  # one very long word: cut it
        parts.append(rest[:at].rstrip())
        rest = rest[at:].strip()
    if rest:
        parts.append(rest)
    return parts


def keyboard(choices: tuple[Choice, ...]) -> Markup | None:
    """Choices as inline buttons carrying the choice id: short labels three to a row."""
    buttons: list[dict[str, str]] = []
    for choice in choices:
        if len(choice.id.encode()) > CALLBACK_DATA_LIMIT:
            log.error("choice id longer than 64 bytes, button left out: %r", choice.id)
            continue
        buttons.append({"text": choice.label, "callback_data": choice.id})
    if not buttons:
        return None
    short = all(len(b["text"]) <= SHORT_LABEL for b in buttons)
    per_row = ROW_BUTTONS if short else 1
    return {"inline_keyboard": [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]}


def render(reply: Outgoing, *, private_link: str | None = None) -> list[Part]:
    """One reply as Telegram messages: text split to fit, buttons under the last part, a file.

    `private_link` (a t.me URL) adds a button to open a private chat: used for group replies.
    """
    markup = keyboard(reply.choices)
    if reply.secret is not None:
        prompt = SECRET_PROMPT.format(label=reply.secret.label)
        reply = replace(reply, text=f"{reply.text}\n\n{prompt}" if reply.text else prompt)
    if markup is None and private_link:
        markup = {"inline_keyboard": [[{"text": PRIVATE_LINK, "url": private_link}]]}
    attachment = reply.attachment
    if attachment is not None and markup is None and utf16_len(reply.text) <= CAPTION_LIMIT:
        return [DocumentPart(attachment, reply.text.strip() or None)]
    texts = split_text(reply.text)
    if not texts and markup is not None:
        texts = ["Choose one:"]
    parts: list[Part] = [TextPart(t) for t in texts]
    if markup is not None:
        parts[-1] = TextPart(texts[-1], markup)
    if attachment is not None:
        parts.append(DocumentPart(attachment))
    return parts


def pressed_text(board: Keyboard) -> str | None:
    """The keyboard message's new text: its old text plus the pressed label (None: too long)."""
    if board.text is None or board.pressed is None:
        return None
    text = board.text + PRESSED.format(label=board.pressed)
    return text if utf16_len(text) <= TEXT_LIMIT else None
