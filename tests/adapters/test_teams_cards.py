"""What a message the bot starts in Teams says of a file it cannot offer there (no consent
card: the file would not wait for the answer); replies offer files (test_teams_files.py)."""

from __future__ import annotations

from adapters.teams.cards import message
from bot.core.model import Attachment, Choice, Outgoing


def test_a_started_message_with_a_file_says_how_to_get_it() -> None:
    reply = Outgoing(
        "Your CPD record for 2026.", attachment=Attachment("cpd-2026.pdf", b"%PDF", "x")
    )
    text = message(reply)["text"]
    assert text.startswith("Your CPD record for 2026.")
    assert "send /export here" in text and "Allow to get cpd-2026.pdf" in text


def test_a_chart_is_left_out_quietly_its_figures_are_in_the_text() -> None:
    chart = Attachment("progress.png", b"\x89PNG", "image/png")
    reply = Outgoing("12 h of 30 h this year.", (Choice("log", "Log now"),), attachment=chart)
    card = message(reply)["attachments"][0]["content"]
    assert "not attached" not in str(card)
    assert "12 h of 30 h this year." in str(card)
