"""The postmortem: compiled from what was recorded, rendered from Jinja2 templates.

``compile.py`` builds it; ``templates.py`` renders it safely; ``slack.py`` previews and
publishes it; ``cli.py`` is ``incident-bot postmortem``."""
