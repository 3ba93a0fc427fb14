"""The dialogue: a pure state machine, `step(conv, event, ctx) -> Step`.

No I/O, no clock reads, no platform types. The engine loads what `needs()` asks for into a
`Snapshot`, calls `step`, then writes the new state and the effects in one transaction.
Each flow (onboarding, log, reflect, entries, settings, calendar, plan, forget, record
views) is one module in `bot/dialogue/flows/`; `registry` collects them (its docstring says
how to add a command or a flow); `kernel` holds what applies in every state. Nothing typed
is lost: `drafts` parks a log draft when a new /log comes mid-dialogue and offers back one
left for more than a day; `late` offers a reflection sent just after a save to that entry.
The transitions are `TRANSITIONS`; `docs/dialogue.md` draws them (a test keeps them in step).
"""

from __future__ import annotations

from bot.dialogue.common import INPUT_MAX, REFLECTION_MAX, TITLE_MAX
from bot.dialogue.conversation import (
    DATE_ORDERS,
    Context,
    Conv,
    Data,
    Draft,
    PlanDraft,
    State,
    Step,
    Undo,
    replace_data,
)
from bot.dialogue.flows.log_form import entry_form
from bot.dialogue.flows.record_views import LIST_DEFAULT, LIST_MAX, home
from bot.dialogue.kernel import needs, step
from bot.dialogue.registry import (
    ALLOWED,
    BARE_ONLY,
    BUSY_COMMANDS,
    HELP,
    MENU,
    SLASHLESS,
    TRANSITIONS,
)

__all__ = [
    "ALLOWED",
    "BARE_ONLY",
    "BUSY_COMMANDS",
    "DATE_ORDERS",
    "HELP",
    "INPUT_MAX",
    "LIST_DEFAULT",
    "LIST_MAX",
    "MENU",
    "REFLECTION_MAX",
    "SLASHLESS",
    "TITLE_MAX",
    "TRANSITIONS",
    "Context",
    "Conv",
    "Data",
    "Draft",
    "PlanDraft",
    "State",
    "Step",
    "Undo",
    "entry_form",
    "home",
    "needs",
    "replace_data",
    "step",
]
