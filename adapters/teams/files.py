"""Files in Teams: exports through the file consent card, charts as inline images.

Teams lets a bot send a file in a personal chat only with the person's consent
(Microsoft Learn, "Send and receive files using bot", the Teams bot APIs):

1. the bot posts a file consent card (`application/vnd.microsoft.teams.card.file.consent`:
   the file's name, description and size, and contexts of our own for Allow and Decline);
2. the person presses Allow or Decline: an `invoke` activity named `fileConsent/invoke`
   comes back with `value` {type "fileUpload", action "accept" | "decline", context,
   uploadInfo {name, uploadUrl, contentUrl, uniqueId, fileType}} and `replyToId` (the
   card); it is answered 200 in its own HTTP response, as every activity here is;
3. on Allow the bot PUTs the bytes to `uploadUrl`, a pre-authorised upload session in
   the person's OneDrive (no bearer token: the URL is the authority), then posts a file
   info card (`application/vnd.microsoft.teams.card.file.info`) that opens the file.

Between 1 and 3 the bytes wait here, in memory only (`Shelf`): per person and in all
bounded, for `KEEP_FOR` at most, named by a random token carried in the card's contexts;
nothing is written to disk or the database, so after a restart an Allow is told the
file has expired. The token is consumed by the first answer: a repeated invoke (the
connector retrying, a double click) finds it used and does nothing, so a file is
uploaded once. An answer from anyone but the person the card was made for is refused.
Whatever happens, the card is replaced by a line of text, so it cannot be pressed again.

Charts (PNG) go inline instead, in the message, as a `data:` URL: Teams shows them in the
chat and the 100 KB message limit does not count a base64 image; above `INLINE_MAX` a
chart is offered as a file like an export.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from adapters.teams.sender import Connector, ConnectorError
from adapters.teams.translate import Where, where
from bot.core.model import Attachment, IdentityKey

log = logging.getLogger("cpdbot.teams")

Activity = dict[str, Any]

CONSENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
INFO_TYPE = "application/vnd.microsoft.teams.card.file.info"
CONSENT_INVOKE = "fileConsent/invoke"
TOKEN_FIELD = "cpd_file"  # acceptContext / declineContext: {"cpd_file": "<token>"}
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
INLINE_MAX = 1_000_000  # bytes of an image sent inline; a bigger one is offered as a file
KEEP_FOR = timedelta(minutes=15)
PERSON_MAX = 25 * 1024 * 1024  # bytes held for one person; older offers make room
TOTAL_MAX = 200 * 1024 * 1024  # bytes held for everyone; the oldest offers make room
USED_MAX = 10_000  # answered tokens remembered (to tell a repeat from an expired card)
UPLOADED = frozenset({200, 201})  # OneDrive's answer to the last (here: only) range

EXPIRED = (
    f"That file has expired (I keep files ready for {KEEP_FOR.seconds // 60} minutes); "
    "send /export again."
)
DECLINED = "OK, I didn't send it. /export again whenever you want it."
UPLOAD_FAILED = "The upload to your OneDrive failed; nothing was changed. Try /export again."
TOO_BIG = "That file is too big for me to send in Teams; ask whoever runs cpdbot for it."


def inline(file: Attachment) -> bool:
    """Whether `file` goes in the message itself (a small image) rather than by consent."""
    return file.mime_type in INLINE_TYPES and len(file.content) <= INLINE_MAX


def inline_image(file: Attachment) -> dict[str, Any]:
    """The attachment that shows `file` (an image) in the message."""
    data = base64.b64encode(file.content).decode("ascii")
    return {
        "contentType": file.mime_type,
        "contentUrl": f"data:{file.mime_type};base64,{data}",
        "name": file.filename,
    }


def consent_card(file: Attachment, token: str) -> Activity:
    """The card asking the person to let the bot put `file` in their OneDrive."""
    context = {TOKEN_FIELD: token}
    content = {
        "description": f"{file.filename} ({_size(len(file.content))}), your CPD record",
        "sizeInBytes": len(file.content),
        "acceptContext": context,
        "declineContext": context,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": CONSENT_TYPE, "name": file.filename, "content": content}],
    }


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def info_card(upload: UploadInfo) -> Activity:
    """The message that shows the uploaded file (it opens from the person's OneDrive)."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": INFO_TYPE,
                "contentUrl": upload.content_url,
                "name": upload.name,
                "content": {"uniqueId": upload.unique_id, "fileType": upload.file_type},
            }
        ],
    }


def settled(card_id: str, text: str) -> Activity:
    """The consent card replaced (PUT over it) by a line of text: nothing left to press."""
    return {"type": "message", "id": card_id, "textFormat": "plain", "text": text}


# ---------------------------------------------------------------- the invoke


@dataclass(frozen=True)
class UploadInfo:
    name: str
    upload_url: str
    content_url: str
    unique_id: str
    file_type: str


@dataclass(frozen=True)
class Answer:
    """A file consent card answered: Allow (with where to upload) or Decline."""

    accepted: bool
    token: str
    card_id: str
    upload: UploadInfo | None


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def is_consent(activity: Mapping[str, Any]) -> bool:
    return activity.get("type") == "invoke" and activity.get("name") == CONSENT_INVOKE


def answer_of(activity: Mapping[str, Any]) -> Answer | None:
    """The answer a `fileConsent/invoke` carries (None: not one of our cards, or garbled)."""
    if not is_consent(activity):
        return None
    value = _dict(activity.get("value"))
    action = value.get("action")
    token = _dict(value.get("context")).get(TOKEN_FIELD)
    if action not in ("accept", "decline") or not isinstance(token, str) or not token:
        return None
    card_id = str(activity.get("replyToId") or "")
    info = _dict(value.get("uploadInfo"))
    upload = None
    if action == "accept":
        upload = UploadInfo(
            name=str(info.get("name") or ""),
            upload_url=str(info.get("uploadUrl") or ""),
            content_url=str(info.get("contentUrl") or ""),
            unique_id=str(info.get("uniqueId") or ""),
            file_type=str(info.get("fileType") or ""),
        )
    return Answer(action == "accept", token, card_id, upload)


def upload_allowed(url: str) -> bool:
    """An upload URL the bot will PUT a record to: https, or http on this machine (tests)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme == "https" and host:
        return True
    return parts.scheme == "http" and _loopback(host)


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class UploadFailed(Exception):
    """The upload session refused the bytes, or did not answer."""


async def upload(session: aiohttp.ClientSession, url: str, data: bytes) -> None:
    """PUT `data` to an upload session in one range (no Authorization header: the URL is
    pre-authorised); `UploadFailed` unless it answers that the file is complete."""
    if not upload_allowed(url):
        raise UploadFailed("the upload URL is not https")
    n = len(data)
    headers = {"Content-Length": str(n), "Content-Range": f"bytes 0-{n - 1}/{n}"}
    try:
        async with session.put(url, data=data, headers=headers) as response:
            if response.status not in UPLOADED:
                raise UploadFailed(f"the upload session answered HTTP {response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UploadFailed(f"the upload failed: {type(exc).__name__}") from None


# ---------------------------------------------------------------- the bytes waiting


class Taken(StrEnum):
    HELD = "held"  # here is the file (now consumed)
    GONE = "gone"  # never held, expired, made room for others, or held before a restart
    USED = "used"  # answered already: a repeat
    NOT_YOURS = "not yours"  # the card was made for someone else; the file stays held


@dataclass
class _Held:
    owner: IdentityKey
    file: Attachment
    until: datetime


class Shelf:
    """Files offered and not yet answered, in memory, by token (see the module's doc)."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        keep_for: timedelta = KEEP_FOR,
        person_max: int = PERSON_MAX,
        total_max: int = TOTAL_MAX,
    ) -> None:
        self.clock = clock
        self.keep_for = keep_for
        self.person_max = person_max
        self.total_max = total_max
        self._held: dict[str, _Held] = {}  # oldest first
        self._used: dict[str, datetime] = {}  # token -> until when a repeat is recognised

    @property
    def bytes_held(self) -> int:
        return sum(len(h.file.content) for h in self._held.values())

    def put(self, owner: IdentityKey, file: Attachment) -> str | None:
        """Hold `file` for `owner`; its token (None: bigger than one person may hold)."""
        size = len(file.content)
        if size > min(self.person_max, self.total_max):
            return None
        self._expire()
        mine = [t for t, h in self._held.items() if h.owner == owner]
        while mine and sum(len(self._held[t].file.content) for t in mine) + size > self.person_max:
            del self._held[mine.pop(0)]
        while self._held and self.bytes_held + size > self.total_max:
            del self._held[next(iter(self._held))]
        token = secrets.token_urlsafe(24)
        self._held[token] = _Held(owner, file, self.clock() + self.keep_for)
        return token

    def take(self, token: str, who: IdentityKey) -> tuple[Taken, Attachment | None]:
        """Consume `token` for `who`: the file when it is theirs and still held."""
        self._expire()
        if token in self._used:
            return Taken.USED, None
        held = self._held.get(token)
        if held is not None and held.owner != who:
            return Taken.NOT_YOURS, None
        self._used[token] = self.clock() + self.keep_for
        while len(self._used) > USED_MAX:
            del self._used[next(iter(self._used))]
        if held is None:
            return Taken.GONE, None
        del self._held[token]
        return Taken.HELD, held.file

    def _expire(self) -> None:
        now = self.clock()
        for token in [t for t, h in self._held.items() if h.until <= now]:
            del self._held[token]
        for token in [t for t, until in self._used.items() if until <= now]:
            del self._used[token]


# ---------------------------------------------------------------- offering and sending


class Files:
    """Offers files by consent card and sends them when the person allows it."""

    def __init__(self, connector: Connector, clock: Callable[[], datetime]) -> None:
        self.connector = connector
        self.shelf = Shelf(clock)

    async def offer(self, place: Where, file: Attachment) -> None:
        """Post the consent card for `file` in the person's personal chat."""
        if place.identity is None:
            return  # not a person we can tell: no one could answer the card
        token = self.shelf.put(place.identity, file)
        if token is None:
            await self._say(place, TOO_BIG)
            return
        await self.connector.post(
            place.service_url, place.conversation_id, consent_card(file, token)
        )

    async def answered(self, activity: Mapping[str, Any]) -> None:
        """A consent card's Allow or Decline (`fileConsent/invoke`), after its 200."""
        place, answer = where(activity), answer_of(activity)
        if answer is None or place.identity is None or not place.personal:
            log.info("teams: a file consent invoke that is not ours; ignored")
            return
        taken, file = self.shelf.take(answer.token, place.identity)
        if taken in (Taken.USED, Taken.NOT_YOURS):
            log.info("teams: a file consent answer refused (%s)", taken)
            return
        if not answer.accepted:
            await self._settle(place, answer.card_id, "Not sent")
            await self._say(place, DECLINED)
            return
        if file is None or answer.upload is None:
            await self._settle(place, answer.card_id, "Expired: not sent")
            await self._say(place, EXPIRED)
            return
        await self._send(place, answer.card_id, answer.upload, file)

    async def _send(self, place: Where, card_id: str, info: UploadInfo, file: Attachment) -> None:
        try:
            await upload(self.connector.session, info.upload_url, file.content)
        except UploadFailed as exc:
            log.warning("teams: a file upload failed: %s", exc)
            await self._settle(place, card_id, "Not sent")
            await self._say(place, UPLOAD_FAILED)
            return
        await self.connector.post(place.service_url, place.conversation_id, info_card(info))
        await self._settle(place, card_id, f"✓ Sent {info.name or file.filename}")

    async def _settle(self, place: Where, card_id: str, text: str) -> None:
        if not card_id:
            return
        try:
            await self.connector.update(
                place.service_url, place.conversation_id, card_id, settled(card_id, text)
            )
        except ConnectorError as exc:
            log.info("teams: replacing a file consent card failed: %s", exc)

    async def _say(self, place: Where, text: str) -> None:
        message = {"type": "message", "textFormat": "plain", "text": text}
        await self.connector.post(place.service_url, place.conversation_id, message)
