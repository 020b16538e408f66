"""The incident timeline: 📌 pins, notes, the message shortcut, the listing.

``rules.py`` decides what goes on the timeline; ``events.py`` takes Slack events in;
``slack.py`` the listeners and subcommands; ``render.py`` how it reads in Slack."""
