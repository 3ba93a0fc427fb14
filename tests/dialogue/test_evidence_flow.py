"""Issue 16: evidence in the dialogue, through the real engine on both databases. A file
sent after a save, mid-log, with a caption, after /attach N, or with no entry to go to;
links; /evidence listing and sending back; removal asked first; a certificate's facts
offered and applied only on a yes; every wrong input answered with nothing half-stored."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

import pytest

from bot.core.model import (
    AttachLink,
    EvidenceView,
    IdentityKey,
    Incoming,
    IncomingFile,
    Kind,
    Outgoing,
    RemoveEvidence,
)
from bot.core.schemes import Scheme
from bot.core.snapshot import RECEIVE_LATEST, RECEIVE_WAIT, Needs
from bot.dialogue import Conv, Data, Draft, State
from bot.dialogue.flows import evidence as flow
from tests.conftest import Chat, Clock
from tests.dialogue.chat import ENTRY, ME, NOW, Case, assert_case, press, text
from tests.services.test_certificate import IET_ACADEMY, _pdf

S = State


def png(width: int = 4) -> bytes:
    """A real (tiny, grey) PNG image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(width))
    head = struct.pack(">IIBBBBB", width, width, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PNG = png()
CERT = _pdf([IET_ACADEMY])


def send_file(
    chat: Chat, content: bytes, name: str = "photo.png", caption: str = "", size: int | None = None
) -> list[Outgoing]:
    sent = IncomingFile(name, content, len(content) if size is None else size)
    return chat.send(Incoming(chat.identity, Kind.FILE, text=caption, file=sent))


def log(chat: Chat, line: str) -> None:
    """Log an activity from one line, its reflections left for later."""
    chat.say(line)
    for _ in range(6):
        if "Saved #" in chat.text:
            return
        chat.say("later")
    raise AssertionError(chat.text)


def evidence_files(chat: Chat, number: int) -> list[Outgoing]:
    return [r for r in chat.say(f"/evidence {number}") if r.attachment is not None]


def test_a_file_just_after_a_save_is_filed_with_it_and_said_so(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    assert "Saved #1" in chat.text
    send_file(chat, PNG, "board.png")
    assert "Filed with #1 'Design review training' as E1 (board.png, PNG, " in chat.text
    assert [c.label for c in chat.replies[0].choices] == ["Undo", "Another entry"]
    files = evidence_files(chat, 1)
    assert [(f.attachment.filename, f.attachment.content) for f in files if f.attachment] == [
        ("board.png", PNG)
    ]
    assert "E1 (board.png, PNG" in chat.text


def test_undo_takes_the_file_away_again(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG)
    chat.press("Undo")
    assert "Removed E1" in chat.text
    assert "has no evidence yet" in chat.say("/evidence 1")[0].text


def test_a_file_long_after_any_save_asks_which_entry(chat: Chat, clock: Clock) -> None:
    log(chat, "/log 2h Design review yesterday training")
    log(chat, "/log 1h Standards reading yesterday self study")
    clock.now += timedelta(hours=2)
    send_file(chat, PNG)
    assert "Which entry is this for?" in chat.text
    assert "E1 (photo.png, PNG" in chat.text
    chat.press("#1 Design review training")
    assert "Filed E1 (photo.png" in chat.text and "#1 'Design review training'" in chat.text
    assert len(evidence_files(chat, 1)) == 1
    assert "has no evidence yet" in chat.say("/evidence 2")[0].text


def test_another_entry_moves_it(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    log(chat, "/log 1h Standards reading yesterday self study")
    send_file(chat, PNG)
    assert "Filed with #2" in chat.text
    chat.press("Another entry")
    chat.press("#1 Design review training")
    assert "moved from #2" in chat.text
    assert len(evidence_files(chat, 1)) == 1 and not evidence_files(chat, 2)


def test_a_file_mid_log_goes_with_the_entry_when_it_is_saved(chat: Chat) -> None:
    chat.say("/log")
    chat.say("Safety workshop")
    send_file(chat, PNG)
    assert "I'll file it with this entry when it is saved" in chat.text
    assert chat.replies[-1].text  # the question under way asked again
    chat.say("yesterday")
    chat.say("3h")
    chat.press(chat.replies[-1].choices[0].label)
    for _ in range(6):
        if "Saved #1" in chat.text:
            break
        chat.say("skip")
    assert "Saved #1" in chat.text and "Filed with it: E1." in chat.text
    assert len(evidence_files(chat, 1)) == 1


def test_a_caption_files_it_directly_and_a_wrong_one_keeps_nothing(
    chat: Chat, clock: Clock
) -> None:
    log(chat, "/log 2h Design review yesterday training")
    clock.now += timedelta(hours=2)
    send_file(chat, PNG, caption="/attach 1")
    assert "Filed with #1 'Design review training' as E1" in chat.text
    assert chat.replies[0].choices == ()
    send_file(chat, PNG, "other.png", caption="7")
    assert "You have no entry #7" in chat.text and "not kept" in chat.text
    assert "Waiting" not in chat.say("/evidence")[0].text


def test_attach_then_a_file(chat: Chat, clock: Clock) -> None:
    log(chat, "/log 2h Design review yesterday training")
    clock.now += timedelta(hours=2)
    chat.say("/attach 1")
    assert "Send the file for #1" in chat.text
    chat.say("not a file")
    assert "waiting for a file" in chat.text
    send_file(chat, PNG)
    assert "Filed with #1" in chat.text
    assert "Nothing to cancel" in chat.say("/cancel")[0].text  # back to idle


def test_attach_words(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    assert "caption '/attach 12'" in chat.say("/attach")[0].text
    assert "You have no entry #5" in chat.say("/attach 5")[0].text
    assert "didn't follow" in chat.say("/attach one")[0].text
    assert "user name or password" in chat.say("/attach 1 https://me:pw@example.org/c")[0].text
    assert "https:// or http://" in chat.say("/attach 1 ftp://example.org/c")[0].text
    assert "Kept the link with #1" in chat.say("/attach 1 https://example.org/cert/42")[0].text
    assert "already has that link" in chat.say("/attach 1 https://example.org/cert/42")[0].text
    listed = chat.say("/evidence 1")
    assert "E1 (link: https://example.org/cert/42)" in listed[0].text
    assert all(r.attachment is None for r in listed)


def test_refusals_are_shown_and_the_draft_carries_on(chat: Chat) -> None:
    chat.say("/log")
    chat.say("Safety workshop")
    asked = chat.replies[-1].text
    send_file(chat, b"", "huge.pdf", size=50 * 1024 * 1024)
    assert "I keep files up to 10 MB" in chat.text and chat.replies[-1].text == asked
    exe = b"MZ\x90\x00\x03\x00\x00\x00This program cannot be run in DOS mode." + b"\x00" * 40
    send_file(chat, exe, "cert.pdf")
    assert "I can't keep that kind of file" in chat.text and chat.replies[-1].text == asked
    chat.say("/cancel")
    assert "No evidence kept yet" in chat.say("/evidence")[0].text


def test_a_duplicate_is_refused(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG)
    send_file(chat, PNG, caption="1")
    assert "already attached as E1" in chat.text
    assert len(evidence_files(chat, 1)) == 1


def test_removing_asks_first(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG, "board.png")
    assert "You have no E9" in chat.say("/evidence remove E9")[0].text
    chat.say("/evidence remove E1")
    assert "Remove E1 board.png from #1?" in chat.text
    chat.press("Keep")
    assert "Kept E1" in chat.text and len(evidence_files(chat, 1)) == 1
    chat.say("/evidence remove e1")
    chat.press("Remove")
    assert "Removed E1" in chat.text
    assert "has no evidence yet" in chat.say("/evidence 1")[0].text


def test_one_person_never_sees_anothers_evidence(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG)
    bob = Chat(chat.engine, IdentityKey("console", "bob"))
    bob.onboard()
    log(bob, "/log 1h Reading yesterday self study")
    assert "has no evidence yet" in bob.say("/evidence 1")[0].text
    assert "You have no E1" in bob.say("/evidence remove E1")[0].text


def test_certificate_facts_are_offered_and_used_only_on_yes(chat: Chat) -> None:
    log(chat, "/log 2h Safety course yesterday training")
    send_file(chat, CERT, "certificate.pdf")
    assert "The certificate says: 'Introduction to Functional Safety', 5 Mar 2026, 6 h" in chat.text
    use = chat.choice("Use these")
    chat.press("Keep mine")
    record = chat.engine.record(chat.identity)
    assert record is not None and record.entries[0].title == "Safety course training"
    chat.send(Incoming(chat.identity, Kind.CHOICE, choice=use.id))
    assert "Updated #1 from the certificate" in chat.text
    record = chat.engine.record(chat.identity)
    assert record is not None
    assert [(e.title, e.minutes) for e in record.entries] == [
        ("Introduction to Functional Safety", 360)
    ]


def test_a_certificate_with_no_entry_can_start_a_log(chat: Chat) -> None:
    send_file(chat, CERT, "certificate.pdf")
    assert "Which entry is this for?" in chat.text or "waiting for an entry" in chat.text
    chat.press("Log it")
    assert "Introduction to Functional Safety" in chat.text
    for _ in range(8):
        if "Saved #1" in chat.text:
            break
        last = chat.replies[-1]
        if last.choices:
            chat.press(last.choices[0].label)
        else:
            chat.say("skip")
    assert "Saved #1" in chat.text and "Filed with it: E1." in chat.text


# Pure steps for the transition table (tests/dialogue/test_kernel.py collects them).
LINKED = EvidenceView(3, 7, "file", "cert.pdf", "application/pdf", 1000, "ab" * 32, NOW)
CASES = [
    Case(
        "/attach N asks for the file",
        S.IDLE,
        text("/attach 7"),
        S.EVIDENCE_FILE,
        "Send the file for #7",
        snap={"entry": ENTRY},
    ),
    Case(
        "a link typed for /attach N is kept",
        S.EVIDENCE_FILE,
        text("https://example.org/cert"),
        S.IDLE,
        "Kept the link with #7",
        data=Data(target=7),
        effects=(AttachLink,),
        snap={"entry": ENTRY},
    ),
    Case(
        "/evidence remove EN asks first",
        S.IDLE,
        text("/evidence remove E3"),
        S.EVIDENCE_REMOVE,
        "Remove E3 cert.pdf from #7?",
        snap={"evidence": (LINKED,)},
    ),
    Case(
        "Remove removes",
        S.EVIDENCE_REMOVE,
        press("ev:rm:3"),
        S.IDLE,
        "Removed E3",
        data=Data(target=3),
        effects=(RemoveEvidence,),
        snap={"evidence": (LINKED,)},
    ),
    Case(
        "Keep keeps",
        S.EVIDENCE_REMOVE,
        text("keep"),
        S.IDLE,
        "Kept E3",
        data=Data(target=3),
        snap={"evidence": (LINKED,)},
    ),
    Case(
        "a stale Remove is refused",
        S.IDLE,
        press("ev:rm:3"),
        S.IDLE,
        "earlier message",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, schemes: dict[str, Scheme]) -> None:
    assert_case(case, schemes)


def test_what_a_file_needs_loaded() -> None:
    event = Incoming(ME, Kind.FILE, text="", file=IncomingFile("a.png", PNG, len(PNG)))
    assert flow.needs(Conv(), event, Needs()).receive == RECEIVE_LATEST
    logging = Conv(S.LOG_HOURS, Data(draft=Draft(title="x")))
    assert flow.needs(logging, event, Needs()).receive == RECEIVE_WAIT
    captioned = Incoming(ME, Kind.FILE, text="/attach 12", file=event.file)
    assert flow.needs(logging, captioned, Needs()).receive == 12
