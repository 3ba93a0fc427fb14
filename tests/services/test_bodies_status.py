"""Several bodies, one record (issue 16): /status shows each body's requirements side by
side, each in its own CPD year, from one set of entries (real engine, SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest

from bot.core.model import IdentityKey
from bot.services.engine import Engine
from tests.conftest import Chat


def log(chat: Chat, line: str) -> None:
    chat.say(line)
    chat.say("later")


@pytest.fixture
def ipem(engine: Engine) -> Chat:
    c = Chat(engine, IdentityKey("console", "ines"))
    c.onboard("IPEM / HCPC")
    return c


def section(text: str, head: str) -> str:
    """The lines of /status from the one starting with `head` to the next blank line."""
    start = text.index(head)
    end = text.find("\n\n", start)
    return text[start:] if end < 0 else text[start:end]


def test_ipem_and_iet_requirements_side_by_side_from_one_set_of_entries(ipem: Chat) -> None:
    ipem.say("/settings bodies IET")
    log(ipem, "/log 1h peer review of plans 3 nov #peerreview")
    log(ipem, "/log 1.5h journal article on dosimetry 10 nov #reading")
    ipem.say("/status")
    text = ipem.text
    # The primary's standing, as before ...
    assert text.startswith("CPD year 2026 (IPEM / HCPC, Registrant): 2 h 30 (no hours target).")
    assert "✓ A mixture of learning methods: 2 methods" in text
    # ... then IET's, from the same two entries, in IET's categories and against its target.
    iet = section(text, "IET, CPD year 2026")
    assert "Professionally active): 2 h 30 of 30 h (8%)." in iet
    assert "  Work experience: 1 h\n  Self-study: 1 h 30" in iet
    assert "IET requirements: 2 not yet met." in iet
    assert "✗ Hours: 2 h 30 of 30 h" in iet
    # Logged once: two entries, not four.
    assert "2 entries; 2 with reflections pending" in text


def test_each_body_counts_in_its_own_cpd_year(engine: Engine) -> None:
    iet = Chat(engine, IdentityKey("console", "ian"))
    iet.onboard("IET")
    iet.say("/settings bodies STEP")
    log(iet, "/log 2h webinar on arc-flash safety 20 march #webinar")  # STEP: 2025/26
    log(iet, "/log 1h reading on trusts 10 april #reading")  # STEP: 2026/27
    assert "For STEP, is #2 'Reading on trusts' Reading or Research?" in iet.text
    iet.press("Reading")
    iet.say("/status")
    text = iet.text
    assert text.startswith("CPD year 2026 (IET, Professionally active): 3 h of 30 h")
    step = section(text, "STEP, CPD year 2026/27")
    assert "(Wed 1 Apr 2026 to Wed 31 Mar 2027, STEP member): 1 h (no target)." in step
    assert "  Reading: 1 h" in step
    assert "Webinar" not in step  # 20 March is in STEP's year before


def test_status_without_other_bodies_is_unchanged(ipem: Chat) -> None:
    log(ipem, "/log 1h peer review of plans 3 nov #peerreview")
    ipem.say("/status")
    assert "IET" not in ipem.text and "Not yet filed" not in ipem.text


def test_a_body_removed_leaves_status_and_its_answers(ipem: Chat) -> None:
    ipem.say("/settings bodies IET")
    log(ipem, "/log 2h radiotherapy QA workshop on Tuesday #workshop")
    ipem.press("Training courses")
    ipem.say("/settings bodies none")
    assert "You now follow only IPEM / HCPC." in ipem.text
    ipem.say("/status")
    assert "IET" not in ipem.text
    ipem.say("/settings bodies IET")  # the answer went with the body: asked again
    ipem.say("/status")
    assert "Not yet filed: 1 entry (2 h)" in ipem.text
