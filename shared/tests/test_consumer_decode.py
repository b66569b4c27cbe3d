"""`decode_event`'s fast path gives what decoding step by step gives: the same envelope and
contract for a valid event, and the same rejection (the dead-letter reason) for anything else."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.events.contracts import ALL_CONTRACTS, HealthMeasured, StudentEnrolled
from shared.events.envelope import (
    CloudEvent,
    EventDecodeError,
    EventDecoder,
    decode_event,
    decode_step_by_step,
)

CONTRACTS = {(c.EVENT_TYPE, c.VERSION): c for c in ALL_CONTRACTS}
AT = datetime(2025, 10, 1, 9, 30, 15, 123456, tzinfo=UTC)


def enrolled() -> StudentEnrolled:
    return StudentEnrolled(
        enrolment_id=uuid.UUID(int=7),
        learner_id="L1",
        school_id="S1",
        school_year="2025-2026",
        grade=6,
        enrolled_on=date(2025, 9, 5),
        revision=1,
    )


def measured() -> HealthMeasured:
    return HealthMeasured(
        measurement_id=uuid.UUID(int=8),
        learner_id="L1",
        school_id="S1",
        class_id="6A",
        campaign_id="HP-2025-HK1",
        measured_on=date(2025, 10, 1),
        sex="female",
        birth_date=date(2014, 2, 3),
        height_cm=141.5,
        weight_kg=33.25,
        eyesight_left=0.8,
        eyesight_right=1.0,
        eye_conditions=["myopia", "astigmatism"],
        grade=6,
    )


@pytest.mark.parametrize("data", [enrolled(), measured()], ids=lambda d: d.EVENT_TYPE)
def test_a_valid_event_decodes_as_decode_event_decodes_it(data):
    raw = CloudEvent.wrap(data, source="/eduhub/records", time=AT).to_bytes()
    envelope, decoded = decode_event(raw, CONTRACTS)
    expected_envelope, expected = decode_step_by_step(raw, CONTRACTS)
    assert decoded == expected == data
    assert type(decoded) is type(data)
    # The fast path's envelope carries the contract as its data; the rest is the same.
    assert envelope.model_dump(exclude={"data"}) == expected_envelope.model_dump(exclude={"data"})
    assert isinstance(envelope, CloudEvent)
    assert envelope.time == AT
    assert envelope.data == data
    assert expected_envelope.data == json.loads(raw)["data"]


def test_a_decoder_of_one_contract_decodes_it_and_rejects_the_others():
    decoder = EventDecoder([HealthMeasured])
    raw = CloudEvent.wrap(measured(), source="/eduhub/records", time=AT).to_bytes()
    assert decoder.decode(raw)[1] == measured()
    other = CloudEvent.wrap(enrolled(), source="/eduhub/records", time=AT).to_bytes()
    with pytest.raises(EventDecodeError, match=r"no contract for type 'records\.student\.enroll"):
        decoder.decode(other)


def _mutated(change: Any) -> bytes | None:
    envelope = json.loads(CloudEvent.wrap(enrolled(), source="/test", time=AT).to_bytes())
    return change(envelope)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty message (a tombstone)"),
        (b"{", "not JSON"),
        (b"\xff\xfe{", "not JSON"),
        (_mutated(lambda e: json.dumps({**e, "specversion": "0.3"}).encode()), "specversion"),
        (
            _mutated(lambda e: json.dumps({**e, "type": "records.student.vanished"}).encode()),
            "no contract for type 'records.student.vanished'",
        ),
        (_mutated(lambda e: json.dumps({**e, "dataschema": "urn:x"}).encode()), ":v<major>"),
        (
            _mutated(lambda e: json.dumps({**e, "data": {**e["data"], "grade": 13}}).encode()),
            "grade",
        ),
    ],
)
def test_an_invalid_message_is_rejected_with_decode_events_reason(raw, reason):
    with pytest.raises(EventDecodeError) as fast:
        decode_event(raw, CONTRACTS)
    with pytest.raises(EventDecodeError) as slow:
        decode_step_by_step(raw, CONTRACTS)
    assert str(fast.value) == str(slow.value)
    assert reason in str(fast.value)
