"""The Microsoft Teams app package an organisation's Teams admin uploads (issue 14).

`build` fills in manifest/teams/manifest.template.json (the app and bot ids, the version,
the valid domains, the developer's name and addresses, and the command menu from the
dialogue's command registry), checks it against the limits of the app manifest schema
and returns the zip: manifest.json, color.png and outline.png at its root. Anything that
would make Teams refuse the upload is refused here, with what to change.
Where the limits come from: manifest/teams/README.md.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

TEMPLATE = "manifest.template.json"
ICONS = ("color.png", "outline.png")
FILES = ("manifest.json", *ICONS)

# Limits of the app manifest schema v1.19 (manifest/teams/README.md).
MAX_COMMANDS = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128
MAX_SHORT_NAME = 30
MAX_FULL_NAME = 100
MAX_SHORT_DESCRIPTION = 80
MAX_FULL_DESCRIPTION = 4000
MAX_DEVELOPER_NAME = 32
MAX_DOMAINS = 16
MAX_URL = 2048

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(\*\.)?({_LABEL}\.)*{_LABEL}(:[0-9]{{1,5}})?$")
# Teams app ids derived from the bot's app id (`teams_app_id_for`).
_NAMESPACE = uuid.UUID("6f1c2a57-3f0e-4b8e-9a51-1c2f0cbd7e14")


class PackageError(ValueError):
    """A package Teams would refuse: the message says what to change."""


@dataclass(frozen=True)
class Developer:
    """Who publishes the app, shown on its details page (https addresses)."""

    name: str
    website_url: str
    privacy_url: str
    terms_url: str


def template_dir() -> Path:
    """manifest/teams: beside the package in a checkout (and `pip install -e .`), the
    installed `manifest.teams` package data in a wheel."""
    here = Path(__file__).resolve().parents[1] / "manifest" / "teams"
    if (here / TEMPLATE).is_file():
        return here
    return Path(str(resources.files("manifest.teams")))


def check_guid(text: str, what: str) -> str:
    """`text` as a GUID (lower case), or PackageError naming `what`."""
    text = text.strip()
    if not _GUID.match(text):
        raise PackageError(
            f"{what} {text!r} is not a GUID (like 0b8a4c3e-1d2f-4a5b-8c9d-0e1f2a3b4c5d)"
        )
    return text.lower()


def teams_app_id_for(app_id: str) -> str:
    """The Teams app id when none is given: derived from the bot's app id, so a package
    built again (a new version) updates the same app instead of adding a second one."""
    return str(uuid.uuid5(_NAMESPACE, app_id.lower()))


def check_domain(text: str) -> str:
    """A valid domain: a host name, optionally `*.` in front or a port after."""
    domain = text.strip().lower()
    if "://" in domain or "/" in domain:
        raise PackageError(f"valid domain {text!r}: give the host name only, e.g. cpd.example.org")
    if not _DOMAIN.match(domain) or len(domain) > MAX_URL:
        raise PackageError(f"valid domain {text!r} is not a host name, e.g. cpd.example.org")
    return domain


def developer_for(
    domains: Sequence[str],
    name: str = "cpdbot",
    website_url: str | None = None,
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> Developer:
    """The publisher: the website defaults to the first valid domain's home page, the
    privacy and terms pages to the website."""
    if not website_url:
        if not domains:
            raise PackageError(
                "give the publisher's website (--website-url https://…) or the bot's "
                "domain (--domain cpd.example.org): Teams shows it on the app's details page"
            )
        website_url = f"https://{check_domain(domains[0]).removeprefix('*.')}/"
    return Developer(name, website_url, privacy_url or website_url, terms_url or website_url)


def menu_commands() -> list[dict[str, str]]:
    """The Teams command menu: the ten commands the dialogue's registry marks essential
    (bot.dialogue.registry.ESSENTIAL, in menu order), titles without the slash, their menu
    summaries as the descriptions."""
    from bot.dialogue.registry import ESSENTIAL

    return [{"title": name, "description": summary} for name, summary in ESSENTIAL]


def build(
    app_id: str,
    *,
    version: str,
    domains: Sequence[str] = (),
    developer: Developer | None = None,
    teams_app_id: str | None = None,
    commands: Sequence[dict[str, str]] | None = None,
    source: Path | None = None,
) -> bytes:
    """The app package (a zip) for the bot registered as `app_id` (the Entra app id)."""
    bot_id = check_guid(app_id, "the bot's app id (TEAMS_APP_ID)")
    app = check_guid(teams_app_id, "the Teams app id") if teams_app_id else None
    if not _SEMVER.match(version):
        raise PackageError(f"version {version!r} is not like 1.0.0 (three whole numbers)")
    valid = list(dict.fromkeys(check_domain(d) for d in domains))
    if len(valid) > MAX_DOMAINS:
        raise PackageError(f"{len(valid)} valid domains; Teams allows at most {MAX_DOMAINS}")
    folder = source or template_dir()
    manifest = json.loads((folder / TEMPLATE).read_text(encoding="utf-8"))
    manifest["version"] = version
    manifest["id"] = app or teams_app_id_for(bot_id)
    manifest["developer"].update(_developer(developer or developer_for(valid)))
    manifest["validDomains"] = valid
    bot = manifest["bots"][0]
    bot["botId"] = bot_id
    bot["commandLists"][0]["commands"] = list(menu_commands() if commands is None else commands)
    check(manifest)
    return _zip(manifest, folder)


def _developer(who: Developer) -> dict[str, str]:
    fields = {
        "websiteUrl": who.website_url,
        "privacyUrl": who.privacy_url,
        "termsOfUseUrl": who.terms_url,
    }
    for key, url in fields.items():
        if not url.startswith("https://") or len(url) > MAX_URL or any(c.isspace() for c in url):
            raise PackageError(f"developer {key} {url!r} must be an https:// address")
    return {"name": who.name, **fields}


def check(manifest: dict[str, Any]) -> None:
    """PackageError if `manifest` breaks a limit Teams checks on upload."""
    text = json.dumps(manifest)
    if "{{" in text:
        raise PackageError(f"a placeholder was left unfilled: {text[text.index('{{') :][:40]}")
    _length("name.short", manifest["name"]["short"], MAX_SHORT_NAME)
    _length("name.full", manifest["name"]["full"], MAX_FULL_NAME)
    _length("description.short", manifest["description"]["short"], MAX_SHORT_DESCRIPTION)
    _length("description.full", manifest["description"]["full"], MAX_FULL_DESCRIPTION)
    _length("developer.name", manifest["developer"]["name"], MAX_DEVELOPER_NAME)
    for bot in manifest["bots"]:
        for group in bot.get("commandLists", []):
            _check_commands(group["commands"])


def _check_commands(commands: Sequence[dict[str, str]]) -> None:
    if not commands:
        raise PackageError("the command menu is empty")
    if len(commands) > MAX_COMMANDS:
        raise PackageError(f"{len(commands)} menu commands; Teams allows at most {MAX_COMMANDS}")
    titles = [c["title"] for c in commands]
    if len(set(titles)) != len(titles):
        raise PackageError(f"a menu command appears twice: {', '.join(titles)}")
    for command in commands:
        title = command["title"]
        if title.startswith("/") or not title.strip():
            raise PackageError(f"menu command {title!r}: give its name without the slash")
        _length(f"menu command {title!r}", title, MAX_COMMAND_TITLE)
        _length(f"the description of {title!r}", command["description"], MAX_COMMAND_DESCRIPTION)
        if not command["description"].strip():
            raise PackageError(f"menu command {title!r} has no description")


def _length(what: str, text: str, most: int) -> None:
    if not text.strip():
        raise PackageError(f"{what} is empty")
    if len(text) > most:
        raise PackageError(f"{what} has {len(text)} characters; Teams allows at most {most}")


def _zip(manifest: dict[str, Any], folder: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for icon in ICONS:
            z.writestr(icon, (folder / icon).read_bytes())
    return out.getvalue()
