"""Errors the shell turns into friendly replies."""


class UserError(Exception):
    """Bad input or a request that cannot be honoured; the message is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(UserError):
    """A referenced incident, task or entry does not exist (in this workspace)."""
