"""What a Teams reply says when the bot has a file it cannot send there yet."""

from __future__ import annotations

from adapters.teams.cards import message
from bot.core.model import Attachment, Choice, Outgoing


def test_an_export_says_its_file_is_not_attached() -> None:
    reply = Outgoing(
        "Your CPD record for 2026.", attachment=Attachment("cpd-2026.pdf", b"%PDF", "x")
    )
    text = message(reply)["text"]
    assert text.startswith("Your CPD record for 2026.")
    assert "cpd-2026.pdf is not attached" in text


def test_a_chart_is_left_out_quietly_its_figures_are_in_the_text() -> None:
    chart = Attachment("progress.png", b"\x89PNG", "image/png")
    reply = Outgoing("12 h of 30 h this year.", (Choice("log", "Log now"),), attachment=chart)
    card = message(reply)["attachments"][0]["content"]
    assert "not attached" not in str(card)
    assert "12 h of 30 h this year." in str(card)
