"""What a Slack ``error`` code means for Sitrep: whose fault it is and what to do next.

Slack answers a refused Web API call with ``{"ok": false, "error": "<code>"}``. The same code
can be read two ways, and reading it wrongly is costly: ``account_inactive`` says the *bot's
own token* belongs to a deleted workspace or an uninstalled app, not that the person being
messaged has left, so treating it as "owner gone" would stop everyone's reminders for good.

This module only classifies (plain Python, no Slack library), so the rules can be read and
tested on their own; the Slack side (``bot.slack.health``, ``bot.tasks.notify``) acts on them.
Sources: the "Errors" table of each method page (https://docs.slack.dev/reference/methods/
chat.postMessage, conversations.open, conversations.invite, users.info) and the errors every
method shares (https://docs.slack.dev/apis/web-api/#errors).
"""

from __future__ import annotations

from enum import Enum


class Kind(Enum):
    """Whose problem an error code is."""

    #: The bot's token or installation: nothing can be sent until an admin acts.
    TOKEN = "token"
    #: The app lacks a permission (``missing_scope``): every call of that method fails.
    SCOPE = "scope"
    #: The app's Messages tab is off: Slack refuses every DM the app sends.
    DMS_OFF = "dms_off"
    #: This person cannot be reached (deactivated, unknown, hidden, a bot).
    PERSON_GONE = "person_gone"
    #: Slack's side is struggling; the same call may work in a moment.
    TRANSIENT = "transient"
    #: Anything else: not understood, so retried with growing pauses, never forever.
    OTHER = "other"


#: The token or the installation is unusable: common errors of every method.
TOKEN_ERRORS = frozenset({
    "account_inactive",  # token of a deleted workspace, or the app was removed
    "invalid_auth",  # the token is not valid (or the IP is not allowed)
    "not_authed",  # no token was sent
    "token_revoked",  # the token was revoked or the app uninstalled
    "token_expired",  # a rotating token expired
    "not_allowed_token_type",  # e.g. a user token where a bot token is needed
    "no_permission",  # the workspace token lacks the permission
    "team_access_not_granted",  # the token was not granted this workspace
    "ekm_access_denied",  # administrators suspended posting (Enterprise Key Management)
    "access_denied",  # access to the resource was denied by the workspace
    "accesslimited",  # the method is limited on the current network
    "enterprise_is_restricted",  # the method cannot be called from an Enterprise
    "two_factor_setup_required",
    "org_login_required",  # the workspace is migrating into an Enterprise org
    "app_access_restricted",  # (chat.postMessage) the app may not be used here
})
SCOPE_ERRORS = frozenset({"missing_scope"})
DMS_OFF_ERRORS = frozenset({"messages_tab_disabled"})  # chat.postMessage into the app's DM
#: The person is gone or out of reach (conversations.open, users.info, chat.postMessage).
PERSON_GONE_ERRORS = frozenset({
    "user_not_found",  # no such user (left an Enterprise grid, or a bad id)
    "user_disabled",  # deactivated
    "user_not_visible",  # the workspace hides this person from the app
    "cannot_dm_bot",  # the "person" is a bot user
})
TRANSIENT_ERRORS = frozenset({
    "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
    "request_timeout", "team_added_to_org",
})

_KINDS = {
    **dict.fromkeys(TOKEN_ERRORS, Kind.TOKEN),
    **dict.fromkeys(SCOPE_ERRORS, Kind.SCOPE),
    **dict.fromkeys(DMS_OFF_ERRORS, Kind.DMS_OFF),
    **dict.fromkeys(PERSON_GONE_ERRORS, Kind.PERSON_GONE),
    **dict.fromkeys(TRANSIENT_ERRORS, Kind.TRANSIENT),
}


def classify(code: str) -> Kind:
    """The kind of Slack error ``code`` (``Kind.OTHER`` when it is not one of the known)."""
    return _KINDS.get(code, Kind.OTHER)


def is_app_problem(code: str) -> bool:
    """True when ``code`` is about Sitrep itself (token, scopes, Messages tab), not a person.

    Such an error pauses sending and is reported to the operator; it never blames anyone.
    """
    return classify(code) in (Kind.TOKEN, Kind.SCOPE, Kind.DMS_OFF)


def person_gone(code: str) -> bool:
    """True only when ``code`` means the person can no longer be reached."""
    return classify(code) is Kind.PERSON_GONE


def explain(code: str, method: str = "", needed: str | None = None) -> str:
    """One sentence for the operator (and the person who acted) on an app problem."""
    kind = classify(code)
    if kind is Kind.DMS_OFF:
        return ("Slack refuses Sitrep's direct messages: the app's Messages tab is turned off. "
                "In the app's settings, App Home → Show Tabs, turn on the Messages Tab "
                "(manifest: features.app_home.messages_tab_enabled: true).")
    if kind is Kind.SCOPE:
        scope = f" `{needed}`" if needed else ""
        return (f"Slack refused {method or 'a call'} because Sitrep lacks the scope{scope}: "
                "update the app from manifest.yml and reinstall it to the workspace.")
    if kind is Kind.TOKEN:
        return (f"Slack refuses Sitrep's bot token (`{code}`): the app was uninstalled, the "
                "token revoked or the workspace deleted. Reinstall the app and set "
                "SLACK_BOT_TOKEN to its Bot User OAuth Token.")
    return f"Slack refused {method or 'a call'} (`{code}`)."
