"""The processing statuses of an incoming document and its state machine, exhaustively."""

from __future__ import annotations

import itertools

import pytest

from services.documents.domain.status import (
    RECALLABLE,
    BusinessType,
    DocumentFrozen,
    IncomingDocumentState,
    InvalidTransition,
    ProcessingStatus,
    allowed_next,
    arrived,
    transition,
)

S = ProcessingStatus
DOC = "15/QĐ-UBND (000.00.31.H37)"

# Written out independently of the module: the allowed moves of every status outside a
# refused recall (where the moves depend on the status before the recall; tested below).
EXPECTED: dict[ProcessingStatus, set[ProcessingStatus]] = {
    S.ARRIVED: {S.REFUSED, S.ACCEPTED, S.RECALL_REQUESTED},
    S.REFUSED: set(),
    S.ACCEPTED: {S.ASSIGNED, S.IN_PROGRESS, S.DONE, S.RECALL_REQUESTED},
    S.ASSIGNED: {S.IN_PROGRESS, S.DONE, S.RECALL_REQUESTED},
    S.IN_PROGRESS: {S.DONE, S.RECALL_REQUESTED},
    S.DONE: {S.RECALL_REQUESTED},
    S.RECALL_REQUESTED: {S.RECALL_AGREED, S.RECALL_REFUSED},
    S.RECALL_AGREED: set(),
}


def state_in(status: ProcessingStatus) -> IncomingDocumentState:
    before = S.IN_PROGRESS if status in (S.RECALL_REQUESTED, S.RECALL_REFUSED) else None
    return IncomingDocumentState(DOC, status, before)


def test_status_codes_and_labels() -> None:
    assert [(s.value, s.label_vi) for s in ProcessingStatus] == [
        ("01", "Đã đến"),
        ("02", "Từ chối tiếp nhận"),
        ("03", "Đã tiếp nhận, đăng ký"),
        ("04", "Phân công xử lý"),
        ("05", "Đang xử lý"),
        ("06", "Hoàn thành"),
        ("13", "Yêu cầu lấy lại, thu hồi"),
        ("15", "Đồng ý lấy lại, thu hồi"),
        ("16", "Từ chối lấy lại, thu hồi"),
    ]
    assert ProcessingStatus("06").label_en == "Done"


def test_business_types() -> None:
    assert [(b.value, b.label_vi) for b in BusinessType] == [
        (0, "Văn bản mới"),
        (1, "Thu hồi văn bản"),
        (2, "Cập nhật văn bản"),
        (3, "Thay thế văn bản"),
    ]


ALLOWED_PAIRS = [(a, b) for a, targets in EXPECTED.items() for b in sorted(targets)]
REFUSED_PAIRS = [
    (a, b)
    for a, b in itertools.product(EXPECTED, ProcessingStatus)
    if b not in EXPECTED[a] and a is not S.RECALL_AGREED
]


@pytest.mark.parametrize(("current", "target"), ALLOWED_PAIRS)
def test_allowed_transition(current: ProcessingStatus, target: ProcessingStatus) -> None:
    assert transition(state_in(current), target).status is target


@pytest.mark.parametrize(("current", "target"), REFUSED_PAIRS)
def test_refused_transition_names_document_and_statuses(
    current: ProcessingStatus, target: ProcessingStatus
) -> None:
    with pytest.raises(InvalidTransition) as raised:
        transition(state_in(current), target)
    error = raised.value
    assert not isinstance(error, DocumentFrozen)
    assert (error.document, error.current, error.attempted) == (DOC, current, target)
    message = str(error)
    assert DOC in message
    assert f"from {current.value} ({current.label_vi})" in message
    assert f"to {target.value} ({target.label_vi})" in message


def test_refusal_message_lists_the_allowed_moves() -> None:
    with pytest.raises(InvalidTransition) as raised:
        transition(state_in(S.IN_PROGRESS), S.ACCEPTED)
    assert str(raised.value) == (
        f"document {DOC}: cannot go from 05 (Đang xử lý) to 03 (Đã tiếp nhận, đăng ký): "
        "allowed next: 06, 13"
    )


def test_a_refused_document_accepts_nothing() -> None:
    with pytest.raises(InvalidTransition, match="nothing may follow it"):
        transition(state_in(S.REFUSED), S.ACCEPTED)


@pytest.mark.parametrize("target", list(ProcessingStatus))
def test_a_recalled_document_is_frozen(target: ProcessingStatus) -> None:
    recalled = transition(transition(state_in(S.ASSIGNED), S.RECALL_REQUESTED), S.RECALL_AGREED)
    assert recalled.frozen
    with pytest.raises(DocumentFrozen) as raised:
        transition(recalled, target)
    assert raised.value.current is S.RECALL_AGREED
    assert raised.value.attempted is target
    assert f"document {DOC}" in str(raised.value)
    assert "recalled and is frozen" in str(raised.value)


@pytest.mark.parametrize("resume", sorted(RECALLABLE))
def test_after_a_refused_recall_processing_resumes_where_it_stood(
    resume: ProcessingStatus,
) -> None:
    refused = transition(
        transition(IncomingDocumentState(DOC, resume), S.RECALL_REQUESTED), S.RECALL_REFUSED
    )
    assert refused.status_before_recall is resume
    expected = {resume} | EXPECTED[resume]
    assert allowed_next(refused) == expected
    for target in ProcessingStatus:
        if target in expected:
            assert transition(refused, target).status is target
        else:
            with pytest.raises(InvalidTransition):
                transition(refused, target)


def test_recallable_statuses() -> None:
    assert {S.ARRIVED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.DONE} == RECALLABLE


def test_a_whole_life_with_a_refused_recall() -> None:
    state = arrived(DOC)
    for status in (S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.RECALL_REQUESTED):
        state = transition(state, status)
    assert state.status_before_recall is S.IN_PROGRESS
    state = transition(state, S.RECALL_REFUSED)
    # The sender asks again: processing would still resume from 05.
    state = transition(state, S.RECALL_REQUESTED)
    assert state.status_before_recall is S.IN_PROGRESS
    state = transition(transition(state, S.RECALL_REFUSED), S.DONE)
    assert state == IncomingDocumentState(DOC, S.DONE, None)


def test_a_refused_recall_from_arrival_must_still_be_accepted_or_refused() -> None:
    state = transition(transition(arrived(DOC), S.RECALL_REQUESTED), S.RECALL_REFUSED)
    with pytest.raises(InvalidTransition, match="allowed next: 01, 02, 03, 13"):
        transition(state, S.DONE)
    assert transition(state, S.ACCEPTED).status is S.ACCEPTED


def test_recall_states_need_the_status_before_the_recall() -> None:
    with pytest.raises(ValueError, match="before the recall"):
        IncomingDocumentState(DOC, S.RECALL_REQUESTED)
    with pytest.raises(ValueError, match="cannot interrupt"):
        IncomingDocumentState(DOC, S.RECALL_REFUSED, S.REFUSED)
