"""Due work: the one pump that sends what is due (task reminders, update nudges, postmortem
follow-ups, the digest), exactly once across replicas and restarts."""
