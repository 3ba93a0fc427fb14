"""Issue 14: `cpdbot teams package` writes the zip a Teams admin uploads, filled in and
within the limits Teams checks on upload (manifest/teams/README.md), or refuses in one
line and writes nothing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image

from adapters.teams import translate
from bot.core.model import IdentityKey
from bot.dialogue.conversation import Conv
from bot.dialogue.kernel import command_of
from bot.dialogue.registry import COMMANDS
from cpdbot import teams_package as tp

ROOT = Path(__file__).resolve().parents[2]
BOT = "0b8a4c3e-1d2f-4a5b-8c9d-0e1f2a3b4c5d"
TEAMS = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
RGBA = tuple[int, int, int, int]


def cpdbot(*args: str, cwd: Path, env_extra: dict[str, str] | None = None) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEAMS_", "DATABASE_URL"))}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "cpdbot.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def opened(data: bytes) -> tuple[list[str], dict[str, Any], zipfile.ZipFile]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return sorted(z.namelist()), json.loads(z.read("manifest.json")), z


def ten_that_matter_most() -> list[tuple[str, str]]:
    """The commands the registry marks essential, in menu_rank order (worked out here from
    the commands themselves, not from ESSENTIAL)."""
    shown = sorted((c for c in COMMANDS.values() if c.essential), key=lambda c: c.menu_rank)
    return [(c.name, c.summary) for c in shown]


def test_the_cli_writes_the_package_an_admin_uploads(tmp_path: Path) -> None:
    out = tmp_path / "cpdbot-teams.zip"
    done = cpdbot(
        "teams", "package", "--out", str(out), "--app-id", BOT.upper(),
        "--domain", "cpd.example.org", "--version", "1.2.3", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    names, manifest, _ = opened(out.read_bytes())
    assert names == ["color.png", "manifest.json", "outline.png"]
    assert manifest["manifestVersion"] == "1.19"
    assert manifest["$schema"].endswith("/teams/v1.19/MicrosoftTeams.schema.json")
    assert manifest["version"] == "1.2.3"
    (bot,) = manifest["bots"]
    assert bot["botId"] == BOT
    assert tp._GUID.match(manifest["id"]) and manifest["id"] != BOT
    assert bot["scopes"] == ["personal"] and manifest["defaultInstallScope"] == "personal"
    assert bot["supportsFiles"] is True and bot["isNotificationOnly"] is False
    assert manifest["validDomains"] == ["cpd.example.org"]
    assert manifest["developer"]["websiteUrl"] == "https://cpd.example.org/"
    assert "{{" not in json.dumps(manifest)
    for body in ("IET", "IES", "STEP", "IPEM"):
        assert body in manifest["description"]["full"]
    (menu,) = bot["commandLists"]
    assert menu["scopes"] == ["personal"]
    shown = [(c["title"], c["description"]) for c in menu["commands"]]
    assert shown == ten_that_matter_most()
    assert shown[0] == ("log", COMMANDS["log"].summary)


def test_the_manifest_is_within_teams_limits() -> None:
    _, manifest, _ = opened(tp.build(BOT, version="1.0.0", domains=["cpd.example.org"]))
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    assert len(manifest["developer"]["name"]) <= 32
    (menu,) = manifest["bots"][0]["commandLists"]
    assert 0 < len(menu["commands"]) <= 10
    for command in menu["commands"]:
        assert not command["title"].startswith("/")
        assert command["title"] in COMMANDS  # picking it from the menu runs that command
        assert 0 < len(command["title"]) <= 32 and 0 < len(command["description"]) <= 128


MARKED = [
    "log",
    "status",
    "list",
    "edit",
    "reflect",
    "drafts",
    "calendar",
    "export",
    "settings",
    "help",
]


def test_the_menu_is_the_ten_commands_the_registry_marks_with_their_summaries() -> None:
    _, manifest, _ = opened(tp.build(BOT, version="1.0.0", domains=["cpd.example.org"]))
    (menu,) = manifest["bots"][0]["commandLists"]
    titles = [c["title"] for c in menu["commands"]]
    assert titles == MARKED  # help, export and settings among them, in menu order
    for command in menu["commands"]:
        assert command["description"] == COMMANDS[command["title"]].summary
    assert [(c["title"], c["description"]) for c in menu["commands"]] == ten_that_matter_most()


@pytest.mark.parametrize("title", MARKED)
def test_each_menu_title_sent_as_teams_sends_it_runs_its_command(title: str) -> None:
    """Picking a menu entry sends its title (no slash; Teams may capitalise it)."""
    key = IdentityKey("teams", "aad", "tenant")
    for typed in (title, title.capitalize(), f"<at>cpdbot</at> {title}"):
        activity = {"type": "message", "id": "1", "text": typed, "conversation": {"id": "c"}}
        event = translate.incoming(activity, key)
        assert command_of(Conv(), event) == (title, ""), typed


def test_the_app_id_comes_from_teams_app_id_in_the_settings(tmp_path: Path) -> None:
    out = tmp_path / "p.zip"
    done = cpdbot(
        "teams", "package", "--out", str(out), "--domain", "cpd.example.org",
        cwd=tmp_path, env_extra={"TEAMS_APP_ID": BOT},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    _, manifest, _ = opened(out.read_bytes())
    assert manifest["bots"][0]["botId"] == BOT and manifest["version"] == "1.0.0"


def test_a_new_version_updates_the_same_teams_app() -> None:
    _, first, _ = opened(tp.build(BOT, version="1.0.0", domains=["a.example.org"]))
    _, second, _ = opened(tp.build(BOT, version="1.0.1", domains=["a.example.org"]))
    assert first["id"] == second["id"]
    other = "1b8a4c3e-1d2f-4a5b-8c9d-0e1f2a3b4c5d"
    _, third, _ = opened(tp.build(other, version="1.0.0", domains=["a.example.org"]))
    assert third["id"] != first["id"]
    _, given, _ = opened(
        tp.build(BOT, version="1.0.0", domains=["a.example.org"], teams_app_id=TEAMS)
    )
    assert given["id"] == TEAMS


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--app-id", "not-a-guid"], "is not a GUID"),
        (["--app-id", BOT + "0"], "is not a GUID"),
        ([], "no app id: give --app-id GUID or set TEAMS_APP_ID"),
        (["--app-id", BOT, "--teams-app-id", "1234"], "the Teams app id '1234' is not a GUID"),
        (["--app-id", BOT, "--version", "1.0"], "version '1.0' is not like 1.0.0"),
        (["--app-id", BOT, "--domain", "https://cpd.example.org/"], "host name only"),
        (["--app-id", BOT, "--domain", "cpd example"], "is not a host name"),
        (["--app-id", BOT, "--website-url", "http://x.org/"], "must be an https:// address"),
        (["--app-id", BOT], "give the publisher's website"),
    ],
)
def test_bad_input_is_refused_in_one_line_and_nothing_is_written(
    tmp_path: Path, args: list[str], said: str
) -> None:
    out = tmp_path / "cpdbot-teams.zip"
    domain = [] if "--domain" in args or args == ["--app-id", BOT] else ["--domain", "x.org"]
    done = cpdbot("teams", "package", "--out", str(out), *args, *domain, cwd=tmp_path)
    assert done.returncode == 2
    assert said in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not out.exists()


def test_a_refusal_leaves_an_earlier_package_alone(tmp_path: Path) -> None:
    out = tmp_path / "cpdbot-teams.zip"
    out.write_bytes(b"the package uploaded last month")
    done = cpdbot("teams", "package", "--out", str(out), "--app-id", "x", cwd=tmp_path)
    assert done.returncode == 2
    assert out.read_bytes() == b"the package uploaded last month"


def test_a_menu_teams_would_refuse_is_refused() -> None:
    fine = {"title": "log", "description": "Record a CPD activity"}
    many = [{"title": f"c{i}", "description": "d"} for i in range(11)]
    cases = {
        "11 menu commands; Teams allows at most 10": many,
        "has 33 characters; Teams allows at most 32": [{"title": "x" * 33, "description": "d"}],
        "has 129 characters; Teams allows at most 128": [{"title": "t", "description": "d" * 129}],
        "without the slash": [{"title": "/log", "description": "d"}],
        "appears twice": [fine, fine],
        "the command menu is empty": [],
    }
    for said, commands in cases.items():
        with pytest.raises(tp.PackageError, match=said):
            tp.build(BOT, version="1.0.0", domains=["x.org"], commands=commands)


def test_too_many_domains_are_refused() -> None:
    domains = [f"d{i}.example.org" for i in range(17)]
    with pytest.raises(tp.PackageError, match="17 valid domains; Teams allows at most 16"):
        tp.build(BOT, version="1.0.0", domains=domains)


def test_the_icons_are_the_sizes_and_colours_teams_asks_for() -> None:
    _, _, z = opened(tp.build(BOT, version="1.0.0", domains=["x.org"]))
    color = Image.open(io.BytesIO(z.read("color.png")))
    outline = Image.open(io.BytesIO(z.read("outline.png")))
    assert color.format == outline.format == "PNG"
    assert color.size == (192, 192) and outline.size == (32, 32)
    assert outline.mode == "RGBA"
    pixels = {cast(RGBA, colour) for _, colour in outline.getcolors(32 * 32) or []}
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels)
    assert any(a == 255 for *_, a in pixels) and any(a == 0 for *_, a in pixels)
    assert len(color.convert("RGB").getcolors(192 * 192) or []) > 1  # not a blank square
    for name in ("color.png", "outline.png"):  # the package carries the committed icons
        assert z.read(name) == (ROOT / "manifest" / "teams" / name).read_bytes()


def test_the_template_ships_as_package_data() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"manifest.teams" = ["manifest.template.json", "*.png", "README.md"]' in text
    assert tp.template_dir() == ROOT / "manifest" / "teams"
