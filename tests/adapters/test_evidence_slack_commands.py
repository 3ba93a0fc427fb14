"""Evidence commands on Slack, through the real bolt app and engine against the fake Web
API. Slack takes '/evidence' and '/attach' typed in a DM as its own (unknown) slash
commands, so members type 'evidence 1' and 'attach 1' without the slash, or after /cpd;
lines that only start like them ('Evidence based practice…', 'Attached a new…') are
still logged."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.services.engine import Engine
from tests.adapters.test_evidence_slack import JPEG, PDF, log_one, share
from tests.adapters.test_slack import T1, TOKEN, Person, Slack, serving
from tests.fake_slack import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.stop()


@pytest.fixture
async def slack(engine: Engine, fake: FakeSlack) -> AsyncIterator[Slack]:
    async with serving(engine, fake) as running:
        yield running


async def test_evidence_after_cpd_or_typed_bare_sends_the_files_back(slack: Slack) -> None:
    fake = slack.fake
    alice = Person(slack, T1, "U0ALICE001")
    await alice.onboard()
    assert any(r.startswith("Saved #1") for r in await log_one(alice, "webinar on earthing"))
    pdf = fake.share_file(PDF, "certificate.pdf", "application/pdf", token=TOKEN)
    photo = fake.share_file(JPEG, "IMG_0042.jpg", "image/jpeg", token=TOKEN)
    await share(alice, [pdf, photo])

    status, body, replies = await alice.command("evidence 1")
    assert (status, body) == (200, "")
    assert any(r.startswith("Evidence of #1 'Webinar on earthing':") for r in replies)
    assert sorted(fake.uploads.values()) == sorted([PDF, JPEG])  # with files_upload_v2
    assert len(fake.called("files.completeUploadExternal")) == 2

    replies = await alice.say("evidence 1")  # typed in the DM, without the slash
    assert any(r.startswith("Evidence of #1") for r in replies)
    assert len(fake.uploads) == 4
    assert (await alice.say("evidence"))[-1].startswith("Evidence kept:\n#1: E1 certificate.pdf")


async def test_attach_and_remove_typed_without_the_slash(slack: Slack) -> None:
    fake = slack.fake
    alice = Person(slack, T1, "U0ALICE001")
    await alice.onboard()
    await log_one(alice, "webinar on earthing")
    await log_one(alice, "seminar on relays")
    (said,) = await alice.say("attach 1 https://example.org/cert/42")
    assert said.startswith("Kept the link with #1 'Webinar on earthing' as E1.")
    assert (await alice.say("attach 2"))[-1].startswith("Send the file for #2 now")
    pdf = fake.share_file(PDF, "certificate.pdf", "application/pdf", token=TOKEN)
    (filed,) = await share(alice, [pdf])
    assert filed.startswith("Filed with #2 'Seminar on relays' as E2 (certificate.pdf")
    photo = fake.share_file(JPEG, "IMG_0042.jpg", "image/jpeg", token=TOKEN)
    (captioned,) = await share(alice, [photo], text="attach 1")  # a caption without a slash
    assert captioned.startswith("Filed with #1 'Webinar on earthing' as E3 (IMG_0042.jpg")
    _, _, replies = await alice.command("evidence remove E1")
    assert replies[-1].startswith("Remove E1 https://example.org/cert/42 from #1?")
    assert await alice.press("Remove") == ["Removed E1 https://example.org/cert/42 from #1."]


async def saved(person: Person, replies: list[str]) -> str:
    """The reflections left for later until the entry is saved; its Saved line."""
    for _ in range(6):
        done = [r for r in replies if r.startswith("Saved #")]
        if done:
            return done[0]
        replies = await person.say("later")
    raise AssertionError(replies)


async def test_lines_that_only_start_like_the_commands_are_logged(
    slack: Slack, engine: Engine
) -> None:
    alice = Person(slack, T1, "U0ALICE001")
    await alice.onboard()
    replies = await alice.say("Evidence based practice seminar 2h yesterday")
    assert replies[0].startswith("Got it: 'Evidence based practice seminar'")
    await saved(alice, replies)
    await saved(alice, await alice.say("Attached a new earth rod, site visit 3h yesterday #work"))
    await saved(alice, await alice.say("attach earth rod at the substation 2h yesterday #work"))
    _, _, replies = await alice.command("Evidence-based practice seminar 2h yesterday")
    assert any(r.startswith("Got it: 'Evidence-based practice seminar'") for r in replies)
    await saved(alice, replies)
    _, _, replies = await alice.command("evidence review of test certificates 1h yesterday #work")
    assert any(r.startswith("Got it: 'Evidence review of test certificates'") for r in replies)
    await saved(alice, replies)
    titles = [e.title for e in alice.record(engine).entries]
    assert sorted(titles) == sorted(
        [
            "Evidence based practice seminar",
            "Attached a new earth rod, site visit",
            "Attach earth rod at the substation",
            "Evidence-based practice seminar",
            "Evidence review of test certificates",
        ]
    )
