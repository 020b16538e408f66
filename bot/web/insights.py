"""``/insights``: incidents per week and month by severity, time to detect and to resolve,
overdue tasks and postmortems published on time, as SVG charts with their tables.

The figures are those of the incidents the viewer may see (``bot.incidents.access``): the
workspace's public incidents and the private ones whose channel they are in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Flask, render_template
from markupsafe import Markup

from bot.incidents import access
from bot.insights import report, rules, svg
from bot.web.app import deps, signed_in, viewer
from bot.web.slack import slack_client
from storage import insights as repo
from storage.insights import Scope

bp = Blueprint("insights", __name__)

#: Severity → bar colour (contrast of at least 3:1 on white, WCAG 1.4.11).
COLORS = {"sev1": "#a50e0e", "sev2": "#c75000", "sev3": "#806600", "sev4": "#1f5f99"}
OTHER = "#555555"
MEDIAN, P90 = "#1f5f99", "#a50e0e"


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def channel_members() -> access.Members:
    """Who is in a channel, from Slack (cached by ``Deps.members``)."""
    client = slack_client()
    members = deps().members
    return lambda channel_id: members.get(client, channel_id)


def scope_of(team_id: str, user_id: str) -> Scope:
    """What the viewer may count: ``WEB_AUTH=none`` sees every incident of every
    workspace; a signed-in person the public incidents of their workspace and the private
    ones ``access.may_see`` lets them see (Slack read outside any transaction)."""
    d = deps()
    if d.settings.web_auth == "none":
        return Scope.of(None, every_private=True)
    with d.db.session() as s:
        private = repo.private_incidents(s, team_id)
    seen = access.visible(private, user_id, channel_members()) if private else []
    return Scope.of(team_id, [i.id for i in seen])


def _severity_series(counts: rules.Counts) -> list[svg.Series]:
    return [svg.Series(sev.upper() if sev in rules.SEVERITIES else sev,
                       [r.by_severity[sev] for r in counts.rows], COLORS.get(sev, OTHER),
                       f"sev-{sev}" if sev in rules.SEVERITIES else "sev-other")
            for sev in counts.severities]


def _duration_series(rows: Sequence[rules.DurationRow], which: str) -> list[svg.Series]:
    summaries = [getattr(r, which) for r in rows]
    return [svg.Series("median", [s.median for s in summaries], MEDIAN, "median"),
            svg.Series("p90", [s.p90 for s in summaries], P90, "p90", dashed=True)]


def charts(ins: rules.Insights) -> dict[str, Markup]:
    """The page's charts, by name."""
    weeks = [r.bucket.label for r in ins.weekly.rows]
    months = [r.bucket.label for r in ins.monthly.rows]
    zone = f"weeks from Monday, months from the 1st, in {ins.zone}"
    out = {
        "weekly": svg.bar_chart(
            "chart-weekly", "Incidents per week, by severity",
            f"Incidents that started in each of the last {len(weeks)} ISO weeks ({zone}), "
            f"stacked by severity: {ins.weekly.total} in all. The table below has each number.",
            weeks, _severity_series(ins.weekly), empty="No incidents in these weeks"),
        "monthly": svg.bar_chart(
            "chart-monthly", "Incidents per month, by severity",
            f"Incidents that started in each of the last {len(months)} months ({zone}), "
            f"stacked by severity: {ins.monthly.total} in all. The table below has each number.",
            months, _severity_series(ins.monthly), empty="No incidents in these months"),
    }
    for which, name in (("detect", "detect"), ("resolve", "resolve")):
        out[which] = svg.line_chart(
            f"chart-{which}", f"Time to {name} per month: median and p90",
            f"Median (solid) and 90th percentile (dashed) time to {name} of the incidents "
            f"that started in each month ({zone}). The table below has each number.",
            months, _duration_series(ins.durations, which), tick=rules.format_seconds,
            steps=svg.TIME_STEPS, empty="No incident with this time recorded")
    shares = [None if r.share is None else round(r.share * 100, 1) for r in ins.on_time]
    out["on_time"] = svg.bar_chart(
        "chart-on-time", "Postmortems published on time, per month",
        f"Share of the postmortems due that were published within {ins.due_days} working days "
        f"of the resolution, by month of resolution ({zone}). The table below has each number.",
        months, [svg.Series("on time", shares, MEDIAN, "on-time")],
        tick=lambda v: f"{v:.0f}%", fixed_top=100, integer=False,
        empty="No postmortem due in these months")
    return out


@bp.get("/insights")
@signed_in
def insights() -> Any:
    """The insights page for the signed-in viewer."""
    found = viewer()
    assert found is not None  # signed_in
    d = deps()
    scope = scope_of(*found)
    now = d.clock.now()
    with d.db.session() as s:
        ins = report.gather(s, scope, now, d.settings.timezone, d.settings.postmortem_due_days)
    return render_template("insights.html.j2", ins=ins, charts=charts(ins),
                           duration=rules.format_seconds, severity_label=_label)


def _label(severity: str) -> str:
    return severity.upper() if severity in rules.SEVERITIES else severity
