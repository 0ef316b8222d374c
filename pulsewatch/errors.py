"""The error hierarchy: every error a person may see carries a message and a short title."""

from __future__ import annotations


class PulseWatchError(Exception):
    """Base of every error PulseWatch reports to a person rather than crashing on.

    Args:
        message: what went wrong and, where possible, how to fix it.
        title: a few words for a notification or dialog heading.
    """

    def __init__(self, message: str, title: str = "PulseWatch error") -> None:
        super().__init__(message)
        self.message = message
        self.title = title

    def __str__(self) -> str:
        return self.message


class ConfigError(PulseWatchError):
    """The configuration file cannot be used; `problems` lists every error found, one line each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message, title="Invalid configuration")
        self.problems = problems or [message]


class StorageError(PulseWatchError):
    """The database cannot be opened, upgraded or used."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Storage error")


class NotFoundError(PulseWatchError):
    """A named object (check, user, organization...) does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Not found")
