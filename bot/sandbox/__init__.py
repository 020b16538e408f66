"""The world without Slack: the fake Slack, the request simulator, the sandbox that runs
the real bot against them on loopback, and the demo. Used by tests, ``make bench`` and
``incident-bot demo``; the running bot never imports it."""
