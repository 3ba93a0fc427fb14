"""Replies as Teams message activities: Markdown text, or an Adaptive Card with buttons.

Pure functions from the engine's platform-free `Outgoing` to Bot Framework activity JSON.
Every button is an `Action.Submit` whose data carries the choice id (`{"cpd": id}`); the
label and the question ride along only to show what was chosen once the card is replaced
(a press arrives without the card). `Action.Submit` rather than `Action.Execute`: a press
is then a plain message activity, recorded in the inbox and answered 200 like any other,
while an `Action.Execute` invoke must be answered in its own HTTP response.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.teams import files
from adapters.teams.translate import CHOICE_FIELD, FORM_FIELD, SECRET_FIELD
from bot.core.model import Choice, FormField, Outgoing, SecretAsk

Activity = dict[str, Any]

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
TEXT_MAX = 20_000  # characters: Teams refuses messages over about 40 KB
QUESTION_IN_DATA_MAX = 500  # the question carried in each button's data
LABEL_MAX = 100
BUTTONS_PER_SET = 5  # Teams shows at most 6 actions in a set; more overflow into "..."
_INLINE = re.compile(r"([\\`*_\[\]~|])")  # emphasis, code, links, strikes, tables
_LINE_MARK = re.compile(r"^(\s*)([#>+-])", re.MULTILINE)  # headings, quotes, bullets
_NUMBERED = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)  # "1. " starts a list


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Text shown as typed in Teams Markdown: no accidental emphasis, links or HTML."""
    text = _INLINE.sub(r"\\\1", text.replace("&", "&amp;").replace("<", "&lt;"))
    text = _LINE_MARK.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)
    return _NUMBERED.sub(lambda m: f"{m.group(1)}\\.", text)


def message(reply: Outgoing) -> Activity:
    """The activity that posts `reply` (a card when it has choices). A chart (a small
    image) goes in the message (adapters/teams/files.py); any other file is offered by a
    consent card in the personal chat (`TeamsWork.deliver`). Where no card can be
    offered (a message the bot starts, adapters/teams/proactive.py: its file would not
    wait for the answer), the text says how to get the file, never passing for sent."""
    text = _clip(reply.text + _not_here(reply), TEXT_MAX)
    file = reply.attachment
    images = [files.inline_image(file)] if file is not None and files.inline(file) else []
    if not reply.choices and reply.secret is None:
        activity: Activity = {"type": "message", "textFormat": "markdown", "text": escape(text)}
        if images:
            activity["attachments"] = images
        return activity
    return {
        "type": "message",
        "attachments": [
            {"contentType": CARD_TYPE, "content": card(text, reply.choices, reply.secret)},
            *images,
        ],
    }


def _not_here(reply: Outgoing) -> str:
    file = reply.attachment
    if file is None or files.inline(file):
        return ""
    if file.mime_type.startswith("image/"):
        return ""  # a chart too big to show: its figures are in the text
    return (
        f"\n\n(In Teams I send files when you ask for them: send /export here, with the "
        f"year for an earlier one, and press Allow to get {file.filename} in this chat.)"
    )


def _text_block(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape(text), "wrap": True, **extra}


def card(text: str, choices: Sequence[Choice], secret: SecretAsk | None = None) -> dict[str, Any]:
    """An Adaptive Card: the text, then the choices as buttons carrying their ids (and a
    secret's masked input with its own submit button)."""
    question = _clip(text, QUESTION_IN_DATA_MAX)
    actions = [
        {
            "type": "Action.Submit",
            "title": _clip(choice.label, LABEL_MAX),
            "data": {
                CHOICE_FIELD: choice.id,
                "label": _clip(choice.label, LABEL_MAX),
                "q": question,
            },
        }
        for choice in choices
    ]
    body: list[dict[str, Any]] = [_text_block(text)]
    for first in range(0, len(actions), BUTTONS_PER_SET):
        body.append({"type": "ActionSet", "actions": actions[first : first + BUTTONS_PER_SET]})
    if secret is not None:
        body += secret_input(secret)
    return _adaptive(body)


def secret_input(ask: SecretAsk) -> list[dict[str, Any]]:
    """A password input (masked as typed) and its submit, whose data marks a secret."""
    field = {
        "type": "Input.Text",
        "id": ask.field,
        "style": "password",
        "label": _clip(ask.label, LABEL_MAX),
        "isRequired": True,
        "errorMessage": "Type it here, then press the button.",
    }
    submit = {
        "type": "Action.Submit",
        "title": _clip(ask.button, LABEL_MAX),
        "data": {SECRET_FIELD: ask.field, "label": _clip(ask.label, LABEL_MAX)},
    }
    return [field, {"type": "ActionSet", "actions": [submit]}]


SECRET_RECEIVED = "✓ Password received"


def secret_received(activity_id: str, label: str) -> Activity:
    """A secret's card once submitted (PUT over it): its input gone."""
    body = [_text_block(SECRET_RECEIVED, weight="Bolder")]
    if label:
        body.insert(0, _text_block(label))
    return {
        "type": "message",
        "id": activity_id,
        "attachments": [{"contentType": CARD_TYPE, "content": _adaptive(body)}],
    }


def pressed(activity_id: str, text: str, label: str) -> Activity:
    """The card after a press (PUT over it): its text and what was chosen, no buttons."""
    body = [_text_block(text), _text_block(f"✓ {label}", weight="Bolder")]
    return {
        "type": "message",
        "id": activity_id,
        "attachments": [{"contentType": CARD_TYPE, "content": _adaptive(body)}],
    }


def _adaptive(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    }


def replaced(activity_id: str, reply: Outgoing) -> Activity:
    """A card replaced (PUT over it) by a reply, its choices as buttons."""
    content = card(_clip(reply.text, TEXT_MAX), reply.choices)
    return {
        "type": "message",
        "id": activity_id,
        "attachments": [{"contentType": CARD_TYPE, "content": content}],
    }


# ---------------------------------------------------------------- the quick form


def form_message(
    fields: Sequence[FormField],
    today: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    note: str = "",
    drawn: int = 1,
) -> Activity:
    """The entry form as a card: one input per field (input id = field id), each error
    under its field, the values typed kept; Save submits them with `{"cpd_form": drawn}`."""
    values, errors = values or {}, errors or {}
    ids = {f.id for f in fields}
    body: list[dict[str, Any]] = [_text_block("Log CPD", weight="Bolder", size="Medium")]
    if note:
        body.append(_text_block(note))
    for text in (text for field_id, text in errors.items() if field_id not in ids):
        body.append(_text_block(text, color="Attention"))
    for f in fields:
        body.append(_input(f, values.get(f.id, today if f.kind == "date" and f.required else "")))
        if f.id in errors:
            body.append(_text_block(errors[f.id], color="Attention", spacing="None"))
    content = _adaptive(body)
    content["actions"] = [{"type": "Action.Submit", "title": "Save", "data": {FORM_FIELD: drawn}}]
    return {"type": "message", "attachments": [{"contentType": CARD_TYPE, "content": content}]}


def _input(f: FormField, value: str) -> dict[str, Any]:
    label = f.label if f.required else f"{f.label} (optional)"
    element: dict[str, Any] = {"id": f.id, "label": _clip(label, LABEL_MAX)}
    if f.kind == "date":
        element["type"] = "Input.Date"
    elif f.kind == "select":
        element["type"] = "Input.ChoiceSet"
        element["style"] = "compact"
        element["choices"] = [
            {"title": _clip(o.label, LABEL_MAX), "value": o.id} for o in f.options
        ]
    else:  # text, longtext, hours
        element["type"] = "Input.Text"
        element["maxLength"] = f.max_length
        if f.kind == "longtext":
            element["isMultiline"] = True
    if f.placeholder:
        element["placeholder"] = _clip(f.placeholder, LABEL_MAX)
    if value:
        element["value"] = value
    return element
