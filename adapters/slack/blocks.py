"""Block Kit rendering: replies as messages with buttons, the entry modal, the App Home view.

Pure functions from the engine's platform-free values to Slack JSON, and back for the
parts Slack returns (a modal's `state.values`). No API calls, no CPD logic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from bot.core.model import Choice, FormField, Outgoing, SecretAsk

Block = dict[str, Any]

# Every button the bot renders has an action id `choice:<n>` and carries the choice id in
# its `value`; a press is matched on that id, never on the label a person reads.
CHOICE_ACTION = "choice"
CHOICE_ACTION_RE = re.compile(rf"^{CHOICE_ACTION}:\d+$")
ENTRY_MODAL = "cpd_entry"  # callback_id of the entry form
# A secret (a CalDAV password) is typed in a modal, never in the chat: the reply's button
# has action id `secret:<field>` and carries the label in its value; the modal's one input
# block has block id <field>, so its submission reads as a form {field: value}.
SECRET_ACTION = "secret"
SECRET_ACTION_RE = re.compile(rf"^{SECRET_ACTION}:.+$")
SECRET_MODAL = "cpd_secret"  # callback_id of the secret's modal
ACTION_ID_MAX = 255
FIELD_ACTION = "value"  # action_id of the one element in each input block

# Slack's limits (https://docs.slack.dev/reference/block-kit).
SECTION_TEXT_MAX = 3000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ACTIONS_PER_BLOCK = 25
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
OPTIONS_MAX = 100
PLACEHOLDER_MAX = 150
LABEL_MAX = 2000
INPUT_MAX = 3000
MESSAGE_TEXT_MAX = 3000  # the notification/fallback text we send alongside blocks


def escape(text: str) -> str:
    """Text safe for mrkdwn: no accidental links, mentions or @channel pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SPECIAL = re.compile(r"<([^<>]*)>")


def plain(text: str, *, drop_user: str | None = None) -> str:
    """What a person typed, from Slack's encoded message text.

    `<@U123>` becomes `@U123` (or disappears when it is `drop_user`, the bot's own
    mention), `<#C1|general>` `#general`, `<https://x|x>` its label, `<!here>` `@here`;
    then `&lt;` `&gt;` `&amp;` are decoded.
    """

    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return "" if target[1:] == drop_user else f"@{label or target[1:]}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            return f"@{label or target[1:].split('^', 1)[0]}"
        return label or target

    decoded = _SPECIAL.sub(one, text)
    decoded = decoded.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return decoded.strip()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain_text(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def text_sections(text: str) -> list[Block]:
    """One or more mrkdwn sections (split at line ends to stay within Slack's limit)."""
    blocks: list[Block] = []
    chunk = ""
    for line in escape(text).split("\n"):
        while len(line) > SECTION_TEXT_MAX:  # one very long line: cut it
            if chunk:
                blocks.append(_section(chunk))
                chunk = ""
            blocks.append(_section(line[:SECTION_TEXT_MAX]))
            line = line[SECTION_TEXT_MAX:]
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > SECTION_TEXT_MAX:
            blocks.append(_section(chunk))
            candidate = line
        chunk = candidate
    if chunk.strip():
        blocks.append(_section(chunk))
    return blocks


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def buttons(choices: Sequence[Choice], *, start: int = 0) -> list[Block]:
    """Actions blocks of buttons: action id `choice:<n>`, value = the choice id."""
    blocks: list[Block] = []
    for first in range(0, len(choices), ACTIONS_PER_BLOCK):
        elements = [
            {
                "type": "button",
                "action_id": f"{CHOICE_ACTION}:{start + first + i}",
                "text": _plain_text(choice.label, BUTTON_TEXT_MAX),
                "value": choice.id[:BUTTON_VALUE_MAX],
            }
            for i, choice in enumerate(choices[first : first + ACTIONS_PER_BLOCK])
        ]
        blocks.append(
            {"type": "actions", "block_id": f"choices:{start + first}", "elements": elements}
        )
    return blocks


def message(reply: Outgoing) -> tuple[str, list[Block]]:
    """A reply as `chat.postMessage` arguments: fallback text and blocks."""
    rendered = text_sections(reply.text) + buttons(reply.choices)
    if reply.secret is not None:
        rendered.append(secret_button(reply.secret))
    return _clip(reply.text, MESSAGE_TEXT_MAX), rendered


def secret_button(ask: SecretAsk) -> Block:
    """The button that opens the secret's modal (the field in its action id)."""
    button = {
        "type": "button",
        "action_id": f"{SECRET_ACTION}:{ask.field}"[:ACTION_ID_MAX],
        "text": _plain_text(ask.button, BUTTON_TEXT_MAX),
        "value": ask.label[:BUTTON_VALUE_MAX],
        "style": "primary",
    }
    return {"type": "actions", "block_id": "secret", "elements": [button]}


def secret_modal(field_id: str, label: str, title: str) -> dict[str, Any]:
    """A modal with one text input for the secret (block id = the field): what is typed
    there goes to the bot alone and never shows in the conversation."""
    element = {"type": "plain_text_input", "action_id": FIELD_ACTION, "max_length": 1000}
    return {
        "type": "modal",
        "callback_id": SECRET_MODAL,
        "title": _plain_text(title, 24),
        "submit": _plain_text("Send", 24),
        "close": _plain_text("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": field_id,
                "label": _plain_text(label or "Password", LABEL_MAX),
                "element": element,
                "hint": _plain_text("Only the bot sees this; it never shows in the chat.", 2000),
            },
        ],
    }


def pressed(blocks: Iterable[Mapping[str, Any]], label: str) -> list[Block]:
    """The message after a press: the same text, its buttons replaced by what was chosen."""
    kept = [dict(b) for b in blocks if b.get("type") != "actions"]
    chosen = {"type": "context", "elements": [_plain_text(f"✓ {label}", 2000)]}
    return [*kept, chosen]


# ---------------------------------------------------------------- the entry modal


def entry_modal(fields: Sequence[FormField], today: date) -> dict[str, Any]:
    """The entry form as a modal: one input block per field, block id = field id."""
    return {
        "type": "modal",
        "callback_id": ENTRY_MODAL,
        "title": _plain_text("Log CPD", 24),
        "submit": _plain_text("Save", 24),
        "close": _plain_text("Cancel", 24),
        "blocks": [_input(f, today) for f in fields],
    }


def _input(f: FormField, today: date) -> Block:
    element: dict[str, Any]
    limit = max(1, min(f.max_length, INPUT_MAX))
    if f.kind == "date":
        element = {"type": "datepicker", "initial_date": today.isoformat()}
    elif f.kind == "select":
        element = {
            "type": "static_select",
            "options": [
                {
                    "text": _plain_text(o.label, OPTION_TEXT_MAX),
                    "value": o.id[:OPTION_VALUE_MAX],
                }
                for o in f.options[:OPTIONS_MAX]
            ],
        }
    else:  # text, longtext, hours
        element = {"type": "plain_text_input", "max_length": limit}
        if f.kind == "longtext":
            element["multiline"] = True
    element["action_id"] = FIELD_ACTION
    if f.placeholder:
        element["placeholder"] = _plain_text(f.placeholder, PLACEHOLDER_MAX)
    return {
        "type": "input",
        "block_id": f.id,
        "label": _plain_text(f.label, LABEL_MAX),
        "optional": not f.required,
        "element": element,
    }


def form_values(view: Mapping[str, Any]) -> dict[str, str]:
    """A submitted modal's `state.values` as field id -> raw value ('' when left empty)."""
    values: dict[str, str] = {}
    state = view.get("state") or {}
    for block_id, actions in (state.get("values") or {}).items():
        element = (actions or {}).get(FIELD_ACTION) or {}
        kind = element.get("type")
        if kind == "datepicker":
            value = element.get("selected_date")
        elif kind in ("static_select", "radio_buttons"):
            value = (element.get("selected_option") or {}).get("value")
        else:
            value = element.get("value")
        values[str(block_id)] = value or ""
    return values


def form_errors(view: Mapping[str, Any], errors: Mapping[str, str]) -> dict[str, str]:
    """`response_action: errors` for the modal: field id -> message, on the blocks it has."""
    block_ids = [b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"]
    shown: dict[str, str] = {}
    for field_id, text in errors.items():
        target = field_id if field_id in block_ids else (block_ids[0] if block_ids else field_id)
        shown[target] = _clip(f"{shown[target]} {text}" if target in shown else text, 2000)
    return shown


# ---------------------------------------------------------------- App Home


def home_view(replies: Sequence[Outgoing]) -> dict[str, Any]:
    """The App Home tab: the engine's home replies as sections, their choices as buttons."""
    blocks: list[Block] = [{"type": "header", "text": _plain_text("Your CPD", 150)}]
    start = 0
    for reply in replies:
        blocks += text_sections(reply.text)
        blocks += buttons(reply.choices, start=start)
        start += len(reply.choices)
        blocks.append({"type": "divider"})
    if blocks[-1]["type"] == "divider":
        blocks.pop()
    return {"type": "home", "blocks": blocks[:100]}
