"""The weekly digest: open incidents, postmortems not published, overdue tasks by owner.

``rules.py`` decides what goes in (pure), ``blocks.py`` lays it out within Slack's limits,
``slack.py`` posts it at each ``DIGEST_CRON`` slot through the pump of due work."""
