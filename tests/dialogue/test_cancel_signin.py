"""/cancel with no dialogue under way while an Outlook sign-in waits: the member is told the
sign-in still waits (its code and until when) and how to stop it; the sign-in is kept, as
the member may be finishing it on another device. Real engine, the fake Microsoft identity
platform on 127.0.0.1, time frozen; both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from bot.core.schemes import Scheme
from storage.db import Database
from storage.secrets import SecretBox
from tests.conftest import NOW, Clock
from tests.fake_microsoft import FakeMicrosoft
from tests.scheduling import make_jobs
from tests.services.test_calendar_signin import (
    KEY,
    SIGNED_IN,
    endpoints,
    member,
    rows,
    say,
    tick,
)

NOTHING = "Nothing to cancel. /help lists what I can do."


@pytest.fixture
async def ms() -> AsyncIterator[FakeMicrosoft]:
    fake = await FakeMicrosoft().start()
    yield fake
    await fake.stop()


@pytest.fixture
def keyed(db: Database) -> Iterator[Database]:
    db.secrets = SecretBox(KEY)
    yield db
    db.secrets = SecretBox(None)  # the PostgreSQL database object is shared by tests


async def test_cancel_says_the_outlook_sign_in_still_waits_and_keeps_it(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    (code,) = ms.sign_ins

    said = await say(chat, "/cancel")
    assert said == (
        f"Nothing under way here; your Outlook sign-in is still waiting (code {code} "
        "until 10:15). /calendar remove stops it."
    )
    assert len(rows(keyed, "calendar_signin")) == 1
    assert f"enter the code {code}" in await say(chat, "/calendar list")

    ms.approve(code)  # finished on another device: it still connects
    jobs, recorder = make_jobs(keyed, schemes, clock, microsoft=endpoints(ms))
    await tick(jobs, clock, 5)
    assert [reply.text for _, reply in recorder.sent] == [SIGNED_IN]
    assert len(rows(keyed, "calendarfeed")) == 1
    assert await say(chat, "/cancel") == NOTHING  # signed in: nothing waits any more


async def test_cancel_after_the_code_expired_has_nothing_to_say_about_it(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    assert "sign-in is still waiting" in await say(chat, "/cancel")
    clock.now = NOW + timedelta(minutes=15)  # the code's 15 minutes are up
    assert await say(chat, "/cancel") == NOTHING


async def test_cancel_stops_a_dialogue_as_before_while_a_sign_in_waits(
    keyed: Database, schemes: dict[str, Scheme], clock: Clock, ms: FakeMicrosoft
) -> None:
    chat = member(keyed, schemes, clock, ms)
    await say(chat, "/calendar outlook")
    await say(chat, "/log")
    said = await say(chat, "/cancel")
    assert "sign-in" not in said and "Cancelled" in said
    assert "sign-in is still waiting" in await say(chat, "/cancel")
    assert len(rows(keyed, "calendar_signin")) == 1
