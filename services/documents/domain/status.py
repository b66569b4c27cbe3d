"""Processing status of an incoming electronic document, as reported over the exchange axis.

Status codes (StatusCode of an edXML status message) and business types (BussinessDocType of
the trace header) come from the national document exchange guidance that accompanies QCVN
102:2016/BTTTT; the codes match public implementations of the axis, the wording of the labels
is ours (check).

The state machine is the receiver's view of one incoming document:

    01 arrived ──> 03 accepted ──> 04 assigned ──> 05 in progress ──> 06 done
       └──> 02 refused (terminal)

Progress only moves forward; a step may be skipped (a document "for information" is accepted
and filed as done without an assignment). At any point before refusal the sender may ask for
the document back (13); the receiver agrees (15: the document is frozen for good) or refuses
(16: processing resumes where it stood, and the sender may ask again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum
from types import MappingProxyType


class ProcessingStatus(StrEnum):
    ARRIVED = "01"
    REFUSED = "02"
    ACCEPTED = "03"
    ASSIGNED = "04"
    IN_PROGRESS = "05"
    DONE = "06"
    RECALL_REQUESTED = "13"
    RECALL_AGREED = "15"
    RECALL_REFUSED = "16"

    @property
    def label_vi(self) -> str:
        return _STATUS_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _STATUS_LABELS[self][1]


_STATUS_LABELS: Mapping[ProcessingStatus, tuple[str, str]] = MappingProxyType(
    {
        ProcessingStatus.ARRIVED: ("Đã đến", "Arrived"),
        ProcessingStatus.REFUSED: ("Từ chối tiếp nhận", "Refused"),
        ProcessingStatus.ACCEPTED: ("Đã tiếp nhận, đăng ký", "Accepted and registered"),
        ProcessingStatus.ASSIGNED: ("Phân công xử lý", "Assigned"),
        ProcessingStatus.IN_PROGRESS: ("Đang xử lý", "In progress"),
        ProcessingStatus.DONE: ("Hoàn thành", "Done"),
        ProcessingStatus.RECALL_REQUESTED: ("Yêu cầu lấy lại, thu hồi", "Recall requested"),
        ProcessingStatus.RECALL_AGREED: ("Đồng ý lấy lại, thu hồi", "Recall agreed"),
        ProcessingStatus.RECALL_REFUSED: ("Từ chối lấy lại, thu hồi", "Recall refused"),
    }
)


class BusinessType(IntEnum):
    """What an edXML document package does to the document it carries (BussinessDocType)."""

    NEW = 0
    RECALL = 1
    UPDATE = 2
    REPLACEMENT = 3

    @property
    def label_vi(self) -> str:
        return _BUSINESS_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _BUSINESS_LABELS[self][1]


_BUSINESS_LABELS: Mapping[BusinessType, tuple[str, str]] = MappingProxyType(
    {
        BusinessType.NEW: ("Văn bản mới", "New document"),
        BusinessType.RECALL: ("Thu hồi văn bản", "Recall"),
        BusinessType.UPDATE: ("Cập nhật văn bản", "Update"),
        BusinessType.REPLACEMENT: ("Thay thế văn bản", "Replacement"),
    }
)

S = ProcessingStatus

# Where each status may go. RECALL_REFUSED is absent: where it goes depends on the status the
# document had when the recall was asked for (see allowed_next).
_FORWARD: Mapping[ProcessingStatus, frozenset[ProcessingStatus]] = MappingProxyType(
    {
        S.ARRIVED: frozenset({S.REFUSED, S.ACCEPTED, S.RECALL_REQUESTED}),
        S.REFUSED: frozenset(),
        S.ACCEPTED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.DONE, S.RECALL_REQUESTED}),
        S.ASSIGNED: frozenset({S.IN_PROGRESS, S.DONE, S.RECALL_REQUESTED}),
        S.IN_PROGRESS: frozenset({S.DONE, S.RECALL_REQUESTED}),
        # A finished document can still be asked back; the receiver may then refuse.
        S.DONE: frozenset({S.RECALL_REQUESTED}),
        S.RECALL_REQUESTED: frozenset({S.RECALL_AGREED, S.RECALL_REFUSED}),
        S.RECALL_AGREED: frozenset(),
    }
)

# Statuses a recall can interrupt, and so the ones processing can resume from.
RECALLABLE: frozenset[ProcessingStatus] = frozenset(
    status for status, targets in _FORWARD.items() if S.RECALL_REQUESTED in targets
)


@dataclass(frozen=True)
class IncomingDocumentState:
    """Where one incoming document stands. `document` names it in error messages (its id, or
    its number and notation with the sender)."""

    document: str
    status: ProcessingStatus
    # The status when the pending (or refused, or agreed) recall was asked for: a refused
    # recall resumes from it. None when no recall has touched the document.
    status_before_recall: ProcessingStatus | None = None

    def __post_init__(self) -> None:
        in_recall = self.status in (S.RECALL_REQUESTED, S.RECALL_REFUSED)
        if in_recall and self.status_before_recall is None:
            raise ValueError(
                f"document {self.document}: status {self.status} needs the status "
                "it had before the recall"
            )
        if self.status_before_recall is not None and self.status_before_recall not in RECALLABLE:
            raise ValueError(
                f"document {self.document}: a recall cannot interrupt status "
                f"{self.status_before_recall}"
            )

    @property
    def frozen(self) -> bool:
        """A recalled document (15) is frozen: nothing may change it any more."""
        return self.status is S.RECALL_AGREED


def arrived(document: str) -> IncomingDocumentState:
    """The state of a document the axis has just delivered."""
    return IncomingDocumentState(document, S.ARRIVED)


def allowed_next(state: IncomingDocumentState) -> frozenset[ProcessingStatus]:
    if state.status is S.RECALL_REFUSED:
        resume = state.status_before_recall
        assert resume is not None  # __post_init__ guarantees it
        # Back to where it stood (to report it again), onward from there, or a new request.
        return frozenset({resume}) | _FORWARD[resume]
    return _FORWARD[state.status]


class InvalidTransition(ValueError):
    def __init__(
        self,
        document: str,
        current: ProcessingStatus,
        attempted: ProcessingStatus,
        reason: str,
    ) -> None:
        self.document = document
        self.current = current
        self.attempted = attempted
        super().__init__(
            f"document {document}: cannot go from {current.value} ({current.label_vi}) to "
            f"{attempted.value} ({attempted.label_vi}): {reason}"
        )


class DocumentFrozen(InvalidTransition):
    """The document was recalled with the receiver's agreement (15)."""


def transition(state: IncomingDocumentState, target: ProcessingStatus) -> IncomingDocumentState:
    """The state after moving to `target`, or InvalidTransition naming document and statuses."""
    if state.frozen:
        raise DocumentFrozen(
            state.document, state.status, target, "the document was recalled and is frozen"
        )
    allowed = allowed_next(state)
    if target not in allowed:
        reason = (
            "nothing may follow it"
            if not allowed
            else "allowed next: " + ", ".join(sorted(status.value for status in allowed))
        )
        raise InvalidTransition(state.document, state.status, target, reason)
    if target is S.RECALL_REQUESTED:
        # A repeated request after a refusal keeps the status processing would resume from.
        before = state.status_before_recall if state.status is S.RECALL_REFUSED else state.status
        return replace(state, status=target, status_before_recall=before)
    if target in (S.RECALL_AGREED, S.RECALL_REFUSED):
        return replace(state, status=target)
    return replace(state, status=target, status_before_recall=None)
