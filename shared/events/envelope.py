"""CloudEvents 1.0 envelope in JSON structured mode, and the base class of every contract.

One envelope per Kafka message. `id` is the deduplication key for consumers; `subject` names
the entity the event is about and is also the Kafka message key, so one entity's events keep
their order within a topic.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

SCHEMA_URN_PREFIX = "urn:eduhub:schema:"


class EventData(BaseModel):
    """Base of every event contract (the CloudEvents `data`).

    Subclasses set EVENT_TYPE (past tense, namespaced by the producing service) and VERSION (the
    major version). Schemas are closed: an unknown field is a contract violation, not noise.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    EVENT_TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def subject(self) -> str:
        """The entity this event is about; becomes the Kafka key."""
        raise NotImplementedError

    @classmethod
    def topic(cls) -> str:
        return topic_name(cls.EVENT_TYPE, cls.VERSION)

    @classmethod
    def dataschema(cls) -> str:
        return f"{SCHEMA_URN_PREFIX}{cls.EVENT_TYPE}:v{cls.VERSION}"


def topic_name(event_type: str, version: int) -> str:
    """Version 1 lives on the plain topic; a breaking change gets `<type>.v2` beside it."""
    return event_type if version == 1 else f"{event_type}.v{version}"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope. Extension attributes are not used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # No defaults for the identity of an event: a message without them is not an event.
    specversion: Literal["1.0"]
    id: uuid.UUID
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: datetime
    subject: str = Field(min_length=1)
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        data: EventData,
        *,
        source: str,
        event_id: uuid.UUID | None = None,
        time: datetime | None = None,
    ) -> Self:
        return cls(
            specversion="1.0",
            id=event_id or uuid.uuid4(),
            source=source,
            type=data.EVENT_TYPE,
            time=time or datetime.now(UTC),
            subject=data.subject(),
            dataschema=data.dataschema(),
            data=data.model_dump(mode="json"),
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @property
    def topic(self) -> str:
        return topic_name(self.type, schema_version(self.dataschema))


class EventDecodeError(ValueError):
    """The message is not a valid event of a known contract; it belongs on the dead-letter topic."""


def schema_version(dataschema: str) -> int:
    try:
        return int(dataschema.rsplit(":v", 1)[1])
    except (IndexError, ValueError):
        raise EventDecodeError(f"dataschema {dataschema!r} does not end in ':v<major>'") from None


class EventDecoder:
    """Decodes messages into events of the contracts one consumer understands.

    The usual, valid event takes the fast path: one pydantic validation of the JSON, which
    picks the contract by the envelope's `dataschema` and validates `data` with it, instead
    of validating the envelope, then its data dict (that second pass, and the dicts between,
    were half the decoding time on a busy consumer). Whatever it does not accept is decoded
    again step by step, which names the fault that the dead-letter headers carry."""

    def __init__(self, contracts: Iterable[type[EventData]]) -> None:
        self.contracts = {(c.EVENT_TYPE, c.VERSION): c for c in contracts}
        typed = [_typed_envelope(c) for c in self.contracts.values()]
        self._typed: TypeAdapter[Any] | None = None
        if len(typed) == 1:
            self._typed = TypeAdapter(typed[0])
        elif typed:
            union: Any = Annotated[Union[tuple(typed)], Field(discriminator="dataschema")]  # noqa: UP007
            self._typed = TypeAdapter(union)

    def decode(self, raw: bytes | None) -> tuple[CloudEvent, EventData]:
        if raw is not None and self._typed is not None:
            try:
                envelope = self._typed.validate_json(raw)
                return envelope, envelope.data
            except Exception:  # the step-by-step decoding below names the fault
                pass
        return decode_step_by_step(raw, self.contracts)


def _typed_envelope(contract: type[EventData]) -> type[CloudEvent]:
    """The envelope of one contract: its type and schema fixed, its data the contract."""
    fixed: dict[str, Any] = {
        "type": (Literal[contract.EVENT_TYPE], ...),
        "dataschema": (Literal[contract.dataschema()], ...),
        "data": (contract, ...),
    }
    return create_model(f"{contract.__name__}Envelope", __base__=CloudEvent, **fixed)


@functools.lru_cache(maxsize=64)
def _decoder(contracts: tuple[type[EventData], ...]) -> EventDecoder:
    return EventDecoder(contracts)


def decode_event(
    raw: bytes | None, contracts: dict[tuple[str, int], type[EventData]]
) -> tuple[CloudEvent, EventData]:
    """Parse and validate one message against the contracts this consumer understands (see
    EventDecoder; a consumer keeps its own decoder, this is for everyone else)."""
    return _decoder(tuple(contracts.values())).decode(raw)


def decode_step_by_step(
    raw: bytes | None, contracts: dict[tuple[str, int], type[EventData]]
) -> tuple[CloudEvent, EventData]:
    """`decode_event` without the fast path: each step raises EventDecodeError naming what
    is wrong with the message."""
    if raw is None:
        raise EventDecodeError("empty message (a tombstone) is not an event")
    try:
        envelope = CloudEvent.model_validate(json.loads(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventDecodeError(f"not JSON: {exc}") from None
    except ValidationError as exc:
        raise EventDecodeError(f"not a CloudEvents 1.0 envelope: {_errors(exc)}") from None
    except Exception as exc:  # anything else a hostile payload provokes is poison too
        raise EventDecodeError(f"unreadable message: {exc!r}") from None
    key = (envelope.type, schema_version(envelope.dataschema))
    contract = contracts.get(key)
    if contract is None:
        raise EventDecodeError(f"no contract for type {key[0]!r} version {key[1]}")
    try:
        data = contract.model_validate(envelope.data)
    except ValidationError as exc:
        raise EventDecodeError(
            f"data does not match {contract.dataschema()}: {_errors(exc)}"
        ) from None
    return envelope, data


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
    )
