"""The web view's pages: the incident list, an incident, its postmortem, open tasks.

A thin shell: read the request, ask ``storage.web`` (a fixed number of statements per page)
and ``bot.incidents.access`` (whether the viewer may see each incident: a private one only
for its channel's members, as in Slack), shape with ``bot.web.rules``, render a template
from ``templates/web/`` (autoescaped). No JavaScript; every form is a plain GET form.

An incident the viewer may not see answers exactly as one that does not exist (404), so a
page never tells that a private incident exists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request, url_for

from bot.common.text import mentioned_users
from bot.deps import Deps
from bot.incidents import access
from bot.postmortem import compile as postmortem
from bot.postmortem.templates import Templates
from bot.web import rules
from bot.web.app import deps, signed_in, viewer
from bot.web.slack import slack_client
from storage import users
from storage import web as repo
from storage.models import Incident

bp = Blueprint("pages", __name__)

#: Stylesheets served from ``templates/web/`` (``style-src 'self'``: no inline styles).
STYLESHEETS = frozenset({"site.css", "postmortem.css"})
#: Rounds of the list's query when private incidents the viewer may not see are skipped;
#: a page that is still short after them links on to the rest (never loops without bound).
MAX_ROUNDS = 4


def register(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def layout() -> dict[str, Any]:
        """What the shared layout (``base.html.j2``) needs on every page."""
        return {"auth_none": deps().settings.web_auth == "none"}


# -- who is looking, and what they may see ----------------------------------------------------

class Looker:
    """The viewer of this request: workspace, user, and ``access.may_see`` for each incident.

    With ``WEB_AUTH=none`` (loopback only) every incident of every workspace is shown.
    Channel members are read from Slack (``Deps.members``, cached) only for a private
    incident, once per channel per request.
    """

    def __init__(self, app_deps: Deps) -> None:
        person = viewer()
        assert person is not None  # @signed_in
        self.everything = app_deps.settings.web_auth == "none"
        self.team_id: str | None = None if self.everything else person[0]
        self.user_id = person[1]
        self._deps = app_deps
        self._known: dict[str, Collection[str] | None] = {}

    def members(self, channel_id: str) -> Collection[str] | None:
        if channel_id not in self._known:
            self._known[channel_id] = self._deps.members.get(slack_client(), channel_id)
        return self._known[channel_id]

    def may_see(self, incident: Incident) -> bool:
        if self.everything:
            return True
        found = (self.members(str(incident.channel_id))
                 if access.members_needed(incident) else None)
        return access.may_see(incident, self.user_id, found)

    def may_see_task(self, incident: Incident, owner: str) -> bool:
        """Anyone who may see the incident, and the task's owner (``access``)."""
        if self.everything:
            return True
        found = (self.members(str(incident.channel_id))
                 if access.members_needed(incident) and owner != self.user_id else None)
        return access.may_act_on_task(incident, owner, self.user_id, found)

    def visible(self, items: Iterable[Any],
                incident_of: Callable[[Any], Incident] | None = None) -> list[Any]:
        if self.everything:
            return list(items)
        return access.visible(items, self.user_id, self.members, incident_of)


def templates() -> Templates:
    """The postmortem templates (an operator's ``TEMPLATES_DIR`` first), made once per app."""
    found = current_app.extensions.get("sitrep.templates")
    if found is None:
        found = Templates(deps().settings.templates_dir)
        current_app.extensions["sitrep.templates"] = found
    return found


def _tz() -> ZoneInfo:
    return deps().settings.timezone


def _names(people: dict[str, Any]) -> dict[str, str]:
    return {uid: u.display_name for uid, u in people.items()}


def not_found(what: str) -> tuple[str, int]:
    return render_template("not_found.html.j2", what=what), 404


@bp.after_request
def no_store(response: Response) -> Response:
    """Pages hold what only the signed-in viewer may see: never kept by a shared cache."""
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


# -- the incident list ------------------------------------------------------------------------

@bp.get("/incidents")
@signed_in
def incidents() -> Any:
    app_deps = deps()
    tz = _tz()
    looker = Looker(app_deps)
    filters = rules.read_filters(request.args.to_dict(flat=False))
    start, end = filters.started_range(tz)
    where = repo.IncidentFilter(team_id=looker.team_id, statuses=filters.statuses,
                                severities=filters.severities, started_from=start,
                                started_before=end, words=filters.words)
    size = rules.PAGE_SIZE
    shown: list[Incident] = []
    after, more = filters.after, False
    for round_ in range(MAX_ROUNDS):
        chunk = size + 1 if round_ == 0 else (size + 1) * 4
        with app_deps.db.session() as s:
            batch = repo.incident_page(s, where, after=after, limit=chunk)
        shown.extend(looker.visible(batch))
        if batch:
            after = (batch[-1].started_at, batch[-1].id)
        if len(shown) > size:
            more, after = True, (shown[size - 1].started_at, shown[size - 1].id)
            shown = shown[:size]
            break
        if len(batch) < chunk:
            break
    else:  # still short after every round: link on from the last incident looked at
        more = True
    leads = {i.lead_user_id for i in shown if i.lead_user_id}
    with app_deps.db.session() as s:
        names = _names({u.user_id: u for u in users.get_many(s, leads)})
    next_url = (url_for("pages.incidents") + "?" + _query(filters.query_args(after))
                if more and after else None)
    first_url = (url_for("pages.incidents") + "?" + _query(filters.query_args())
                 if filters.after else None)
    return render_template(
        "incidents.html.j2", filters=filters, incidents=rules.listed(shown, names, tz),
        next_url=next_url, first_url=first_url, statuses=rules.STATUSES,
        severities=rules.SEVERITIES, timezone=tz.key)


def _query(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)


# -- one incident -----------------------------------------------------------------------------

def _incident(ref: str, looker: Looker) -> Incident | None:
    """The incident ``ref`` if it exists and the viewer may see it (else None: a 404)."""
    number = rules.incident_number(ref)
    if number is None:
        return None
    with deps().db.session() as s:
        incident = repo.find(s, looker.team_id, number)
    if incident is None or not looker.may_see(incident):
        return None
    return incident


@bp.get("/incidents/<ref>")
@signed_in
def incident(ref: str) -> Any:
    app_deps = deps()
    looker = Looker(app_deps)
    found = _incident(ref, looker)
    if found is None:
        return not_found(ref)
    raw = request.args.get("entries", "")
    after = rules.decode_entry_cursor(raw) if raw else None
    with app_deps.db.session() as s:
        record = repo.incident_record(s, found, after=after, limit=rules.ENTRIES_PAGE,
                                      mentioned=mentioned_users)
    tz = _tz()
    today = app_deps.clock.now().astimezone(tz).date()
    view = rules.incident_view(found, record, _names(record.people), tz, today,
                               limit=rules.ENTRIES_PAGE, later_page=after is not None)
    return render_template("incident.html.j2", incident=view)


@bp.get("/incidents/<ref>/postmortem")
@signed_in
def latest_postmortem(ref: str) -> Any:
    return _postmortem(ref, None)


@bp.get("/incidents/<ref>/postmortem/<int:version>")
@signed_in
def postmortem_version(ref: str, version: int) -> Any:
    return _postmortem(ref, version)


def _postmortem(ref: str, version: int | None) -> Any:
    """A published version, rendered from the data it was published from.

    Versions published before that data was stored (migration 0009) are shown as their
    stored Markdown, as text: exactly what was published, and never markup.
    """
    app_deps = deps()
    looker = Looker(app_deps)
    found = _incident(ref, looker)
    if found is None:
        return not_found(ref)
    with app_deps.db.session() as s:
        stored = repo.postmortem_version(s, found.id, version)
    if stored is None:
        what = f"{ref} postmortem version {version}" if version else f"a published {ref} postmortem"
        return not_found(what)
    incident_url = url_for("pages.incident", ref=found.ref)
    pm = None
    if stored.snapshot:
        try:
            pm = postmortem.from_snapshot(stored.snapshot)
        except (TypeError, ValueError):
            current_app.logger.warning("%s postmortem version %s: its stored data cannot be "
                                       "read; showing its Markdown", found.ref, stored.version)
    if pm is None:
        return render_template("postmortem_markdown.html.j2", ref=found.ref,
                               version=stored.version, markdown=stored.markdown,
                               incident_url=incident_url)
    rendered = templates().render(
        postmortem.TEMPLATES["html"], pm=pm,
        stylesheet=url_for("pages.stylesheet", name="postmortem.css"),
        incident_url=incident_url)
    return Response(rendered.text, mimetype="text/html")


# -- tasks ------------------------------------------------------------------------------------

@bp.get("/tasks")
@signed_in
def tasks() -> Any:
    app_deps = deps()
    looker = Looker(app_deps)
    tz = _tz()
    today = app_deps.clock.now().astimezone(tz).date()
    mine = request.args.get("mine") == "1" and bool(looker.user_id)
    overdue = request.args.get("overdue") == "1"
    with app_deps.db.session() as s:
        found = repo.open_tasks(s, looker.team_id, owner=looker.user_id if mine else None,
                                due_before=today if overdue else None,
                                limit=rules.TASKS_LIMIT + 1)
    rows = [r for r in found.rows if looker.may_see_task(r.Incident, r.owner_user_id)]
    more = len(rows) > rules.TASKS_LIMIT
    groups = rules.tasks_by_owner(rows[:rules.TASKS_LIMIT], _names(found.people), today)
    return render_template("tasks.html.j2", groups=groups, mine=mine, overdue=overdue,
                           can_filter_mine=bool(looker.user_id), more=more,
                           limit=rules.TASKS_LIMIT, today=today.isoformat())


# -- stylesheets ------------------------------------------------------------------------------

@bp.get("/static/<name>")
def stylesheet(name: str) -> Any:
    """``site.css`` and ``postmortem.css`` from ``templates/web/`` (public, cacheable)."""
    if name not in STYLESHEETS:
        abort(404)
    body = (files("bot.templates") / "web" / name).read_bytes()
    response = Response(body, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
