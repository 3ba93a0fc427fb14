"""Calendar accounts in storage (issue 15): the refresh token or password stored encrypted
and never exported or logged, one sign-in under way per person, absences recorded, moved
and released, and /calendar remove and /forget leaving nothing behind. Both databases."""

from __future__ import annotations

import base64
import io
import logging
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.core.model import IdentityKey
from storage import calendar_accounts as accounts
from storage import feeds, migrate, repo, rights
from storage.db import Database
from storage.models import Absence, CalendarFeed, CalendarSignin
from storage.secrets import NoSecretKey, SecretBox, SecretUnreadable
from tests.conftest import Chat
from tests.storage.test_migrations import empty_db  # noqa: F401  (fixture)

KEY = "OnQPHixGLtihF5N25svYBjI-As5tmrYvOZrdukmbqvg="
OTHER_KEY = "Uf2awXrLOrnWunDPNODkar96Crphna_bEc76pWqunks="
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PASSWORD = "caldav-pw-Qx81-vvzt"
REFRESH = "0.AQUArefresh-Tk7Yq2-never-shown"
ACCESS = "eyJ0eXAiOiJKV1QiLaccess-Mm31"
DEVICE_CODE = "DAQABAAEAAAD-device-code-Pq95"
PLAINTEXTS = (PASSWORD, REFRESH, ACCESS, DEVICE_CODE)
GRAPH = "https://graph.microsoft.com"
CALDAV = "https://caldav.example.org/dav/calendars/ada/work/"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(KEY)


def person_of(db: Database, chat: Chat) -> int:
    with db.transaction() as s:
        ident = repo.find_identity(s, chat.identity)
        assert ident is not None
        return ident.person_id


def connect_everything(db: Database, box: SecretBox, person_id: int) -> tuple[int, int]:
    """A CalDAV calendar with its password, an Outlook one with its tokens, a sign-in
    under way and an absence: (caldav feed id, graph feed id)."""
    with db.transaction() as s:
        caldav = accounts.add_account_feed(
            s, box, person_id, kind="caldav", url=CALDAV, account="ada", secret=PASSWORD, now=NOW
        )
        graph = accounts.add_account_feed(
            s,
            box,
            person_id,
            kind="graph",
            url=GRAPH,
            account="ada@contoso.example",
            secret="first-refresh",
            now=NOW,
        )
        graph_id = int(graph.id or 0)
        accounts.set_tokens(s, box, graph_id, REFRESH, ACCESS, NOW + timedelta(hours=1))
        accounts.start_signin(
            s,
            box,
            person_id,
            device_code=DEVICE_CODE,
            user_code="ABCD-EFGH",
            verification_uri="https://microsoft.com/devicelogin",
            interval=5,
            expires_at=NOW + timedelta(minutes=15),
            now=NOW,
        )
        accounts.record_absences(
            s,
            graph_id,
            person_id,
            [("oof-1", NOW, NOW + timedelta(days=5))],
            window=(NOW - timedelta(days=7), NOW + timedelta(days=14)),
        )
        return int(caldav.id or 0), graph_id


def raw_secrets(db: Database) -> list[bytes]:
    """The secret columns as the database holds them, read with plain SQL."""
    found: list[bytes] = []
    with db.engine.connect() as conn:
        for row in conn.execute(text("SELECT secret, access_secret FROM calendarfeed")):
            found += [bytes(v) for v in row if v is not None]
        for row in conn.execute(text("SELECT device_code FROM calendar_signin")):
            found.append(bytes(row[0]))
    return found


def test_stored_secrets_cannot_be_read_without_the_key(db: Database, box: SecretBox) -> None:
    with db.transaction() as s:
        pid = repo.get_or_create_identity(s, IdentityKey("console", "ada"), now=NOW)[0].person_id
    caldav_id, graph_id = connect_everything(db, box, pid)

    stored = raw_secrets(db)
    assert len(stored) == 4  # password, refresh token, access token, device code
    for value in stored:
        for plain in PLAINTEXTS:
            assert plain.encode() not in value and plain[-4:].encode() not in value
        with pytest.raises(SecretUnreadable):
            accounts.read_secret(SecretBox(OTHER_KEY), value)
    assert sorted(accounts.read_secret(box, v) for v in stored) == sorted(PLAINTEXTS)

    with db.transaction() as s:
        polled = {f.feed_id: f for f in feeds.feeds_to_consider(s)}
    assert polled[caldav_id].kind == "caldav" and polled[caldav_id].account == "ada"
    assert polled[caldav_id].url == CALDAV
    graph = polled[graph_id]
    assert graph.kind == "graph" and graph.account == "ada@contoso.example"
    assert graph.secret is not None and accounts.read_secret(box, graph.secret) == REFRESH
    assert graph.access_secret is not None
    assert accounts.read_secret(box, graph.access_secret) == ACCESS
    assert graph.access_expires_at == NOW + timedelta(hours=1)


def test_without_a_key_no_account_is_stored(db: Database) -> None:
    no_key = SecretBox(None)
    with db.transaction() as s:
        pid = repo.get_or_create_identity(s, IdentityKey("console", "ada"), now=NOW)[0].person_id
    with pytest.raises(NoSecretKey, match="cpdbot secret-key"), db.transaction() as s:
        accounts.add_account_feed(
            s, no_key, pid, kind="caldav", url=CALDAV, account="ada", secret=PASSWORD, now=NOW
        )
    with pytest.raises(NoSecretKey), db.transaction() as s:
        accounts.start_signin(
            s,
            no_key,
            pid,
            device_code=DEVICE_CODE,
            user_code="ABCD-EFGH",
            verification_uri="https://microsoft.com/devicelogin",
            interval=5,
            expires_at=NOW + timedelta(minutes=15),
            now=NOW,
        )
    with db.transaction() as s:
        assert s.exec(select(CalendarFeed)).all() == []
        assert s.exec(select(CalendarSignin)).all() == []


def everything_written(reply_zip: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(reply_zip)) as archive:
        return b"\n".join(archive.read(name) for name in archive.namelist())


def test_no_export_and_no_log_line_holds_a_secret(
    db: Database, box: SecretBox, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pid = person_of(db, chat)
    connect_everything(db, box, pid)
    chat.say("/log 2h CalDAV course yesterday #training")
    chat.say("later")
    stored = raw_secrets(db)

    files: dict[str, bytes] = {}
    for line in ("/export", "/export csv", "/export md", "/export pdf", "/export json"):
        (reply,) = chat.say(line)
        assert reply.attachment is not None, line
        files[line] = reply.attachment.content
    (reply,) = chat.say("/export all")
    assert reply.attachment is not None
    everything = everything_written(reply.attachment.content)
    files["/export all"] = everything

    for name, content in files.items():
        for plain in PLAINTEXTS:
            assert plain.encode() not in content, f"{name} holds a secret"
        for token in stored:  # not even encrypted, in either form
            assert token not in content and base64.b64encode(token) not in content, name
    assert rights.WITHHELD.encode() in everything  # named, left out
    assert b"ada@contoso.example" in everything  # the account itself is theirs to see
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in (*PLAINTEXTS, *(t.decode() for t in stored)):
        assert secret not in logged


def test_forget_leaves_no_feed_sign_in_or_absence(db: Database, box: SecretBox, chat: Chat) -> None:
    pid = person_of(db, chat)
    connect_everything(db, box, pid)
    with db.transaction() as s:
        assert rights.count_rows(s, pid)["calendar_signin"] == 1
        assert rights.count_rows(s, pid)["absence"] == 1
        assert rights.count_rows(s, pid)["calendarfeed"] == 2

    chat.say("/forget")
    chat.say("FORGET")

    with db.engine.connect() as conn:
        for table in ("calendarfeed", "calendar_signin", "absence"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table
        assert conn.execute(text("SELECT count(*) FROM person")).scalar_one() == 0


def test_removing_a_calendar_deletes_its_secret_and_releases_its_absences(
    db: Database, box: SecretBox
) -> None:
    with db.transaction() as s:
        pid = repo.get_or_create_identity(s, IdentityKey("console", "ada"), now=NOW)[0].person_id
    caldav_id, graph_id = connect_everything(db, box, pid)
    with db.transaction() as s:
        assert accounts.absent_until(s, [pid], NOW + timedelta(days=1)) == {
            pid: NOW + timedelta(days=5)
        }
        assert feeds.remove_feed(s, pid, graph_id)  # /calendar remove: a plain DELETE

    with db.transaction() as s:  # the foreign key's ON DELETE CASCADE took its absences
        assert s.exec(select(Absence)).all() == []
        assert accounts.absent_until(s, [pid], NOW + timedelta(days=1)) == {}
        assert [f.feed_id for f in feeds.feeds_to_consider(s)] == [caldav_id]
    assert len(raw_secrets(db)) == 2  # the CalDAV password and the device code remain


def window(days_back: int = 7, days_ahead: int = 30) -> tuple[datetime, datetime]:
    return NOW - timedelta(days=days_back), NOW + timedelta(days=days_ahead)


def test_absences_are_recorded_moved_and_released(db: Database, box: SecretBox) -> None:
    with db.transaction() as s:
        pid = repo.get_or_create_identity(s, IdentityKey("console", "ada"), now=NOW)[0].person_id
        bob = repo.get_or_create_identity(s, IdentityKey("console", "bob"), now=NOW)[0].person_id
        feed = accounts.add_account_feed(
            s, box, pid, kind="graph", url=GRAPH, account="ada", secret=REFRESH, now=NOW
        )
        fid = int(feed.id or 0)
    week = (NOW + timedelta(days=10), NOW + timedelta(days=17))
    leave = (NOW - timedelta(days=1), NOW + timedelta(days=2))
    with db.transaction() as s:
        done = accounts.record_absences(
            s, fid, pid, [("holiday", *week), ("leave", *leave), ("leave", *leave)], window=window()
        )
        assert done == accounts.AbsenceChanges(added=2)
        assert accounts.absent_until(s, [pid, bob], NOW) == {pid: leave[1]}
        assert accounts.absent_until(s, [pid], week[0] + timedelta(hours=1)) == {pid: week[1]}
        assert accounts.absent_until(s, [pid], week[1]) == {}  # ends_at is not included
        (untold,) = accounts.untold_absences(s, now=NOW)
        assert (untold.person_id, untold.starts_at, untold.ends_at) == (pid, *leave)
        assert accounts.mark_told(s, untold.id) is True
        assert accounts.mark_told(s, untold.id) is False  # once
        assert accounts.untold_absences(s, now=NOW) == []

    # The same poll again changes nothing; the leave is then cut short by a day (still
    # told: the new time overlaps the old), and the holiday moves a week later.
    later = (week[0] + timedelta(days=7), week[1] + timedelta(days=7))
    shorter = (leave[0], leave[1] - timedelta(days=1))
    with db.transaction() as s:
        again = accounts.record_absences(
            s, fid, pid, [("holiday", *week), ("leave", *leave)], window=window()
        )
        assert again == accounts.AbsenceChanges()
        moved = accounts.record_absences(
            s, fid, pid, [("holiday", *later), ("leave", *shorter)], window=window()
        )
        assert moved == accounts.AbsenceChanges(moved=1)
        assert accounts.absent_until(s, [pid], NOW) == {pid: shorter[1]}
        assert accounts.absent_until(s, [pid], week[0] + timedelta(hours=1)) == {}
        assert accounts.absent_until(s, [pid], later[0] + timedelta(hours=1)) == {pid: later[1]}
        assert accounts.untold_absences(s, now=NOW) == []

    # The holiday is cancelled: the next poll no longer finds it, and the hold is released.
    with db.transaction() as s:
        released = accounts.record_absences(s, fid, pid, [("leave", *shorter)], window=window())
        assert released == accounts.AbsenceChanges(released=1)
        assert accounts.absent_until(s, [pid], later[0] + timedelta(hours=1)) == {}
        # Absences beyond a poll's window are kept: the poll could not have seen them.
        accounts.record_absences(
            s,
            fid,
            pid,
            [("leave", *shorter), ("far", NOW + timedelta(days=60), NOW + timedelta(days=61))],
            window=(NOW, NOW + timedelta(days=90)),
        )
        kept = accounts.record_absences(s, fid, pid, [], window=(NOW, NOW + timedelta(days=2)))
        assert kept == accounts.AbsenceChanges(released=1)  # the leave, not the far one
        assert [a.uid for a in s.exec(select(Absence)).all()] == ["far"]


def test_one_sign_in_under_way_per_person(db: Database, box: SecretBox) -> None:
    with db.transaction() as s:
        pid = repo.get_or_create_identity(s, IdentityKey("console", "ada"), now=NOW)[0].person_id

    def start(code: str, at: datetime) -> accounts.PendingSignin:
        with db.transaction() as s:
            return accounts.start_signin(
                s,
                box,
                pid,
                device_code=code,
                user_code=code[-9:],
                verification_uri="https://microsoft.com/devicelogin",
                interval=5,
                expires_at=at + timedelta(minutes=15),
                now=at,
            )

    first = start("device-code-one", NOW)
    second = start("device-code-two", NOW + timedelta(minutes=1))  # /calendar outlook again

    with db.transaction() as s:
        assert len(s.exec(select(CalendarSignin)).all()) == 1
        assert accounts.due_signins(s, NOW + timedelta(seconds=64)) == []
        (due,) = accounts.due_signins(s, NOW + timedelta(seconds=65))
    assert due == second and due != first and due.user_code == "-code-two"
    assert accounts.read_secret(box, due.device_code) == "device-code-two"
    assert due.next_poll_at == NOW + timedelta(minutes=1, seconds=5)

    # Two workers find it due: the first moves its next poll, the second is refused.
    later = due.next_poll_at + timedelta(seconds=10)
    with db.transaction() as s:
        assert accounts.set_next_poll(s, due.id, at=later, interval=10, was=due.next_poll_at)
    with db.transaction() as s:
        assert not accounts.set_next_poll(s, due.id, at=later, was=due.next_poll_at)
        assert accounts.due_signins(s, due.next_poll_at) == []
        (slowed,) = accounts.due_signins(s, later)
    assert slowed.interval == 10
    with db.transaction() as s:  # expired: found however far its next poll is
        assert accounts.due_signins(s, due.expires_at) == [slowed]
        assert accounts.end_signin(s, due.id) is True
        assert accounts.end_signin(s, due.id) is False
        assert accounts.signin_of(s, pid) is None


def test_a_busy_server_keeps_a_feed_out_of_the_polls_until_retry_at(
    db: Database, box: SecretBox
) -> None:
    with db.transaction() as s:
        pid = repo.get_or_create_identity(s, IdentityKey("console", "ada"), now=NOW)[0].person_id
        ics = feeds.add_feed(s, pid, "https://example.org/cal.ics", owner_emails=(), now=NOW)
        graph = accounts.add_account_feed(
            s, box, pid, kind="graph", url=GRAPH, account="ada", secret=REFRESH, now=NOW
        )
        gid = int(graph.id or 0)
        feeds.set_retry_at(s, gid, NOW + timedelta(seconds=120))
    with db.transaction() as s:
        assert {f.feed_id for f in feeds.feeds_to_consider(s)} == {ics.id, gid}
        assert [f.kind for f in feeds.feeds_to_consider(s, now=NOW)] == ["ics"]
        due = feeds.feeds_to_consider(s, now=NOW + timedelta(seconds=120))
        assert {f.feed_id for f in due} == {ics.id, gid}
        (polled,) = [f for f in due if f.feed_id == gid]
        claimed = feeds.claim_poll(s, polled, now=NOW + timedelta(seconds=120))
        assert claimed is not None
        feeds.record_ok(
            s, gid, now=claimed.last_polled_at or NOW, etag=None, last_modified=None, body=None
        )
        accounts.set_delta_state(s, gid, b'{"deltaLink": "https://graph/next"}')
    with db.transaction() as s:
        (after,) = [f for f in feeds.feeds_to_consider(s, now=NOW) if f.feed_id == gid]
        assert after.retry_at is None  # a good poll forgets the wait
        claimed = feeds.claim_poll(s, after, now=NOW + timedelta(minutes=10))
        assert claimed is not None and claimed.body == b'{"deltaLink": "https://graph/next"}'


def test_upgrade_to_0008_keeps_existing_feeds_as_ics(empty_db: Database) -> None:  # noqa: F811
    migrate.upgrade(empty_db, "0007")
    with empty_db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO person (id, display_name, full_name, membership_number, timezone,"
                " scheme_id, status_id, date_order, languages, studying_he, onboarded,"
                " nudge_day, nudge_hour, nudges_enabled, nudge_mode, calendar_all_events,"
                " last_entry_number, created_at) VALUES (1, 'Ada', '', '', 'Europe/London',"
                " 'iet', 'active', 'DMY', 'en', false, true, 1, 9, true, 'always', false, 0,"
                " :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO calendarfeed (id, person_id, url, owner_emails, failures,"
                " failure_reported, created_at) VALUES (1, 1, 'https://example.org/a.ics', '',"
                " 0, false, :now)"
            ),
            {"now": NOW},
        )
    migrate.upgrade(empty_db)
    with empty_db.transaction() as s:
        (feed,) = feeds.feeds_to_consider(s)
    assert (feed.kind, feed.url, feed.secret, feed.retry_at) == (
        "ics",
        "https://example.org/a.ics",
        None,
        None,
    )
