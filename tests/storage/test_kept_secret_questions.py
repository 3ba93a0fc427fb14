"""Replies kept for a replay (storage/conversations.py encode_replies / decode_replies)
keep a password question and the "delete the member's message" mark: a reply re-sent
after a crash still offers the password button, and Telegram still deletes the message."""

from __future__ import annotations

import json

from bot.core.model import Choice, Outgoing, SecretAsk
from storage.conversations import decode_replies, encode_replies


def test_a_password_question_survives_being_kept_for_a_replay() -> None:
    ask = SecretAsk("password", "Password for alice at caldav.fastmail.com")
    replies = (
        Outgoing("Found 2 calendars", choices=(Choice("cal:1", "Work"),), scrub_incoming=True),
        Outgoing("Now your password", secret=ask),
    )
    kept = json.loads(json.dumps(encode_replies(replies, 2026)))  # as stored: JSON
    back, year = decode_replies(kept)
    assert year == 2026
    assert back[1].secret == ask
    assert back[0].scrub_incoming and not back[1].scrub_incoming
    assert back[0].choices == (Choice("cal:1", "Work"),)
