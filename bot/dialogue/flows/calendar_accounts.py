"""Calendar accounts: /calendar outlook (a Microsoft 365 sign-in by device code) and
/calendar caldav <server address> <user name> (iCloud, Fastmail, Nextcloud, Radicale).

The dialogue only decides what to ask: the sign-in with Microsoft and the check of a CalDAV
password talk to servers, so the replies here carry an `AccountRequest` that the engine
carries out after the event's transaction has committed (as it makes files), answering in
place of that reply (bot/services/calendar_signin.py).

The CalDAV password is asked for where it stays out of the chat history (`SecretAsk`): the
console reads it without echo, Slack opens a modal, Teams shows a card with a password
input, all sending a form; on Telegram the member types it and the reply deletes that
message (`scrub_incoming`). On Slack and Teams a password typed as plain chat text is not
used. The password is never kept in the conversation: the state holds the server address
and the user name only.

The password step lasts `PASSWORD_FOR` (as long as the calendars offered wait for a
choice): after that, what arrives there is not used (`too_late`), lest a password typed
late be read as something else (an entry's title); a command works as usual. At the
password step a line starting with '/' that is none of the bot's commands is the password
(the kernel reads it so).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from bot.core import text as fmt
from bot.core.agenda import mask_url
from bot.core.buttons import ButtonId
from bot.core.model import (
    AccountRequest,
    CancelSignin,
    FeedView,
    Incoming,
    Kind,
    Outgoing,
    SecretAsk,
)
from bot.core.zones import local_now
from bot.dialogue.common import stale, stay
from bot.dialogue.conversation import Context, Conv, State, Step, replace_data
from bot.dialogue.flow import Flow, doing, prompt

S = State

OUTLOOK_WORDS = ("outlook", "microsoft", "office365")
CALDAV_WORDS = ("caldav", "icloud", "fastmail", "nextcloud")
ACCOUNT_WORDS = OUTLOOK_WORDS + CALDAV_WORDS
PASSWORD_FIELD = "password"
CALDAV_PICK = ButtonId("cdv")  # cdv:<n>: connect the n-th calendar offered
# Servers known by name: '/calendar icloud alice@icloud.com' needs no address.
KNOWN_SERVERS = {
    "icloud": "https://caldav.icloud.com/",
    "fastmail": "https://caldav.fastmail.com/",
}
USER_MAX = 200
# How long the password step waits: as long as the CalDAV calendars offered wait for a
# choice (bot/services/calendar_signin.py, PICK_FOR).
PASSWORD_FOR = timedelta(minutes=15)
# Platforms whose chat history keeps what is typed (and a bot cannot delete it): a password
# typed there is not used; their adapters offer a button opening a private input instead.
NO_TYPED_SECRETS = ("slack", "teams")

NO_OUTLOOK = (
    "Outlook isn't set up on this bot: whoever runs it has to register it with Microsoft "
    "and set MICROSOFT_CLIENT_ID (docs/calendar.md). Meanwhile an ICS address works: "
    "/calendar add <address> (in Outlook on the web: Settings → Calendar → Shared "
    "calendars → Publish a calendar)."
)
NO_KEY = (
    "I can't connect a calendar that needs a sign-in yet: this bot has no key to store "
    "sign-ins and passwords safely. Whoever runs it can make one with `cpdbot secret-key`, "
    "put it in CPDBOT_SECRET_KEY (in .env or the environment) and restart the bot. An ICS "
    "address needs no key: /calendar add <address>."
)
CALDAV_USAGE = (
    "Type /calendar caldav <server address> <user name>, e.g. /calendar caldav "
    "https://caldav.fastmail.com/ alice@fastmail.com (Nextcloud: "
    "https://cloud.example.org/remote.php/dav). iCloud: /calendar icloud <Apple ID>, "
    "with an app-specific password (appleid.apple.com → Sign-In and Security)."
)
LATE_PASSWORD = (
    "That password came after I stopped waiting for it, so I didn't use it and nothing was "
    "stored. /calendar caldav <server address> <user name> starts again."
)


def host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def feed_label(feed: FeedView) -> str:
    """How /calendar list names a calendar: 'Outlook (alice@contoso.com)', "CalDAV 'work'
    (alice at caldav.fastmail.com)" (the last segment of its address tells two calendars
    of one account apart), or an ICS address masked (its path is the secret)."""
    if feed.kind == "graph":
        return f"Outlook ({feed.account})" if feed.account else "Outlook"
    if feed.kind == "caldav":
        segment = unquote(urlsplit(feed.url).path.rstrip("/").rpartition("/")[2])[:60]
        named = f"CalDAV '{segment}'" if segment else "CalDAV"
        return f"{named} ({feed.account} at {host_of(feed.url)})"
    return mask_url(feed.url)


def signin_line(ctx: Context) -> str | None:
    """The sign-in under way, for /calendar list (None: there is none)."""
    signin = ctx.snap.signin
    if signin is None or signin.expires_at <= ctx.snap.now:
        return None
    if signin.kind == "caldav":
        return (
            "A CalDAV calendar is waiting for you to choose it (the buttons of my last "
            "message); /calendar remove cancels that."
        )
    return (
        f"Outlook sign-in waiting: open {signin.verification_uri} and enter the code "
        f"{signin.user_code} (until {_until(signin.expires_at, ctx)}); /calendar remove "
        "cancels it."
    )


def _until(moment: datetime, ctx: Context) -> str:
    local = local_now(moment, ctx.person.timezone)
    day = fmt.day(local.date(), ctx.today)
    return f"{local:%H:%M}" if day == "today" else f"{day} {local:%H:%M}"


def connect(conv: Conv, word: str, rest: str, ctx: Context) -> Step:
    """/calendar outlook | microsoft | office365, /calendar caldav | icloud | fastmail |
    nextcloud <server address> <user name>."""
    if word in OUTLOOK_WORDS:
        if not ctx.snap.outlook:
            return stay(conv, ctx, NO_OUTLOOK)
        if not ctx.snap.secret_key:
            return stay(conv, ctx, NO_KEY)
        waiting = ctx.snap.signin
        if waiting and waiting.kind == "graph" and waiting.expires_at > ctx.snap.now:
            return stay(
                conv,
                ctx,
                f"Your sign-in is still waiting: go to {waiting.verification_uri} and enter "
                f"{waiting.user_code}, valid until {_until(waiting.expires_at, ctx)}. "
                "/calendar remove cancels it.",
            )
        text = "Starting the Outlook sign-in… if no code follows, type /calendar outlook again."
        return _asking(conv, ctx, Outgoing(text, account=AccountRequest("outlook")))
    return _caldav(conv, word, rest, ctx)


def _asking(conv: Conv, ctx: Context, reply: Outgoing) -> Step:
    """`reply`, then the current question again if we are in the middle of something."""
    if conv.state == S.IDLE:
        return Step(conv, (reply,))
    return Step(conv, (reply, prompt(conv, ctx)))


def _caldav(conv: Conv, word: str, rest: str, ctx: Context) -> Step:
    from bot.core.calendar_rules import FeedError, caldav_wording, validate_feed_url

    parts = rest.split()
    if word in KNOWN_SERVERS and parts and "://" not in parts[0]:
        parts.insert(0, KNOWN_SERVERS[word])
    if not parts:
        return stay(conv, ctx, CALDAV_USAGE)
    if len(parts) == 1 and "://" not in parts[0] and "." not in parts[0]:
        return stay(conv, ctx, _needs_address(word, parts[0]))
    private = ctx.snap.allow_private_feeds
    try:
        url = validate_feed_url(parts[0], allow_private=private)
    except FeedError as exc:
        text = caldav_wording(str(exc))
        return stay(conv, ctx, f"I can't use that server address: {text}\n{CALDAV_USAGE}")
    if url.startswith("http://") and not private:
        text = caldav_wording(HTTP_REFUSED)
        return stay(conv, ctx, f"I can't use that server address: {text}\n{CALDAV_USAGE}")
    if len(parts) < 2:
        return stay(conv, ctx, f"Which user name on {host_of(url)}? {CALDAV_USAGE}")
    user = parts[1]
    if len(parts) > 2 or len(user) > USER_MAX:
        return stay(conv, ctx, f"That is not one user name. {CALDAV_USAGE}")
    if not ctx.snap.secret_key:
        return stay(conv, ctx, NO_KEY)
    if conv.state not in (S.IDLE, S.CALENDAR_PASSWORD):
        return stay(conv, ctx, f"We're in the middle of {doing(conv)}. Answer, or /cancel first.")
    asking = ask_password(conv, url, user)
    return Step(asking, (password_prompt(asking, ctx),))


HTTP_REFUSED = "http:// sends the password unencrypted."


def _needs_address(word: str, user: str) -> str:
    """'/calendar nextcloud bob': a user name where the server's address belongs."""
    name = "Nextcloud" if word == "nextcloud" else "CalDAV"
    example = "https://cloud.example.org" if word == "nextcloud" else "https://caldav.example.org"
    return f"{name} needs your server's address: /calendar {word} {example} {user}"


def ask_password(conv: Conv, url: str, user: str) -> Conv:
    """The conversation waiting for the password of `user` at `url` (the engine puts it
    back here when the server refused the one sent)."""
    return Conv(S.CALENDAR_PASSWORD, replace_data(conv.data, caldav={"url": url, "user": user}))


def password_prompt(conv: Conv, ctx: Context, *, again: bool = False) -> Outgoing:
    """The password question; `again` after a refused or empty one."""
    account = conv.data.caldav or {}
    user, host = account.get("user", ""), host_of(account.get("url", ""))
    if host == "icloud.com" or host.endswith(".icloud.com"):
        hint = " (an app-specific password: appleid.apple.com → Sign-In and Security)"
    elif host == "fastmail.com" or host.endswith(".fastmail.com"):
        hint = " (an app password: Fastmail Settings → Privacy & Security)"
    else:
        hint = ""
    ask = "Send the password again" if again else "Now the password"
    return Outgoing(
        f"{ask} for {user} at {host}{hint}. I keep it encrypted and never show it. /cancel stops.",
        secret=SecretAsk(field=PASSWORD_FIELD, label=f"Password for {user} at {host}"),
    )


def _password_answer(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """Text (or a button) while the password is asked for."""
    if event.kind != Kind.TEXT:
        return stale(conv, ctx)
    if event.identity.platform in NO_TYPED_SECRETS:
        return stay(
            conv,
            ctx,
            "I don't take a password typed in the chat here: press Enter password below. "
            "Please delete the message you just sent (and change that password if others "
            "can see this chat).",
        )
    return _take_password(conv, event.text, ctx, scrub=True)


def password_form(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """A submitted password (console, Slack modal, Teams card): its check is asked for."""
    if conv.state != S.CALENDAR_PASSWORD or not conv.data.caldav:
        return stay(conv, ctx, LATE_PASSWORD)
    return _take_password(conv, event.form.get(PASSWORD_FIELD, ""), ctx, scrub=False)


def _take_password(conv: Conv, typed: str, ctx: Context, *, scrub: bool) -> Step:
    """The engine checks the password after the commit (it is read from the event, never
    kept here): the conversation is idle meanwhile."""
    account = conv.data.caldav or {}
    if not typed.strip():
        return Step(
            conv,
            (
                Outgoing(
                    "That password is empty. Send it again, or /cancel.", scrub_incoming=scrub
                ),
                password_prompt(conv, ctx, again=True),
            ),
        )
    url, user = account.get("url", ""), account.get("user", "")
    reply = Outgoing(
        f"Checking that password with {host_of(url)}… if nothing follows, type /calendar "
        "caldav again.",
        scrub_incoming=scrub,
        account=AccountRequest("caldav", url=url, account=user),
    )
    return Step(Conv(S.IDLE, replace_data(conv.data, caldav=None)), (reply,))


def too_late(asked: Conv, woken: Conv, event: Incoming) -> Step:
    """What came to a password step left more than `PASSWORD_FOR` (typed text, a line
    starting with '/' that is no command, or a form): not used, nor kept; the dialogue is
    `woken` (idle). Telegram deletes the message (`scrub_incoming`); on Slack and Teams the
    member is asked to."""
    account = asked.data.caldav or {}
    url, user = account.get("url", ""), account.get("user", "")
    again = f"/calendar caldav {url} {user}" if url and user else "/calendar caldav …"
    late = f"I asked for that password more than {_minutes(PASSWORD_FOR)} minutes ago, so"
    scrub = False
    if event.kind == Kind.FORM:
        text = f"{late} I didn't use it and nothing was stored."
    elif event.identity.platform in NO_TYPED_SECRETS:
        text = (
            f"{late} I didn't use your message. If it held the password, please delete it "
            "(and change that password if others can see this chat)."
        )
    else:
        text, scrub = f"{late} I didn't use your message (I've deleted it).", True
    reply = Outgoing(f"{text} Type {again} again when ready.", scrub_incoming=scrub)
    return Step(woken, (reply,))


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _pick(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """A calendar of the CalDAV choice pressed (any state): the engine connects it."""
    number = CALDAV_PICK.number(event.choice)
    if number is None:
        return stale(conv, ctx)
    reply = Outgoing(
        "Connecting that calendar…", account=AccountRequest("caldav_pick", pick=number)
    )
    return _asking(conv, ctx, reply)


def cancel_signin(conv: Conv, ctx: Context) -> Step | None:
    """/calendar remove with no number while a sign-in is under way: it is cancelled."""
    signin = ctx.snap.signin
    if signin is None:
        return None
    what = "The CalDAV calendar choice" if signin.kind == "caldav" else "The Outlook sign-in"
    stayed = stay(conv, ctx, f"{what} is cancelled; nothing was connected.")
    return Step(stayed.conv, stayed.replies, (CancelSignin(),))


def _cancelled(conv: Conv, ctx: Context) -> str:
    return "Cancelled: no calendar was connected and nothing was stored."


FLOW = Flow(
    name="calendar accounts",
    states=(S.CALENDAR_PASSWORD,),
    transitions=((S.IDLE, "/calendar caldav <server> <user>", S.CALENDAR_PASSWORD),),
    handlers={S.CALENDAR_PASSWORD: _password_answer},
    prompt=password_prompt,
    doing=lambda conv: "connecting a CalDAV calendar",
    cancel=_cancelled,
    buttons={CALDAV_PICK.prefix: _pick},
)
