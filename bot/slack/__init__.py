"""The Slack side every feature shares: the Web API client, people's profiles, Block Kit
pieces, and the ``/incident`` router with its grammar."""
