"""Sitrep, a Slack incident bot. The wiring (app, cli, settings, server, deps, background)
sits at this level; each domain concept has its own folder below."""
