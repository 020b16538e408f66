"""Update nudges: remind an incident's channel to post a status update when one is overdue."""
