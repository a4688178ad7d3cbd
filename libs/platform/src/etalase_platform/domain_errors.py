"""The two ways a domain rule refuses, for pure domain modules (no framework is imported here).

`http.create_app` installs the one handler that answers them (`problems.as_problem`):

- `InvalidField`: a value the client sent breaks a rule about that value alone → 422 naming
  the field, the same body as `problems.Invalid`;
- `RuleBroken`: the aggregate's state, or other data, forbids the request → 409 whose body
  carries `rule` (a stable snake_case name clients may branch on) and its details.
"""

from typing import Any


class DomainError(Exception):
    pass


class InvalidField(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RuleBroken(DomainError):
    """`rule` names the broken rule for machines (`pagu_exceeded`, ...); `details` back it and
    become members of the problem body."""

    def __init__(self, rule: str, detail: str, **details: Any) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail
        self.details = details
