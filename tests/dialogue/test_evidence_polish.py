"""Issue 16, evidence polish, through the real engine on both databases: the entry's number
typed at "Which entry is this for?", a kept link's E-number and its whole address in the
record and back through import, /cancel of a draft with files saying what becomes of them,
files waiting for an entry restored by `cpdbot import`, and `cpdbot export --format
evidence`."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.model import IdentityKey
from bot.core.schemes import Scheme
from bot.services import records
from bot.services.engine import Engine
from cpdbot.cli import main
from storage.db import Database
from tests.conftest import Chat, Clock
from tests.dialogue.test_evidence_flow import CERT, PNG, log, send_file
from tests.services.test_evidence_exports import NOW, file_reply, pdf_text

LONG = "https://learning.example.org/certificates/verify?" + "&".join(
    f"part{i}=abcdefghij{i}" for i in range(20)
)  # 400 characters and more: longer than a file name may be


def test_the_entrys_number_typed_answers_which_entry(chat: Chat, clock: Clock) -> None:
    log(chat, "/log 2h Design review yesterday training")
    log(chat, "/log 1h Standards reading yesterday self study")
    clock.now += timedelta(hours=2)
    send_file(chat, PNG)
    assert "Which entry is this for?" in chat.text and "type its number" in chat.text
    chat.say("12")
    assert "You have no entry #12" in chat.text and "E1 is still waiting" in chat.text
    chat.say("#1")
    assert "Filed E1 (photo.png" in chat.text and "#1 'Design review training'" in chat.text
    assert "E1 photo.png" in chat.say("/evidence")[0].text
    assert "Waiting" not in chat.text
    chat.say("2")  # the question was answered: a number now files nothing
    assert "Filed" not in chat.text
    assert "has no evidence yet" in chat.say("/evidence 2")[0].text


def test_a_number_typed_after_another_message_is_not_an_answer(chat: Chat, clock: Clock) -> None:
    log(chat, "/log 2h Design review yesterday training")
    clock.now += timedelta(hours=2)
    send_file(chat, PNG)
    assert "Which entry is this for?" in chat.text
    chat.say("/status")
    chat.say("1")
    assert "Filed" not in chat.text
    assert "Waiting for an entry: E1 photo.png" in chat.say("/evidence")[0].text


def test_a_kept_link_is_said_by_number_printed_whole_and_imported_exactly(
    chat: Chat, engine: Engine, db: Database, schemes: dict[str, Scheme]
) -> None:
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, PNG, caption="1")  # E1
    chat.say(f"/attach 1 {LONG}")
    assert chat.text.startswith("Kept the link with #1 'Design review training' as E2.")
    assert f"E2 (link: {LONG})" in chat.say("/evidence 1")[0].text
    markdown = file_reply(chat, "/export md").attachment
    assert markdown is not None and LONG.replace("&", "\\&") in markdown.content.decode()
    pdf = file_reply(chat, "/export pdf").attachment
    assert pdf is not None and LONG in pdf_text(pdf.content).replace(" ", "")
    data = records.export_all(db, chat.identity, schemes, now=NOW, evidence=engine.evidence)
    assert data is not None
    copy = Chat(engine, IdentityKey("console", "alice-copy"))
    done = records.import_report(
        db, copy.identity, data, schemes, now=NOW, evidence=engine.evidence
    )
    assert done.evidence.bad == [] and done.evidence.added == 2
    assert f"E2 (link: {LONG})" in copy.say("/evidence 1")[0].text


def test_a_link_typed_without_a_slash_is_kept_too(chat: Chat) -> None:
    log(chat, "/log 2h Design review yesterday training")
    chat.say("attach 1 https://example.org/cert/42")
    assert chat.text.startswith("Kept the link with #1 'Design review training' as E1.")
    assert "E1 (link: https://example.org/cert/42)" in chat.say("evidence 1")[0].text
    chat.say("evidence remove E1")
    assert "Remove E1" in chat.text
    chat.press("Remove")
    assert "Removed E1" in chat.text


def test_cancelling_a_draft_says_its_files_stay_waiting(chat: Chat) -> None:
    chat.say("/log")
    chat.say("Safety workshop")
    send_file(chat, CERT, "cert.pdf")
    assert "I'll file it with this entry when it is saved" in chat.text
    chat.say("/cancel")
    assert "Cancelled. Nothing was saved." in chat.text
    assert "cert.pdf (E1) stays waiting: /evidence shows it, /attach N files it." in chat.text
    assert "Waiting for an entry: E1 cert.pdf" in chat.say("/evidence")[0].text


def test_cancelling_a_draft_with_two_files_names_both(chat: Chat) -> None:
    chat.say("/log")
    chat.say("Safety workshop")
    send_file(chat, CERT, "cert.pdf")
    send_file(chat, PNG, "badge.png")
    chat.say("cancel")
    assert "cert.pdf (E1) and badge.png (E2) stay waiting: /evidence shows them" in chat.text


def waiting_of(chat: Chat) -> str:
    return chat.say("/evidence")[0].text


def test_files_waiting_for_an_entry_are_restored_by_import_once(
    chat: Chat, engine: Engine, db: Database, schemes: dict[str, Scheme], clock: Clock
) -> None:
    log(chat, "/log 2h Design review yesterday training")
    clock.now += timedelta(hours=2)
    send_file(chat, CERT, "cert.pdf")
    assert "Which entry is this for?" in chat.text
    assert "Waiting for an entry: E1 cert.pdf" in waiting_of(chat)
    data = records.export_all(db, chat.identity, schemes, now=NOW, evidence=engine.evidence)
    assert data is not None
    copy = Chat(engine, IdentityKey("console", "alice-copy"))
    for _ in range(2):
        records.import_report(db, copy.identity, data, schemes, now=NOW, evidence=engine.evidence)
    assert "Waiting for an entry: E1 cert.pdf (/attach N" in waiting_of(copy)
    copy.say("/attach 1")
    assert "Filed E1 (cert.pdf" in copy.text
    assert [r.attachment.content for r in copy.say("/evidence 1") if r.attachment] == [CERT]


def test_cpdbot_export_format_evidence_writes_the_years_files(
    chat: Chat, db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "evidence.zip"
    args = ["export", "--db", db.url, "--user", "alice", "--format", "evidence", "--out", str(out)]
    assert main(args) == 1
    assert "No evidence kept in the CPD year" in capsys.readouterr().err
    assert not out.exists()
    log(chat, "/log 2h Design review yesterday training")
    send_file(chat, CERT, "cert.pdf", caption="1")
    assert main(args) == 0
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        assert archive.read("evidence/E1-cert.pdf") == CERT
        assert "| E1 | #1 | cert.pdf |" in archive.read("evidence/index.md").decode()
