"""Microsoft Teams adapter, issue 14: POST /api/messages, personal chats, Adaptive Cards.

`adapters.teams.auth` checks every incoming request's bearer token (Bot Connector
authentication), `adapters.teams.tokens` gets the bot's own token for what it sends,
`adapters.teams.server` serves the endpoint. Importing this package loads httpx and
aiohttp, no Microsoft library; the app imports it only when Teams is configured.
"""

from adapters.teams.options import TeamsSettings
from adapters.teams.server import TeamsBot, serve

__all__ = ["TeamsBot", "TeamsSettings", "serve"]
