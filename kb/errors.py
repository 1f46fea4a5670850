"""One error model for kb: ``KbError`` for failures, ``Problem`` for validation findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


class KbError(Exception):
    """A failure with a machine-readable code, a human message and an HTTP status.

    The web layer turns it into JSON (``{"error": {"code", "message", "field"}}``) on the API
    and into an HTML page elsewhere; the CLI turns it into a ``click.ClickException``.
    """

    def __init__(self, code: str, message: str, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return {"error": body}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file: reported, never fatal for the other files."""

    file: str
    field: str | None
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.reason}"


def errors_in(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that stop a file from being used; the others are warnings (``kb check`` shows them)."""
    return [problem for problem in problems if problem.severity == "error"]
