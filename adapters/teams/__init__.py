"""Microsoft Teams adapter (Microsoft 365 Agents SDK), issue 14.

So far its security layer: `adapters.teams.auth` checks every incoming request's bearer
token (Bot Connector authentication) and `adapters.teams.tokens` gets the bot's own token
for the replies it sends. This package imports nothing itself, so that `cpdbot --help`
and the other platforms load no Teams library.
"""
