"""Teams conversation references (issue 14): held per identity so the bot can write first
(nudges, summaries), whole however long, written only when they change, erased by /forget,
and the identity reachable again once the person writes after a 403/404."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, text
from sqlmodel import select

from bot.core.model import ConversationRef, IdentityKey
from bot.core.schemes import Scheme
from bot.services import references
from bot.services.engine import Engine
from storage import migrate, outbox, rights
from storage import references as store
from storage.db import Database
from storage.models import ConversationReference, Identity, Person
from tests.conftest import Chat, Clock
from tests.storage.test_migrations import differences, empty_db  # noqa: F401  (fixture)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ADA = IdentityKey("teams", "29f0c2a1-7c5e-4f4b-8d7e-2b1e0a9c3d11", TENANT)
# Shaped like Teams' own: a personal chat's id ("a:" and ~128 characters) and a regional
# service URL whose path (region, tenant) must be kept whole (Microsoft Learn, "Send
# proactive messages"; Bot Framework Activity schema, serviceUrl / conversation.id).
CONVERSATION = "a:1" + ("Xk9_qZ3-vB7mW2pL5nR8tY4sD6fH1jK0cV" * 4)[:127]
SERVICE_URL = f"https://smba.trafficmanager.net/emea/{TENANT}/"
REF = ConversationRef(
    service_url=SERVICE_URL,
    conversation_id=CONVERSATION,
    tenant_id=TENANT,
    bot_id="28:0d5a5e2c-1f3b-4c6d-9e8f-a1b2c3d4e5f6",
)


@pytest.fixture
def ada(engine: Engine) -> Chat:
    """A Teams member who has onboarded in their personal chat."""
    chat = Chat(engine, ADA)
    chat.onboard()
    return chat


def rows(db: Database) -> list[ConversationReference]:
    with db.transaction() as s:
        return list(s.exec(select(ConversationReference)).all())


def test_a_personal_message_stores_the_reference_once_and_sends_read_it(
    ada: Chat, engine: Engine, clock: Clock, db: Database
) -> None:
    assert len(CONVERSATION) == 130
    assert references.reference_for(engine, ADA) is None  # nothing held before

    assert references.remember(engine, ADA, REF) is True
    first = rows(db)
    clock.now += timedelta(hours=1)
    assert references.remember(engine, ADA, REF) is False  # the same: no write
    assert references.remember(db, ADA, REF) is False

    assert rows(db) == first and rows(db)[0].updated_at == first[0].updated_at
    assert references.reference_for(engine, ADA) == REF


def test_a_changed_reference_replaces_the_old_one(
    ada: Chat, engine: Engine, clock: Clock, db: Database
) -> None:
    references.remember(engine, ADA, REF)
    clock.now += timedelta(days=30)
    moved = replace(REF, service_url=f"https://smba.trafficmanager.net/uk/{TENANT}/")

    assert references.remember(engine, ADA, moved) is True

    (row,) = rows(db)
    assert row.service_url == moved.service_url and row.updated_at == clock.now
    assert references.reference_for(db, ADA) == moved


def test_long_ids_and_a_long_service_url_come_back_whole(ada: Chat, db: Database) -> None:
    long_url = SERVICE_URL + "/".join(f"segment-{n:04d}" for n in range(170))
    long_url = long_url[: store.LIMITS["service_url"]]
    ref = ConversationRef(long_url, "19:" + "c" * 509, TENANT, "28:" + "b" * 125, "msteams")
    assert len(ref.conversation_id) == 512 and len(long_url) == 2048

    assert references.remember(db, ADA, ref) is True
    assert references.reference_for(db, ADA) == ref


def test_a_reference_too_long_is_not_stored_cut_short(ada: Chat, db: Database) -> None:
    references.remember(db, ADA, REF)
    too_long = replace(REF, service_url=SERVICE_URL + "x" * 2048)

    assert references.remember(db, ADA, too_long) is False
    assert references.reference_for(db, ADA) == REF  # the one held stays
    with db.transaction() as s, pytest.raises(ValueError, match="service_url is"):
        store.remember(s, ADA, too_long, now=ada.engine.clock())
    assert references.remember(db, ADA, replace(REF, conversation_id="")) is False


def test_nothing_is_stored_for_someone_the_engine_has_not_met(db: Database) -> None:
    assert references.remember(db, ADA, REF) is False
    assert references.reference_for(db, ADA) is None
    assert rows(db) == []


def test_the_same_user_in_another_tenant_is_someone_else(
    ada: Chat, engine: Engine, db: Database
) -> None:
    other = IdentityKey("teams", ADA.user_id, "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
    Chat(engine, other).onboard()
    theirs = replace(REF, tenant_id=other.workspace, conversation_id="a:1other")
    references.remember(db, ADA, REF)
    references.remember(db, other, theirs)

    assert references.reference_for(db, ADA) == REF
    assert references.reference_for(db, other) == theirs


def test_unreachable_after_a_refused_send_and_reachable_when_they_write(
    ada: Chat, db: Database
) -> None:
    references.remember(db, ADA, REF)
    with db.transaction() as s:
        identity = s.exec(select(Identity)).one()
        assert identity.id is not None
        person_id, identity_id = identity.person_id, identity.id
        outbox.mark_unreachable(s, identity_id)  # what the send loop does on a 403/404
    with db.transaction() as s:
        assert outbox.preferred_identities(s, [person_id]) == {}  # nothing more is sent

    assert references.remember(db, ADA, REF) is True  # they wrote: the same chat works

    with db.transaction() as s:
        assert outbox.preferred_identities(s, [person_id]) == {person_id: identity_id}
    assert references.remember(db, ADA, REF) is False


def test_forget_erases_the_reference(ada: Chat, db: Database) -> None:
    references.remember(db, ADA, REF)
    with db.transaction() as s:
        held = rights.person_data(s, 1)
    assert [r["conversation_id"] for r in held["conversation_reference"]] == [CONVERSATION]

    ada.say("/forget")
    ada.press("Erase everything")

    assert "no longer hold anything" in ada.text
    assert rows(db) == []
    assert references.reference_for(db, ADA) is None
    with db.transaction() as s:
        assert s.exec(select(func.count()).select_from(Person)).one() == 0


def test_migration_0007_up_and_down_from_0006(
    empty_db: Database,  # noqa: F811
    schemes: dict[str, Scheme],
    clock: Clock,
) -> None:
    migrate.upgrade(empty_db, "0006")
    with empty_db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO person (id, display_name, full_name, membership_number, timezone,"
                " scheme_id, status_id, date_order, languages, studying_he, onboarded,"
                " nudge_day, nudge_hour, nudges_enabled, nudge_mode, last_entry_number,"
                " created_at) VALUES (1, 'Ada', '', '', 'Europe/London', 'iet', 'active', 'DMY',"
                " 'en', false, true, 1, 9, true, 'always', 0, '2026-11-01 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO identity (id, person_id, platform, workspace, user_id, chat_id,"
                " unreachable, created_at) VALUES (1, 1, :platform, :tenant, :user, NULL,"
                " false, '2026-11-01 09:00:00')"
            ),
            {"platform": ADA.platform, "tenant": ADA.workspace, "user": ADA.user_id},
        )

    migrate.upgrade(empty_db)

    assert differences(empty_db) == []
    engine = Engine(empty_db, schemes, clock)
    assert references.remember(engine, ADA, REF) is True
    assert references.reference_for(engine, ADA) == REF

    migrate.downgrade(empty_db, "0006")
    assert "conversation_reference" not in inspect(empty_db.engine).get_table_names()
    with empty_db.engine.connect() as conn:
        assert conn.execute(text("SELECT user_id FROM identity")).scalar_one() == ADA.user_id

    migrate.upgrade(empty_db)
    assert differences(empty_db) == []
    assert references.reference_for(engine, ADA) is None
