"""Sitrep's functional core: incidents, timeline, tasks, reminders, postmortem.

Plain Python over ``storage``; nothing in this package imports Bolt or calls Slack.
"""
