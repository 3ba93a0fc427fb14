"""The chat commands as the platforms show them, from the dialogue's flow registry:
Telegram's command menu, and the words Slack reads as commands after `/cpd` (adapters may
not import the dialogue, so they ask here)."""

from __future__ import annotations

from bot.dialogue import registry


def menu() -> tuple[tuple[str, str], ...]:
    """(command, one-line summary) for a platform's command menu, in order."""
    return registry.MENU


def essential_menu() -> tuple[tuple[str, str], ...]:
    """The ten commands a member needs most, in menu order (the Teams app's menu)."""
    return registry.ESSENTIAL


def slashless_words() -> frozenset[str]:
    """Commands that may be typed without a slash ('log 1h …', 'status')."""
    return registry.SLASHLESS


def takes(word: str, args: str) -> bool:
    """Whether `/cpd WORD ARGS` (Slack) is command WORD: a command read by the shape of its
    arguments only when they have it ('/cpd evidence 12' is /evidence 12; '/cpd evidence
    based practice 2h' is a log line)."""
    command = registry.COMMANDS.get(word)
    return command is not None and (command.shape is None or command.shape(args.strip()))


def busy_commands() -> frozenset[str]:
    """Commands that start a dialogue (refused while another one is under way)."""
    return registry.BUSY_COMMANDS


def help_text() -> str:
    """What /help says."""
    return registry.HELP
