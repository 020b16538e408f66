"""A local, in-memory fake of the Slack Web API.

Used by the zero-config demo and by every end-to-end test.  It speaks real HTTP so the real
``slack_sdk.WebClient`` / ``slack_bolt`` code paths run unchanged: point ``base_url`` (or
``SLACK_API_URL``) at :attr:`FakeSlack.url`.  Responses follow the shapes documented at
api.slack.com (``ok``/``error``, channel objects, ``ts`` strings, ``response_metadata``).

Only the standard library is used, except by Socket Mode (the ``websockets`` library).

One module per concern, so that what answers ``conversations.create`` is found by file name:

- ``state.py``: the workspace (users, channels, DMs, ids, ``ts``) and the helpers that seed
  it; ``messages.py``: stored messages, threads, reactions and the helpers that post them;
  ``args.py``: how handlers read their arguments.
- One mixin per family of Web API methods, each handler marked ``@answers("family.method")``:
  ``auth.py``, ``chat.py``, ``conversations.py``, ``pins.py``, ``reactions.py``, ``users.py``,
  ``views.py``, ``files.py`` (with uploads and downloads), ``responses.py``
  (``response_url``) and ``socket_mode.py`` (``apps.connections.open`` and the Socket Mode
  WebSocket server, with hooks that break the connection).
- ``manifest.py``: the installed app as ``manifest.yml`` declares it (scopes, the Messages
  tab), which decides ``missing_scope``, ``not_in_channel`` and ``messages_tab_disabled``;
- ``blockkit.py``: Block Kit and message limits (slack_sdk's models, plus what they leave
  out); ``metadata.py``: message metadata (kept, checked, read back only with
  ``include_all_metadata``); ``failures.py``: the call log and injected failures
  (``http_500_after``: applied, then answered 500);
  ``server.py``: the HTTP server and the ``/api/`` dispatch; ``common.py``: shared pieces;
  ``__main__.py``: ``python -m bot.sandbox.fakeslack``.

- ``openid.py``: Sign in with Slack (OpenID Connect): the discovery document, the signing
  keys, ``/openid/connect/authorize`` (with the ``login_as`` test hook),
  ``openid.connect.token`` and ``openid.connect.userInfo``; a base of ``server.py``'s
  ``Server``, which routes its pages outside ``/api/``.

A new family is one new module with its mixin and one more base of :class:`FakeSlack`.
"""

from __future__ import annotations

from bot.sandbox.fakeslack.auth import Auth
from bot.sandbox.fakeslack.blockkit import block_errors
from bot.sandbox.fakeslack.chat import Chat
from bot.sandbox.fakeslack.common import Call, SlackError
from bot.sandbox.fakeslack.conversations import Conversations
from bot.sandbox.fakeslack.files import Files
from bot.sandbox.fakeslack.pins import Pins
from bot.sandbox.fakeslack.reactions import Reactions
from bot.sandbox.fakeslack.responses import Responses
from bot.sandbox.fakeslack.server import Server
from bot.sandbox.fakeslack.users import Users
from bot.sandbox.fakeslack.views import Views

__all__ = ["Call", "FakeSlack", "SlackError", "block_errors"]


class FakeSlack(
    Auth,
    Chat,
    Conversations,
    Pins,
    Reactions,
    Users,
    Views,
    Files,
    Responses,
    Server,
):
    """In-memory Slack workspace served over HTTP; see the module docstring."""
