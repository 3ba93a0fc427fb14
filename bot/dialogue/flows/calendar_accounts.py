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
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

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
    """How /calendar list names a calendar: 'Outlook (alice@contoso.com)', 'CalDAV (alice at
    caldav.fastmail.com)', or an ICS address masked (its path is the secret)."""
    if feed.kind == "graph":
        return f"Outlook ({feed.account})" if feed.account else "Outlook"
    if feed.kind == "caldav":
        return f"CalDAV ({feed.account} at {host_of(feed.url)})"
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
        text = "Starting the Outlook sign-in… if no code follows, type /calendar outlook again."
        return _asking(conv, ctx, Outgoing(text, account=AccountRequest("outlook")))
    return _caldav(conv, word, rest, ctx)


def _asking(conv: Conv, ctx: Context, reply: Outgoing) -> Step:
    """`reply`, then the current question again if we are in the middle of something."""
    if conv.state == S.IDLE:
        return Step(conv, (reply,))
    return Step(conv, (reply, prompt(conv, ctx)))


def _caldav(conv: Conv, word: str, rest: str, ctx: Context) -> Step:
    from bot.core.calendar_rules import FeedError, validate_feed_url

    parts = rest.split()
    if word in KNOWN_SERVERS and parts and "://" not in parts[0]:
        parts.insert(0, KNOWN_SERVERS[word])
    if not parts:
        return stay(conv, ctx, CALDAV_USAGE)
    try:
        url = validate_feed_url(parts[0], allow_private=ctx.snap.allow_private_feeds)
    except FeedError as exc:
        return stay(conv, ctx, f"I can't use that server address: {exc}\n{CALDAV_USAGE}")
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


def ask_password(conv: Conv, url: str, user: str) -> Conv:
    """The conversation waiting for the password of `user` at `url` (the engine puts it
    back here when the server refused the one sent)."""
    return Conv(S.CALENDAR_PASSWORD, replace_data(conv.data, caldav={"url": url, "user": user}))


def password_prompt(conv: Conv, ctx: Context) -> Outgoing:
    account = conv.data.caldav or {}
    user, host = account.get("user", ""), host_of(account.get("url", ""))
    return Outgoing(
        f"Now the password for {user} at {host} (iCloud and Fastmail: an app-specific "
        "password). I keep it encrypted and never show it. /cancel stops.",
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
                password_prompt(conv, ctx),
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
