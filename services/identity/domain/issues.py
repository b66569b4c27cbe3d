"""A broken validation rule, reported in English and Vietnamese."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One broken rule.

    ``field`` is the input field a form should highlight, ``rule`` a stable code that clients can
    switch on (it never changes wording), ``message`` the English text and ``message_vi`` the
    Vietnamese text shown to school staff.
    """

    field: str
    rule: str
    message: str
    message_vi: str
