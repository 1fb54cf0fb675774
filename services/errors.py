"""Errors the services raise for the UI and API to show. Messages are written for a shop owner."""


class FormError(Exception):
    """Input that cannot be saved; `errors` maps each field to the message to show beside it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class NotFoundError(Exception):
    pass


class ChangedMeanwhileError(Exception):
    """Someone else saved the same record after it was opened for editing."""


class PermissionDeniedError(Exception):
    """The signed-in person's role does not allow this; the message names the missing permission."""
