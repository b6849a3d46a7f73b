"""The answer every rule gives: allowed, or refused with the text the user reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    rule: str
    message: str = ""

    def __bool__(self) -> bool:
        return self.allowed

    def check(self) -> None:
        """Raise the refusal, so a command stops before it changes anything."""
        if not self.allowed:
            raise Refused(self.rule, self.message)


def allow(rule: str) -> Decision:
    return Decision(True, rule)


def refuse(rule: str, message: str) -> Decision:
    return Decision(False, rule, message)


class Refused(Exception):
    """A business rule said no. `message` is the user-facing text; `rule` its id in
    docs/rules.md."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class NeedsConfirmation(Exception):
    """The command is allowed but must first be confirmed by the user with this question."""

    def __init__(self, rule: str, question: str) -> None:
        super().__init__(question)
        self.rule = rule
        self.question = question


class NotFound(Exception):
    """The item named does not exist (or was deleted meanwhile)."""


class Invalid(ValueError):
    """Input that cannot be saved as given (a blank title, an unknown field type …)."""


class Unavailable(Refused):
    """The database could not be used just now (unreachable, restarting, locked, full): nothing
    was changed, and the same command may well work a moment later. `message` says so in full;
    `situation` is what is wrong, for a status line ("the firm database at … is locked")."""

    def __init__(self, message: str, situation: str = "") -> None:
        super().__init__("store", message)
        self.situation = situation or message


class PortalAway(Refused):
    """The portal service could not be asked just now (unreachable, refusing, garbage):
    nothing was changed there; `message` says why, in full."""

    def __init__(self, message: str) -> None:
        super().__init__("portal", message)


class Conflict(Refused):
    """Another staff member's change crossed this one at the same moment: nothing was changed,
    and the command may simply be tried again."""

    def __init__(self, message: str) -> None:
        super().__init__("concurrency", message)


class EditConflict(Conflict):
    """A Save refused because someone else saved the same row since this user read it: their
    edit stands, and this one is not written. The screen offers to reload."""

    def __init__(self, message: str, *, changed_by: str, changed_at: object) -> None:
        super().__init__(message)
        self.changed_by = changed_by
        self.changed_at = changed_at
