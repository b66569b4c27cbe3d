"""The inbox: which events a consumer has applied. Checked and written in the same transaction
as the consumer's effects, so an event is applied exactly once however often it is delivered."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from shared.db.pool import Connection


async def claim_new(
    conn: Connection, consumer: str, events: Sequence[tuple[uuid.UUID, str]]
) -> set[uuid.UUID]:
    """Record (event id, topic) pairs as applied by `consumer`; return the ids not seen before.

    Must run inside the transaction that applies the events: if it rolls back, the claim goes
    with it and the events will be applied on redelivery.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("inbox claims must share the transaction of the effects")
    # Claimed in one order, the ids' own: right after a rebalance the member that lost a
    # partition may still be applying the batch it fetched from it while the new owner applies
    # the same events. Each waits on the keys the other inserted first; in the batches' own
    # orders the two could each hold a part and wait for the other's (a deadlock PostgreSQL
    # breaks by failing one batch), in one order the second simply waits for the first.
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, event_id, topic) "
        "SELECT $1, e.id, e.topic FROM unnest($2::uuid[], $3::text[]) AS e(id, topic) "
        "ORDER BY e.id ON CONFLICT DO NOTHING RETURNING event_id",
        consumer,
        [event_id for event_id, _ in events],
        [topic for _, topic in events],
    )
    return {row["event_id"] for row in rows}


async def prune(conn: Connection, *, retention_days: int) -> int:
    """Forget applied ids older than the retention period (longer than any redelivery window)."""
    result = await conn.execute(
        "DELETE FROM inbox WHERE applied_at < now() - make_interval(days => $1)", retention_days
    )
    return int(result.split()[-1])
