"""Errors raised by the records layer.

Every error is a ``RecordsError``; callers (actions, portal, CLI) can catch that
one class and show ``str(error)``, which is written for a member of staff.
"""
from __future__ import annotations


class RecordsError(Exception):
    """Base class for every error the records layer raises on purpose."""


class InvalidValue(RecordsError, ValueError):
    """A value is not one the records accept (unknown category, bad phone number…)."""


class NotFound(RecordsError, LookupError):
    """The enquiry, outcome or participant asked for does not exist."""


class AlreadyExists(RecordsError):
    """A record with the same unique value (e.g. council reference) exists."""


class OutcomeTextError(InvalidValue):
    """The words of a desired outcome cannot be stored as they are."""


class EmptyOutcomeText(OutcomeTextError):
    """The outcome has no words in it (empty or only spaces)."""


class OutcomeTooLong(OutcomeTextError):
    """The outcome is longer than the limit. Nothing is ever cut: ask to shorten or split."""

    def __init__(self, length: int, limit: int):
        self.length = length
        self.limit = limit
        super().__init__(
            f"The outcome is {length:,} characters long; the most one outcome can hold "
            f"is {limit:,}. Please shorten it or split it into more than one outcome."
        )


class AppendOnlyError(RecordsError):
    """Someone tried to change or delete a row that is kept as history.

    Record a new row instead: ``change_outcome``, ``withdraw_outcome``,
    ``withdraw_consent``, ``record_review``.
    """


class Conflict(RecordsError):
    """Someone else recorded something at the same moment; read again and retry."""


class OutcomeConflict(Conflict):
    """The outcome version given is no longer the latest (it was changed or withdrawn)."""
