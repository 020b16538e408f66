"""Pure helpers every feature shares: clock, errors, text safety, time and due-date
parsing, message splitting. Nothing here knows Slack or the database."""
