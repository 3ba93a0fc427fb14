"""Time zones: every person has an IANA zone; instants are stored in UTC.

The one place that turns a zone name into a `ZoneInfo` (an unknown name falls back to
UTC), and an instant into a person's local time and local date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MAX_ZONE_NAME = 64
# The IANA areas of places ("Europe/London"). The rest of the database is not a place:
# "localtime" and "posixrules" are files of this machine, "Factory" is no zone at all,
# "EST5EDT", "Etc/GMT+5", "US/Eastern", "GB" are POSIX rules, fixed offsets or old aliases.
REGION_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)


@cache
def region_zones() -> frozenset[str]:
    """The zones a person may choose: every IANA region zone this machine knows, and UTC."""
    names = {n for n in available_timezones() if n.split("/", 1)[0] in REGION_AREAS}
    return frozenset(n for n in names if "/" in n) | {"UTC"}


def is_zone(name: str | None) -> bool:
    """Whether `name` is a person's time zone: an IANA region zone ("Europe/London") or
    UTC. Not "localtime", "Factory", POSIX rules ("EST5EDT") or fixed offsets ("Etc/GMT+5")."""
    if not name or len(name) > MAX_ZONE_NAME or name not in region_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, KeyError, OSError):
        return False
    return True


def zone_of(name: str | ZoneInfo) -> ZoneInfo:
    """The zone called `name`, or UTC when there is no such zone."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, KeyError, OSError):
        return ZoneInfo("UTC")


def local_now(now: datetime, zone: str | ZoneInfo) -> datetime:
    """The aware instant `now` on the wall clock of `zone`."""
    return now.astimezone(zone_of(zone))


def local_today(now: datetime, zone: str | ZoneInfo) -> date:
    """The date in `zone` at the instant `now`."""
    return local_now(now, zone).date()


def local_instant(zone: ZoneInfo, day: date, at: time) -> datetime:
    """`day` at local time `at`, in UTC. A time skipped by a DST change (02:30 on the
    spring-forward night) comes out an hour later; a repeated one is its first instance."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
