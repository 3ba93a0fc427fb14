"""People's names and Slack time zones (users.info), each answer reused for a few minutes."""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import Profile
from bot.core.model import IdentityKey

log = logging.getLogger("cpdbot.slack")

PROFILE_TTL = 600.0  # seconds a users.info answer (time zone, name) is reused
PROFILE_FAILED_TTL = 30.0  # ...and how long to go without one after users.info failed
PROFILES_MAX = 10_000  # beyond this, expired answers are dropped


class Profiles:
    """`get(key)`: the person's `Profile`, from users.info or a recent answer."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._cache: dict[IdentityKey, tuple[float, Profile]] = {}

    async def get(self, key: IdentityKey) -> Profile:
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        ttl = PROFILE_TTL
        try:
            response = await self._client.users_info(user=key.user_id)
            profile = Profile.of(response.get("user") or {})
        except SlackApiError as exc:
            log.info("slack: users.info %s failed: %s", key.user_id, exc)
            profile, ttl = Profile(), PROFILE_FAILED_TTL
        if len(self._cache) >= PROFILES_MAX:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + ttl, profile)
        return profile
