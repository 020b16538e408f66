"""Addresses of the web view's pages (``WEB_BASE_URL``), for links from Slack. Pure.

The routes themselves are ``bot.web.pages``; these must match them (tests/web checks).
"""

from __future__ import annotations


def incident_page(base_url: str | None, ref: str) -> str | None:
    """``https://sitrep.example.com/incidents/INC-42`` (None without ``WEB_BASE_URL``)."""
    return f"{base_url.rstrip('/')}/incidents/{ref}" if base_url else None


def postmortem_page(base_url: str | None, ref: str, version: int | None = None) -> str | None:
    """The published postmortem's page: its latest version, or ``version`` (a stable link)."""
    page = incident_page(base_url, ref)
    if page is None:
        return None
    return f"{page}/postmortem" + (f"/{version}" if version else "")
