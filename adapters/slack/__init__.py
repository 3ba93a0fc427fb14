"""Slack adapter (slack-bolt, async): DMs, /cpd, buttons, the entry modal and App Home."""

from adapters.slack.bolt_app import SlackBot
from adapters.slack.options import SlackSettings
from adapters.slack.sender import SlackSender
from adapters.slack.server import serve

__all__ = ["SlackBot", "SlackSender", "SlackSettings", "serve"]
