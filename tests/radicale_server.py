"""A real Radicale CalDAV server on 127.0.0.1 for tests, with htpasswd (plain) sign-in.

``start_radicale()`` runs ``python -m radicale`` in a temporary folder on a free port and
waits until it accepts connections; ``RadicaleServer.stop()`` ends that process (and only
it). ``load_calendars`` creates the fixture calendars of tests/fixtures/ics/caldav/ with
MKCALENDAR and PUTs each ``.ics`` file into them, as a CalDAV client would.

The ``radicale`` fixture is session-scoped (Radicale takes about half a second to start)
and registered in tests/conftest.py. Its calendars are read-only by convention: a test
that needs to change events creates its own calendar under another name.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CALDAV_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ics" / "caldav"
USER = "alice"
PASSWORD = "correct-horse-battery-staple"
# What the fixture server holds: calendar path -> (display name, components, files).
CALENDARS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "work": (
        "Work",
        "VEVENT",
        ("course.ics", "cancelled.ics", "conference.ics", "standup.ics", "declined.ics"),
    ),
    "personal": ("Personal", "VEVENT", ("leave.ics",)),
    "tasks": ("Tasks", "VTODO", ("task.ics",)),
}
_START_TIMEOUT = 20.0


@dataclass
class RadicaleServer:
    """A running Radicale: its root address, the account, and the process to stop."""

    url: str
    username: str
    password: str
    process: subprocess.Popen[bytes]
    folder: tempfile.TemporaryDirectory[str]
    started_in: float

    def calendar_url(self, name: str) -> str:
        return f"{self.url}{self.username}/{name}/"

    def client(self) -> httpx.Client:
        return httpx.Client(auth=(self.username, self.password), trust_env=False, timeout=10.0)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.folder.cleanup()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"radicale exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            # Not listening yet: block on the process for a moment rather than spin.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.05)
    raise RuntimeError("radicale did not start listening in time")


def start_radicale(username: str = USER, password: str = PASSWORD) -> RadicaleServer:
    """Start Radicale on a free port of 127.0.0.1, with one htpasswd (plain) account."""
    began = time.monotonic()
    folder = tempfile.TemporaryDirectory(prefix="cpdbot-radicale-")
    root = Path(folder.name)
    htpasswd = root / "users"
    htpasswd.write_text(f"{username}:{password}\n", encoding="utf-8")
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "radicale",
        "--config",
        "",
        f"--server-hosts=127.0.0.1:{port}",
        f"--storage-filesystem-folder={root / 'collections'}",
        "--auth-type=htpasswd",
        f"--auth-htpasswd-filename={htpasswd}",
        "--auth-htpasswd-encryption=plain",
        # No deliberate pause after a refused sign-in (the first, unauthenticated request
        # of every conversation is one): the tests run at full speed.
        "--auth-delay=0",
        "--rights-type=owner_only",
        "--logging-level=warning",
    ]
    environment = {key: value for key, value in os.environ.items() if key != "RADICALE_CONFIG"}
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    try:
        _wait_until_listening(process, port)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        folder.cleanup()
        raise
    return RadicaleServer(
        url=f"http://127.0.0.1:{port}/",
        username=username,
        password=password,
        process=process,
        folder=folder,
        started_in=time.monotonic() - began,
    )


def _mkcalendar_body(name: str, components: str) -> str:
    parts = "".join(f'<C:comp name="{c}"/>' for c in components.split(","))
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:set><D:prop>"
        f"<D:displayname>{name}</D:displayname>"
        f"<C:supported-calendar-component-set>{parts}</C:supported-calendar-component-set>"
        "</D:prop></D:set></C:mkcalendar>"
    )


def load_calendars(server: RadicaleServer) -> None:
    """Create the fixture calendars and PUT every fixture event into them."""
    with server.client() as client:
        for path, (name, components, files) in CALENDARS.items():
            url = server.calendar_url(path)
            made = client.request("MKCALENDAR", url, content=_mkcalendar_body(name, components))
            made.raise_for_status()
            for file in files:
                body = (CALDAV_FIXTURES / file).read_bytes()
                put = client.put(
                    url + file,
                    content=body,
                    headers={"Content-Type": "text/calendar; charset=utf-8"},
                )
                put.raise_for_status()


@pytest.fixture(scope="session")
def radicale() -> Iterator[RadicaleServer]:
    """A running Radicale holding the fixture calendars; stopped after the session."""
    server = start_radicale()
    try:
        load_calendars(server)
        yield server
    finally:
        server.stop()
