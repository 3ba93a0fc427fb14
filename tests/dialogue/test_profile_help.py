"""/profile is listed in /help for every body (IPEM may be a member's second body), so its
line says whose it is: the HCPC profile of IPEM / HCPC members (issue 16)."""

from __future__ import annotations

from tests.conftest import Chat


def test_profile_help_line_names_ipem_hcpc_for_an_iet_member(chat: Chat) -> None:
    chat.say("/help")
    line = next(x for x in chat.text.splitlines() if x.startswith("/profile"))
    assert line.startswith("/profile — (IPEM/HCPC) the HCPC CPD profile")
