"""`/export all` is everything the bot holds about the member: the files kept with an entry
that was deleted (kept until /undo or the purge) are in its ZIP too, named by their number
like the others and marked in index.md as "(entry #2 deleted)", and the reply counts them.
`cpdbot import` of that ZIP does not import deleted entries, so it leaves their files out
and says so, one line each, and the import still succeeds.

Through the real chat and engine on both databases; the import through the real CLI into
a new SQLite database.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bot.services import evidence, records
from bot.services.engine import Engine
from cpdbot.cli import main
from storage.db import Database
from tests.conftest import Chat
from tests.dialogue.test_evidence_flow import CERT, PNG, log, send_file
from tests.services.test_evidence_exports import NOW, file_reply, person_id

LINK = "https://example.org/cert/42"


@pytest.fixture
def deleted(chat: Chat) -> Chat:
    """#1 with a certificate (E1); #2 with a photo (E2) and a link (E3), then deleted."""
    log(chat, "/log 2h Design review yesterday training")
    log(chat, "/log 1h Standards reading yesterday self study")
    send_file(chat, CERT, "cert.pdf", caption="1")
    send_file(chat, PNG, "site photo.png", caption="2")
    chat.say(f"/attach 2 {LINK}")
    chat.say("/delete 2")
    chat.press("Delete")
    assert "Deleted" in chat.text, chat.text
    return chat


def test_export_all_holds_a_deleted_entrys_file_marked_and_counted(deleted: Chat) -> None:
    reply = file_reply(deleted, "/export all")
    assert reply.attachment is not None
    with zipfile.ZipFile(io.BytesIO(reply.attachment.content)) as archive:
        assert archive.read("evidence/E1-cert.pdf") == CERT
        assert archive.read("evidence/E2-site-photo.png") == PNG
        index = archive.read("evidence/index.md").decode()
    size = round((len(CERT) + len(PNG)) / 1024)
    assert index.startswith(f"# Evidence (2 files, {size} KB)")
    assert "| E1 | #1 | cert.pdf |" in index
    assert "| E2 | (entry #2 deleted) | site photo.png |" in index
    assert f"| E3 | (entry #2 deleted) | {LINK} | Link |" in index
    # The reply counts what the ZIP holds: both files, and the link in index.md.
    assert f"It holds your 2 evidence files ({size} KB) in evidence/" in reply.text
    assert "(and 1 link)." in reply.text


def test_cpdbot_import_leaves_a_deleted_entrys_file_out_and_says_so(
    deleted: Chat,
    engine: Engine,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = records.export_all(db, deleted.identity, engine.schemes, now=NOW)
    assert data is not None
    path = tmp_path / "everything.zip"
    path.write_bytes(data)
    elsewhere = f"sqlite:///{tmp_path / 'restored.db'}"
    assert main(["import", "--db", elsewhere, "--user", "alice", str(path)]) == 0
    said = capsys.readouterr()
    assert "Imported 1 entry for alice; skipped 0 already recorded." in said.out
    assert "Evidence: 1 piece kept; skipped 0 already there." in said.out
    for left_out in (
        "E2 (site photo.png) not imported: it was kept with #2, which was deleted "
        "(deleted entries are not imported).",
        f"E3 ({LINK}) not imported: it was kept with #2, which was deleted "
        "(deleted entries are not imported).",
    ):
        assert left_out in said.out
    assert said.err == ""
    restored = Database(elsewhere)
    try:
        pid = person_id(restored, deleted.identity)
        with restored.transaction() as s:
            assert evidence.content(s, engine.evidence, pid, 1) == CERT
            with pytest.raises(LookupError):
                evidence.content(s, engine.evidence, pid, 2)
    finally:
        restored.dispose()
