"""Incidents: open one, its channel and pinned card, status, severity, lead, facts, times.

``rules.py`` is the pure core; ``slack.py`` the subcommands; ``channel.py`` the channel, card
and announcements; ``blocks.py`` how they look."""
