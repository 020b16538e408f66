"""The read-only web view: pages, the JSON API and Sign in with Slack (Flask, under waitress)."""
