"""Issue 16, evidence replies a member can trust (the member's-seat review), through the
real engine on both databases: a deleted entry's evidence shown the same way by /evidence
and /evidence N; a certificate for another activity offered as a move, never as an
overwrite copying one entry onto another; a removal naming the file and its entry, and the
number said to be gone afterwards; /forget counting evidence; sizes under 1 MB in KB or
bytes; /export all saying which evidence files its ZIP holds."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import timedelta

from bot.services.engine import Engine
from tests.conftest import Chat, Clock
from tests.dialogue.test_evidence_flow import CERT, PNG, log, send_file
from tests.services.test_evidence_exports import file_reply

FUNCTIONAL_SAFETY = "/log 6h Introduction to Functional Safety 5 March 2026 course"


def labels(chat: Chat) -> list[str]:
    return [c.label for r in chat.replies for c in r.choices]


def test_a_deleted_entrys_evidence_is_marked_alike_in_the_list_and_by_number(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    log(chat, "/log 1h Standards reading yesterday self study")
    send_file(chat, PNG, caption="2")
    chat.say("/delete 2")
    chat.press("Delete")
    listed = chat.say("/evidence")[0].text
    assert "#2: E1 photo.png (#2 deleted — /undo brings it back)" in listed
    shown = chat.say("/evidence 2")
    assert "(#2 deleted — /undo brings it back):" in shown[0].text
    assert "E1 (photo.png, PNG" in shown[0].text
    assert [r.attachment.content for r in shown if r.attachment] == [PNG]
    chat.say("/undo")
    assert "is back" in chat.text
    assert "deleted" not in chat.say("/evidence")[0].text
    assert "deleted" not in chat.say("/evidence 2")[0].text


def test_a_deleted_entry_with_nothing_to_undo_is_marked_deleted_only(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG, caption="1")
    chat.say("/delete 1")
    chat.press("Delete")
    log(chat, "/log 1h Standards reading yesterday self study")  # /undo now undoes this
    listed = chat.say("/evidence")[0].text
    assert "#1: E1 photo.png (#1 deleted)" in listed and "/undo" not in listed


def test_a_certificate_of_another_entry_is_offered_as_a_move_not_an_overwrite(
    chat: Chat,
) -> None:
    log(chat, FUNCTIONAL_SAFETY)
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, CERT, "iet_cert.pdf", caption="2")
    assert "Filed with #2 'Design review training' as E1 (iet_cert.pdf" in chat.text
    assert "This looks like #1 'Introduction to Functional Safety" in chat.text
    assert "(same date and title), not #2 'Design review training'" in chat.text
    assert "Use these" not in labels(chat)
    assert labels(chat)[-2:] == ["Move it to #1", "Keep with #2"]
    chat.press("Move it to #1")
    assert "Filed E1 (iet_cert.pdf" in chat.text and "(moved from #2)" in chat.text
    assert "E1 (iet_cert.pdf" in chat.say("/evidence 1")[0].text
    assert "has no evidence yet" in chat.say("/evidence 2")[0].text
    assert "Design review training (reflection" in chat.say("/list")[0].text  # #2 as it was


def test_keeping_it_with_the_entry_changes_nothing(chat: Chat) -> None:
    log(chat, FUNCTIONAL_SAFETY)
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, CERT, "iet_cert.pdf", caption="2")
    chat.press("Keep with #2")
    assert "nothing was changed" in chat.text
    assert "E1 (iet_cert.pdf" in chat.say("/evidence 2")[0].text


def test_a_waiting_certificate_of_an_entry_offers_that_entry(chat: Chat, clock: Clock) -> None:
    log(chat, FUNCTIONAL_SAFETY)
    clock.now += timedelta(hours=2)
    send_file(chat, CERT, "iet_cert.pdf")
    assert "This looks like #1 'Introduction to Functional Safety" in chat.text
    assert "Log it" not in labels(chat)
    chat.press("File it with #1")
    assert "E1 (iet_cert.pdf" in chat.say("/evidence 1")[0].text


def test_a_removal_names_the_file_and_the_number_is_said_gone_afterwards(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG, "cert.png", caption="1")
    chat.say("/evidence remove E1")
    chat.press("Remove")
    assert chat.text == "Removed E1 cert.png from #1."
    chat.say("/evidence remove E1")
    assert "E1 was removed; numbers are never reused" in chat.text
    chat.say("/evidence remove E2")
    assert "You have no E2" in chat.text


def test_forget_counts_evidence_by_name(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG, caption="1")
    chat.say("/attach 1 https://example.org/cert/42")
    chat.say("/forget")
    assert "2 pieces of evidence (files and links)" in chat.text


def test_the_quota_message_shows_small_sizes_in_bytes_and_kb(chat: Chat, engine: Engine) -> None:
    engine.evidence = replace(engine.evidence, quota_bytes=len(PNG) + 2048)
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG, caption="1")
    send_file(chat, CERT, "cert.pdf", caption="1")
    assert "Your evidence space is full" in chat.text
    quota = round((len(PNG) + 2048) / 1024)
    assert f"{len(PNG)} bytes of {quota} KB used" in chat.text
    assert f"this file is {round(len(CERT) / 1024)} KB" in chat.text and "MB" not in chat.text


def test_export_all_says_which_evidence_files_the_zip_holds(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG, caption="1")
    chat.say("/attach 1 https://example.org/cert/42")
    reply = file_reply(chat, "/export all")
    assert f"It holds your 1 evidence file ({len(PNG)} bytes) in evidence/" in reply.text
    assert "(and 1 link)." in reply.text
    assert reply.attachment is not None
    names = zipfile.ZipFile(io.BytesIO(reply.attachment.content)).namelist()
    assert "evidence/E1-photo.png" in names


def test_export_all_without_evidence_says_so(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    assert "No evidence is kept" in file_reply(chat, "/export all").text
