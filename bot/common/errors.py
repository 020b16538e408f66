"""Errors the shell turns into friendly replies."""


class UserError(Exception):
    """Bad input or a request that cannot be honoured; the message is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(UserError):
    """A referenced incident, task or entry does not exist (in this workspace)."""


class OperatorError(Exception):
    """Sitrep cannot work as installed or configured; the message tells the operator why.

    Not the user's fault and not a bug in their request: the shell logs it as an error (with
    ``detail``, such as a path, for the operator only) and tells the user that Sitrep itself
    needs fixing, with a reference to the log line.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(f"{message} ({detail})" if detail else message)
        self.message = message
        self.detail = detail
