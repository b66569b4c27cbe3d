"""Contracts: committed schemas, the backward-compatibility rule, and the envelope."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest

from shared.events.contracts import ALL_CONTRACTS, OrgChanged, StudentEnrolled
from shared.events.envelope import (
    CloudEvent,
    EventDecodeError,
    dead_letter_topic,
    decode_event,
    topic_name,
)
from shared.events.schemas import compatibility_problems, current_schema, schema_file

CONTRACTS = {(c.EVENT_TYPE, c.VERSION): c for c in ALL_CONTRACTS}


def enrolled(**overrides: Any) -> StudentEnrolled:
    fields: dict[str, Any] = dict(
        enrolment_id=uuid.uuid4(),
        learner_id="L1",
        school_id="S1",
        school_year="2025-2026",
        grade=6,
        enrolled_on=date(2025, 9, 5),
        revision=1,
    )
    fields.update(overrides)
    return StudentEnrolled(**fields)


@pytest.mark.parametrize("contract", ALL_CONTRACTS, ids=lambda c: f"{c.EVENT_TYPE}.v{c.VERSION}")
def test_every_contract_is_compatible_with_its_committed_schema(contract):
    path = schema_file(contract)
    assert path.exists(), f"commit {path.name}: run `eduhub contracts export`"
    assert compatibility_problems(json.loads(path.read_text()), current_schema(contract)) == []


def test_every_contract_is_closed_and_names_its_version():
    for contract in ALL_CONTRACTS:
        schema = current_schema(contract)
        assert schema["additionalProperties"] is False
        assert schema["$id"] == f"urn:eduhub:schema:{contract.EVENT_TYPE}:v{contract.VERSION}"


def _schema(properties, required):
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def test_compatibility_rule_catches_each_breaking_change():
    old = _schema(
        {
            "a": {"type": "string", "maxLength": 10},
            "b": {"type": "integer"},
            "c": {"enum": ["x", "y"]},
        },
        ["a"],
    )
    assert compatibility_problems(old, old) == []
    assert (
        compatibility_problems(old, _schema({**old["properties"], "d": {"type": "string"}}, ["a"]))
        == []
    )
    assert compatibility_problems(
        old, _schema({"a": {"type": "string", "maxLength": 10}, "c": {"enum": ["x", "y"]}}, ["a"])
    ) == ["b: field removed"]
    assert compatibility_problems(old, _schema(old["properties"], ["a", "b"])) == [
        "b: field became required"
    ]
    assert compatibility_problems(
        old, _schema({**old["properties"], "b": {"type": "string"}}, ["a"])
    ) == ["b: no longer accepts ['integer']"]
    assert compatibility_problems(
        old, _schema({**old["properties"], "c": {"enum": ["x"]}}, ["a"])
    ) == ["c: no longer accepts ['enum:y']"]
    assert compatibility_problems(
        old, _schema({**old["properties"], "a": {"type": "string", "maxLength": 5}}, ["a"])
    ) == ["a: maxLength tightened to 5"]
    # Relaxing a bound is fine.
    assert (
        compatibility_problems(
            old, _schema({**old["properties"], "a": {"type": "string", "maxLength": 50}}, ["a"])
        )
        == []
    )


def test_topics_by_type_and_major_version():
    assert StudentEnrolled.topic() == "records.student.enrolled"
    assert OrgChanged.topic() == "identity.org.changed"
    assert topic_name("records.student.enrolled", 2) == "records.student.enrolled.v2"
    assert dead_letter_topic("records.student.enrolled") == "records.student.enrolled.dlq"


def test_envelope_round_trip():
    data = enrolled()
    envelope = CloudEvent.wrap(data, source="/eduhub/records")
    assert envelope.subject == "L1"
    assert envelope.type == "records.student.enrolled"
    assert envelope.dataschema == "urn:eduhub:schema:records.student.enrolled:v1"
    raw = json.loads(envelope.to_bytes())
    assert raw["specversion"] == "1.0"
    assert raw["datacontenttype"] == "application/json"
    decoded_envelope, decoded = decode_event(envelope.to_bytes(), CONTRACTS)
    assert decoded == data
    assert decoded_envelope.id == envelope.id


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: b"{", "not JSON"),
        (lambda e: json.dumps({**e, "specversion": "0.3"}).encode(), "specversion"),
        (
            lambda e: json.dumps({k: v for k, v in e.items() if k != "id"}).encode(),
            "id: Field required",
        ),
        (
            lambda e: json.dumps({**e, "type": "records.student.vanished"}).encode(),
            "no contract for type 'records.student.vanished'",
        ),
        (
            lambda e: json.dumps(
                {**e, "dataschema": e["dataschema"].replace(":v1", ":v2")}
            ).encode(),
            "version 2",
        ),
        (
            lambda e: json.dumps({**e, "dataschema": "urn:x"}).encode(),
            "does not end in ':v<major>'",
        ),
        (lambda e: json.dumps({**e, "data": {**e["data"], "grade": 13}}).encode(), "grade"),
        (
            lambda e: json.dumps({**e, "data": {**e["data"], "nickname": "Bi"}}).encode(),
            "nickname: Extra inputs are not permitted",
        ),
    ],
)
def test_decode_rejects_with_a_reason(mutate, reason):
    envelope = json.loads(CloudEvent.wrap(enrolled(), source="/test").to_bytes())
    with pytest.raises(EventDecodeError, match=None) as caught:
        decode_event(mutate(envelope), CONTRACTS)
    assert reason in str(caught.value)
