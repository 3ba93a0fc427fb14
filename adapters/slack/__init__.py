"""Slack adapter (slack-bolt, async): DMs, /cpd, buttons, the entry modal and App Home."""

from adapters.slack.app import SlackBot
from adapters.slack.sender import SlackSender
from adapters.slack.server import serve

__all__ = ["SlackBot", "SlackSender", "serve"]
