"""Secrets at rest (issue 15): the Fernet box under CPDBOT_SECRET_KEY, key rotation, the
refusal without a key, a malformed key refused at start, and `cpdbot secret-key`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpdbot import cli
from cpdbot.config import Settings
from storage.db import Database
from storage.secrets import BadSecretKey, NoSecretKey, SecretBox, SecretUnreadable

OLD_KEY = "OnQPHixGLtihF5N25svYBjI-As5tmrYvOZrdukmbqvg="
NEW_KEY = "9TgPHIBgxe2VHKcqYMXq5FZui1xctnzPZSTj_Ey4b18="
OTHER_KEY = "Uf2awXrLOrnWunDPNODkar96Crphna_bEc76pWqunks="
PASSWORD = "iCloud-app-pw-hjkl-mnbv-7734"


def test_a_secret_round_trips_and_its_token_holds_no_plaintext() -> None:
    box = SecretBox(NEW_KEY)
    token = box.encrypt(PASSWORD)

    assert PASSWORD.encode() not in token and b"7734" not in token
    assert box.decrypt(token) == PASSWORD
    assert box.encrypt(PASSWORD) != token  # a fresh IV each time: equal secrets look unequal
    assert NEW_KEY not in repr(box) and "key set" in repr(box)


def test_another_key_or_an_altered_token_cannot_be_read() -> None:
    token = SecretBox(NEW_KEY).encrypt(PASSWORD)

    with pytest.raises(SecretUnreadable) as caught:
        SecretBox(OTHER_KEY).decrypt(token)
    assert PASSWORD not in str(caught.value) and OTHER_KEY not in str(caught.value)
    altered = token[:-6] + (b"AAAAAA" if token[-6:] != b"AAAAAA" else b"BBBBBB")
    with pytest.raises(SecretUnreadable):
        SecretBox(NEW_KEY).decrypt(altered)
    with pytest.raises(SecretUnreadable):
        SecretBox(NEW_KEY).decrypt(b"not a token at all")


def test_without_a_key_nothing_is_encrypted_and_the_message_says_how_to_make_one() -> None:
    for box in (SecretBox(None), SecretBox("  ")):
        assert not box.has_key
        with pytest.raises(NoSecretKey) as caught:
            box.encrypt(PASSWORD)
        message = str(caught.value)
        assert "cpdbot secret-key" in message and "CPDBOT_SECRET_KEY" in message
        assert ".env" in message
        with pytest.raises(NoSecretKey):
            box.decrypt(SecretBox(NEW_KEY).encrypt(PASSWORD))


def test_rotation_reads_with_every_key_and_writes_with_the_first() -> None:
    old_token = SecretBox(OLD_KEY).encrypt(PASSWORD)
    rotating = SecretBox(f"{NEW_KEY}, {OLD_KEY}")  # newest first, the old one kept after it

    assert rotating.decrypt(old_token) == PASSWORD
    new_token = rotating.encrypt(PASSWORD)
    assert SecretBox(NEW_KEY).decrypt(new_token) == PASSWORD
    with pytest.raises(SecretUnreadable):
        SecretBox(OLD_KEY).decrypt(new_token)
    rotated = rotating.rotate(old_token)  # re-encrypted under the newest key
    assert SecretBox(NEW_KEY).decrypt(rotated) == PASSWORD
    with pytest.raises(SecretUnreadable):
        SecretBox(OLD_KEY).decrypt(rotated)


@pytest.mark.parametrize(
    "setting",
    ["not-a-key", NEW_KEY[:-2], f"{NEW_KEY},{OLD_KEY[:-4]}", ",", "A" * 43 + "!"],
)
def test_a_malformed_key_is_refused(setting: str) -> None:
    with pytest.raises(BadSecretKey) as caught:
        SecretBox(setting)
    message = str(caught.value)
    assert "CPDBOT_SECRET_KEY" in message and "cpdbot secret-key" in message
    for part in setting.split(","):
        if len(part) > 3:
            assert part not in message  # the key is never shown back


def test_a_malformed_key_stops_the_start_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("CPDBOT_SECRET_KEY", "hunter2-is-not-a-key")
    url = f"sqlite:///{tmp_path / 'cpd.db'}"

    code = cli.main(["chat", "--db", url, "--user", "ada"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Configuration: CPDBOT_SECRET_KEY is not a valid Fernet key")
    assert "cpdbot secret-key" in err and "hunter2" not in err
    assert len(err.strip().splitlines()) == 1


def test_secret_key_command_prints_a_key_the_box_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["secret-key"]) == 0
    first = capsys.readouterr().out.strip()
    assert cli.main(["secret-key"]) == 0
    second = capsys.readouterr().out.strip()

    assert len(first) == 44 and first != second
    box = SecretBox(first)
    assert box.decrypt(box.encrypt(PASSWORD)) == PASSWORD


def test_the_setting_is_cpdbot_secret_key_and_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRET_KEY", OTHER_KEY)  # someone else's setting: not ours
    monkeypatch.delenv("CPDBOT_SECRET_KEY", raising=False)
    assert Settings().secret_key is None

    monkeypatch.setenv("CPDBOT_SECRET_KEY", f"{NEW_KEY},{OLD_KEY}")
    settings = Settings()
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == f"{NEW_KEY},{OLD_KEY}"
    assert NEW_KEY not in repr(settings) and NEW_KEY not in str(settings.model_dump())


def test_the_database_the_cli_opens_carries_the_box(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CPDBOT_SECRET_KEY", NEW_KEY)
    url = f"sqlite:///{tmp_path / 'cpd.db'}"

    db = cli._database(url, Settings())
    try:
        assert db.secrets.has_key
        assert SecretBox(NEW_KEY).decrypt(db.secrets.encrypt(PASSWORD)) == PASSWORD
    finally:
        db.dispose()
    plain = Database(url)  # built without one: a box that stores nothing
    try:
        assert not plain.secrets.has_key
    finally:
        plain.dispose()
