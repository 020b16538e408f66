"""Corrective tasks and the reminders that chase them.

``rules.py`` changes tasks; ``reminders.py`` computes each owner's next slot and runs the
sweep; ``notify.py`` sends DMs and reminders; ``slack.py`` the subcommands and buttons;
``blocks.py`` how they look; ``cli.py`` is ``incident-bot remind``."""
