"""Calendar feed rules that need no I/O: is an address acceptable as a feed (syntax only;
the fetcher checks what a host name resolves to), and which words mark an event as learning.

The dialogue checks a feed address with these before the engine stores it; the calendar
service (bot.services.calendar) uses the same rules when it fetches."""

from __future__ import annotations

import ipaddress
import re
from typing import Final


class FeedError(Exception):
    """A problem with a feed, with a message fit to show the feed's owner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class FeedBusy(FeedError):
    """The calendar service asked us to wait (HTTP 429 or 503): try again later.

    ``retry_after`` is the number of seconds the service asked for (``Retry-After``), or
    ``None`` when it named none.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CredentialRejected(FeedError):
    """A sign-in or password that stopped working: the owner is told once, with how to reconnect."""


MAX_URL_LENGTH: Final = 2048

_NOT_PUBLIC: Final = (
    "That address is not public (it points to a private, local or reserved network), "
    "so it cannot be used as a calendar feed."
)

# --------------------------------------------------------------------------------------
# URL validation (syntactic, no DNS)
# --------------------------------------------------------------------------------------

_SCHEME_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_LABEL_RE: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_LOCAL_SUFFIXES: Final = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".lan",
    ".home.arpa",
)
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip_or_none(host: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _check_host_name(host: str, *, allow_private: bool) -> None:
    name = host.rstrip(".")
    labels = name.split(".")
    if (
        not name
        or len(name) > 253
        or not all(_LABEL_RE.fullmatch(label) for label in labels)
        # A numeric last label makes it an IPv4 address in disguise (127.1, 2130706433).
        or labels[-1].isdigit()
        or re.fullmatch(r"0x[0-9a-f]*", labels[-1])
    ):
        raise FeedError("That address does not have a valid host name.")
    if allow_private:
        return
    if name == "localhost" or name.endswith(_LOCAL_SUFFIXES):
        raise FeedError(_NOT_PUBLIC)
    if len(labels) < 2:
        raise FeedError(
            "Use the calendar's full address (like https://calendar.example.com/...): "
            "local host names cannot be used."
        )


def _web_address(text: str) -> tuple[str, str, str]:
    """``(scheme, address, rest after 'scheme:')`` of an http(s) address; webcal is https."""
    match = _SCHEME_RE.match(text)
    scheme = match.group(1).lower() if match else ""
    if match and scheme in ("webcal", "webcals"):
        scheme = "https"
        text = "https:" + text[match.end() :]
    elif scheme not in ("http", "https"):
        raise FeedError(
            "Only web addresses starting with https://, http:// or webcal:// can be used "
            "as calendar feeds."
        )
    rest = text[len(scheme) + 1 :]
    if not rest.startswith("//"):
        raise FeedError("That is not a complete web address (expected https://host/...).")
    return scheme, text, rest


def validate_feed_url(url: str, *, allow_private: bool = False) -> str:
    """Return the normalised feed address, or raise ``FeedError`` saying what is wrong.

    Accepts ``http://``, ``https://`` and ``webcal://`` (rewritten to ``https://``);
    refuses user names and passwords in the address (secret feed addresses such as
    Google's carry their secret in the path, which is fine), missing or invalid host
    names, addresses longer than ``MAX_URL_LENGTH`` and any whitespace. Unless
    ``allow_private``, IP literals must be public and local names (``localhost``,
    ``*.local``, single-label names) are refused. Purely syntactic: ``fetch_feed`` checks
    what a host name resolves to. The fragment is dropped, the scheme and host are
    lower-cased (IDN hosts in their ASCII form) and a default port is removed.
    """
    import httpx  # its URL parser (IDNA hosts, ports); imported only when a feed is added

    text = url.strip()
    if not text:
        raise FeedError("Please give the calendar's address (a link starting with https://).")
    if len(text) > MAX_URL_LENGTH:
        raise FeedError(f"That address is too long (at most {MAX_URL_LENGTH:,} characters).")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise FeedError("That address contains spaces or control characters; copy the link again.")
    scheme, text, rest = _web_address(text)
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        raise FeedError("That is not a valid web address.") from None
    if parsed.userinfo or "@" in rest[2:].split("/", 1)[0]:
        raise FeedError(
            "Please use an address without a user name or password in it "
            "(a calendar's secret or public ICS link)."
        )
    try:
        host = parsed.host  # decodes an IDN host: invalid punycode (xn--a) fails here
    except (UnicodeError, ValueError):
        raise FeedError("That address does not have a valid host name.") from None
    if not host:
        raise FeedError("That address has no host name.")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise FeedError("That address has an invalid port number.")
    ip = _ip_or_none(host)
    if ip is None:
        _check_host_name(parsed.raw_host.decode("ascii").lower(), allow_private=allow_private)
    elif not allow_private and not is_public_address(ip):
        raise FeedError(_NOT_PUBLIC)
    netloc = parsed.netloc.decode("ascii")
    path = parsed.raw_path.decode("ascii")
    return f"{scheme}://{netloc}{path}"


# What `validate_feed_url` says about an ICS feed, said of a CalDAV server instead.
_CALDAV_WORDS: Final = (
    ("can be used as calendar feeds.", "can be used for a CalDAV server."),
    ("so it cannot be used as a calendar feed.", "so it cannot be used as a CalDAV server."),
    (
        "(a calendar's secret or public ICS link).",
        "(the user name comes after the address; I ask for the password next).",
    ),
    ("http:// sends", "A CalDAV server needs an https:// address: http:// would send"),
    ("Please give the calendar's address", "Please give your CalDAV server's address"),
    ("Use the calendar's full address", "Use the server's full address"),
)


def caldav_wording(message: str) -> str:
    """A `FeedError` message of `validate_feed_url` in words for a CalDAV server address
    (no 'feed', no 'ICS link')."""
    for feed_words, caldav_words in _CALDAV_WORDS:
        message = message.replace(feed_words, caldav_words)
    return message


# --------------------------------------------------------------------------------------
# Address vetting
# --------------------------------------------------------------------------------------


_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(address: str | _IPAddress) -> bool:
    """Whether connecting to this IP address reaches the public internet.

    False for private, loopback, link-local, multicast, reserved, unspecified, shared
    (100.64/10), documentation and benchmark ranges, IPv6 site-local and unique-local, and
    for IPv6 forms that embed such an IPv4 address (IPv4-mapped, 6to4, NAT64, Teredo).
    """
    if isinstance(address, str):
        ip = _ip_or_none(address)
        if ip is None:
            return False
    else:
        ip = address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return is_public_address(ip.sixtofour)
        if ip.teredo is not None or ip.is_site_local:
            return False
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


DEFAULT_KEYWORDS: Final[tuple[str, ...]] = (
    "training",
    "course",
    "webinar",
    "seminar",
    "workshop",
    "conference",
    "symposium",
    "symposia",
    "colloquium",
    "lecture",
    "masterclass",
    "master class",
    "tutorial",
    "bootcamp",
    "boot camp",
    "summit",
    "keynote",
    "hackathon",
    "certification",
    "refresher",
    "e-learning",
    "elearning",
    "lunch and learn",
    "lunch & learn",
    "journal club",
    "grand rounds",
    "study day",
    "toolbox talk",
    "cpd",
    "cpe",
    "cme",
)
"""Words that mark an event as learning, matched as whole words (plural -s/-es too)."""
