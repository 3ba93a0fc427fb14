"""Messages the bot starts (scheduler): paced to Telegram's limits, 403 -> Unreachable."""

from __future__ import annotations

from telegram.error import BadRequest, Forbidden

from adapters.telegram.adapter import Bot, send_reply
from adapters.telegram.translate import PLATFORM
from bot.core.model import IdentityKey, Outgoing, Unreachable


class TelegramSender:
    """`bot.core.model.Sender` for Telegram.

    The bot's `FloodControl` rate limiter paces these sends (about 30/s overall, one per
    second per chat) and waits out a 429 for that chat only, so other people's replies
    keep flowing. A user who blocked the bot (403), or a chat that no longer exists, raises
    `Unreachable`: the scheduler marks the identity and does not try again.
    """

    platform = PLATFORM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        if identity.platform != PLATFORM:
            raise ValueError(f"not a Telegram identity: {identity}")
        target = int(chat_id or identity.user_id)  # a private chat's id is the user's id
        try:
            await send_reply(self.bot, target, reply, paced=True)
        except Forbidden as exc:  # blocked by the user, or the user is deactivated
            raise Unreachable(f"telegram chat {target}: {exc.message}") from exc
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise Unreachable(f"telegram chat {target}: {exc.message}") from exc
            raise
