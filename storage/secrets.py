"""Secrets at rest: calendar refresh tokens, CalDAV passwords and pending device codes.

`SecretBox` encrypts them with Fernet (AES-128-CBC plus HMAC-SHA256, from `cryptography`)
under the key in CPDBOT_SECRET_KEY before they reach the database, and decrypts them when
a poll needs them. The setting may hold several keys separated by commas, newest first:
new secrets are written with the first, and every key in the list can still read what it
wrote (key rotation: put the new key first, keep the old one after it until `rotate` has
re-encrypted everything, then drop it).

Without a key the box exists but refuses to store a secret (`NoSecretKey`, whose message
says how to make a key and where to put it): ICS feeds need none. A token no key in the
list can read (another key, or tampered with) raises `SecretUnreadable`, which callers
treat as a credential that stopped working. Neither message ever carries the secret or
the key.

`cryptography` is imported only when a key is given, so a bot without one never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

KEY_SETTING: Final = "CPDBOT_SECRET_KEY"
HOW_TO_MAKE_A_KEY: Final = (
    f"make one with `cpdbot secret-key` and put it in {KEY_SETTING} "
    "(in .env or the environment), then restart the bot"
)


class SecretError(Exception):
    """A secret could not be stored or read; the message names no secret and no key."""


class NoSecretKey(SecretError):
    """No CPDBOT_SECRET_KEY: a secret cannot be stored (or read) without one."""

    def __init__(self) -> None:
        super().__init__(
            f"No {KEY_SETTING} is set, so passwords and sign-ins cannot be stored safely: "
            f"{HOW_TO_MAKE_A_KEY}."
        )


class SecretUnreadable(SecretError):
    """A stored secret that none of the keys can read (written under another key, or
    altered): treat it as a credential that stopped working."""

    def __init__(self) -> None:
        super().__init__(
            f"A stored secret could not be decrypted with {KEY_SETTING} "
            "(it was written under another key, or altered)."
        )


class BadSecretKey(SecretError, ValueError):
    """CPDBOT_SECRET_KEY is not a list of Fernet keys (refused at start)."""


def new_key() -> str:
    """A new random Fernet key: url-safe base64 of 32 bytes (44 characters)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def _fernets(setting: str) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet

    keys = [part.strip() for part in setting.split(",") if part.strip()]
    if not keys:
        raise BadSecretKey(f"{KEY_SETTING} is set but holds no key: {HOW_TO_MAKE_A_KEY}.")
    fernets = []
    for n, key in enumerate(keys, 1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):  # never show the key itself
            which = f"key {n} of {len(keys)}" if len(keys) > 1 else "it"
            raise BadSecretKey(
                f"{KEY_SETTING} is not a valid Fernet key ({which}: a key is 44 characters "
                f"of url-safe base64 encoding 32 bytes; several keys are separated by "
                f"commas, newest first): {HOW_TO_MAKE_A_KEY}."
            ) from None
    return MultiFernet(fernets)


class SecretBox:
    """Encrypts secrets for the database under CPDBOT_SECRET_KEY (None: no key set).

    Raises `BadSecretKey` for a malformed setting. Never shows its keys (`repr` included).
    """

    def __init__(self, setting: str | None) -> None:
        self._fernet: MultiFernet | None = None
        if setting is not None and setting.strip():
            self._fernet = _fernets(setting)

    @property
    def has_key(self) -> bool:
        return self._fernet is not None

    def __repr__(self) -> str:
        return f"SecretBox({'key set' if self.has_key else 'no key'})"

    def _box(self) -> MultiFernet:
        if self._fernet is None:
            raise NoSecretKey()
        return self._fernet

    def encrypt(self, secret: str) -> bytes:
        """The Fernet token (ASCII bytes) of `secret`, under the newest key."""
        return self._box().encrypt(secret.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        """The secret in a token this box wrote (under any of its keys).

        `NoSecretKey` without a key; `SecretUnreadable` if no key reads it.
        """
        from cryptography.fernet import InvalidToken

        box = self._box()
        try:
            return box.decrypt(bytes(token)).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError, TypeError):
            raise SecretUnreadable() from None

    def rotate(self, token: bytes) -> bytes:
        """The same secret encrypted under the newest key (`SecretUnreadable` if no key
        reads it)."""
        from cryptography.fernet import InvalidToken

        box = self._box()
        try:
            return box.rotate(bytes(token))
        except (InvalidToken, TypeError):
            raise SecretUnreadable() from None
