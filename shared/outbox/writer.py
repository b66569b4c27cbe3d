"""Writing events into the outbox, inside the caller's transaction.

A service never writes its state and then publishes as a second step: the event row commits
or rolls back with the state change. NOTIFY is delivered at commit, waking the relay.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.db.pool import Connection
from shared.events.envelope import CloudEvent, EventData

NOTIFY_CHANNEL = "eduhub_outbox"
# Kafka's default message limit is 1 MiB; an event that big would block the relay forever,
# so it is refused here, in the transaction that tried to write it.
MAX_EVENT_BYTES = 900_000


async def add_events(
    conn: Connection, events: Sequence[EventData], *, source: str
) -> list[CloudEvent]:
    if not conn.is_in_transaction():
        raise RuntimeError("outbox writes must happen inside the state change's transaction")
    envelopes = [CloudEvent.wrap(data, source=source) for data in events]
    for envelope in envelopes:
        size = len(envelope.to_bytes())
        if size > MAX_EVENT_BYTES:
            raise ValueError(
                f"event {envelope.type} for {envelope.subject} is {size} bytes; the limit is "
                f"{MAX_EVENT_BYTES}: carry a reference to the data, not the data"
            )
    await conn.executemany(
        "INSERT INTO outbox (event_id, topic, message_key, event_type, payload) "
        "VALUES ($1, $2, $3, $4, $5)",
        [(e.id, e.topic, e.subject, e.type, e.to_bytes()) for e in envelopes],
    )
    await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    return envelopes


async def add_event(conn: Connection, data: EventData, *, source: str) -> CloudEvent:
    (envelope,) = await add_events(conn, [data], source=source)
    return envelope
