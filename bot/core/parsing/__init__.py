"""Pure parsing of what users type: durations, dates and one-line quick entries.

``/log 1.5h webinar on arc-flash safety yesterday #training`` becomes
``QuickEntry(title='Webinar on arc-flash safety', minutes=90, activity_date=<yesterday>,
category_hints=('training',), duration_text='1.5h', date_text='yesterday')``.

Everything here is pure: no I/O and no clock reads (callers pass ``today``). The only module
state is compiled regular expressions, constant tables and ``functools`` caches.

Speed: the forms people actually type are read by regular expressions. dateparser
(milliseconds per call, about a second for its first call) is only a fallback, for whole-text
dates that no fast path recognises and, in ``parse_quick``, for at most
``_MAX_FALLBACK_CALLS`` short runs of date-like words (this is what makes other languages
work). ``warm_up()`` pays dateparser's start-up cost before the first user message.

Modules: ``words`` (word tables and shared pattern pieces), ``durations``
(``parse_duration``, lengths in days), ``times`` (time ranges: '1-2pm'), ``dates`` (the
English fast paths and ``parse_date``), ``ranges`` (several days: '14-15 Nov', '2 days last
week'; ``parse_date_range``), ``fallback`` (dateparser, imported only when a fast path fails
or ``warm_up`` runs), ``titles`` (what is left as the title) and ``quick`` (``parse_quick``,
``warm_up``).
"""

from __future__ import annotations

from bot.core.parsing.dates import parse_date
from bot.core.parsing.durations import parse_duration
from bot.core.parsing.fallback import _dateparser_date as _dateparser_date  # tests, bench
from bot.core.parsing.quick import QuickEntry, parse_quick, warm_up
from bot.core.parsing.ranges import parse_date_range
from bot.core.parsing.words import DateOrder

__all__ = [
    "DateOrder",
    "QuickEntry",
    "parse_date",
    "parse_date_range",
    "parse_duration",
    "parse_quick",
    "warm_up",
]
