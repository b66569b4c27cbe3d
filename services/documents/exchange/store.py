"""SQL of the edXML exchange: its own tables (migrations/), one function per query.

The core's tables are only read here: a received document is recorded (and its signatures
checked) by the core's incoming.create_external.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from services.documents.exchange.mapping import IncomingRegistration, Party
from shared.db.migrations import apply_migrations, load_migrations
from shared.db.pool import Connection

MIGRATIONS = Path(__file__).parent / "migrations"
COMPONENT = "documents-exchange"


async def migrate_exchange(conn: Connection) -> list[str]:
    """Apply the exchange's migrations (after the core's: its own component and numbering)."""
    return await apply_migrations(conn, load_migrations(COMPONENT, MIGRATIONS))


# --- agencies ----------------------------------------------------------------------------------


async def upsert_agency(conn: Connection, party: Party) -> None:
    await conn.execute(
        """INSERT INTO edxml_agencies (agency_code, name, organization_in_charge)
           VALUES ($1, $2, $3)
           ON CONFLICT (agency_code) DO UPDATE SET name = EXCLUDED.name,
               organization_in_charge = COALESCE(EXCLUDED.organization_in_charge,
                                                 edxml_agencies.organization_in_charge),
               updated_at = now()
           WHERE (edxml_agencies.name, edxml_agencies.organization_in_charge)
                 IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.organization_in_charge)""",
        party.agency_code,
        party.name,
        party.organization_in_charge,
    )


async def agencies(conn: Connection, codes: list[str]) -> dict[str, Party]:
    rows = await conn.fetch(
        "SELECT agency_code, name, organization_in_charge FROM edxml_agencies "
        "WHERE agency_code = ANY($1::text[])",
        codes,
    )
    return {
        r["agency_code"]: Party(r["agency_code"], r["name"], r["organization_in_charge"])
        for r in rows
    }


async def list_agencies(conn: Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT agency_code, name, organization_in_charge FROM edxml_agencies ORDER BY agency_code"
    )
    return [dict(r) for r in rows]


# --- received packages ---------------------------------------------------------------------------


async def claim_received(
    conn: Connection,
    registration: IncomingRegistration,
    *,
    recipient_id: str,
    document_id: uuid.UUID,
    sha256: str,
    source: str,
) -> uuid.UUID | None:
    """Take the package's dedupe key for this recipient: None if it is new (the caller then
    registers it in this transaction), else the document it was registered as before. A
    concurrent import of the same package waits here until the first one commits."""
    inserted = await conn.fetchval(
        """INSERT INTO edxml_received (edxml_document_id, recipient_id, document_id,
               sender_agency, number_notation, promulgated_on, business_type, package_sha256,
               source)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (edxml_document_id, recipient_id) DO NOTHING
           RETURNING document_id""",
        registration.edxml_document_id,
        recipient_id,
        document_id,
        registration.sender.agency_code,
        registration.number_notation,
        registration.promulgated_on,
        int(registration.business),
        sha256,
        source,
    )
    if inserted is not None:
        return None
    existing: uuid.UUID = await conn.fetchval(
        "SELECT document_id FROM edxml_received WHERE edxml_document_id = $1 AND recipient_id = $2",
        registration.edxml_document_id,
        recipient_id,
    )
    return existing


async def received_by_document(conn: Connection, document_id: uuid.UUID, recipient_id: str) -> Any:
    return await conn.fetchrow(
        "SELECT * FROM edxml_received WHERE document_id = $1 AND recipient_id = $2",
        document_id,
        recipient_id,
    )


async def record_rejection(
    conn: Connection,
    *,
    source: str,
    handle: str | None,
    code: str,
    field: str,
    reason: str,
    sha256: str,
) -> int:
    rejection_id: int = await conn.fetchval(
        """INSERT INTO edxml_rejections (source, handle, code, field, reason, sha256)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        source,
        handle,
        code,
        field,
        reason,
        sha256,
    )
    return rejection_id


# --- sent documents and what their recipients report ---------------------------------------------


async def record_sent(
    conn: Connection, document_id: uuid.UUID, agency: Party, edxml_document_id: str
) -> None:
    """A document went (again) to an agency; a resend keeps the status reported so far."""
    await conn.execute(
        """INSERT INTO edxml_sent (document_id, agency_code, agency_name, edxml_document_id)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (document_id, agency_code) DO UPDATE SET sent_at = now(),
               agency_name = EXCLUDED.agency_name, updated_at = now()""",
        document_id,
        agency.agency_code,
        agency.name,
        edxml_document_id,
    )


async def sent_for_update(conn: Connection, edxml_document_id: str, agency_code: str) -> Any:
    return await conn.fetchrow(
        "SELECT * FROM edxml_sent WHERE edxml_document_id = $1 AND agency_code = $2 FOR UPDATE",
        edxml_document_id,
        agency_code,
    )


async def set_sent_status(
    conn: Connection,
    *,
    document_id: uuid.UUID,
    agency_code: str,
    status: str,
    status_before_recall: str | None,
    at: datetime,
    description: str | None,
) -> None:
    await conn.execute(
        """UPDATE edxml_sent SET status = $3, status_before_recall = $4, status_at = $5,
               description = $6, updated_at = now()
           WHERE document_id = $1 AND agency_code = $2""",
        document_id,
        agency_code,
        status,
        status_before_recall,
        at,
        description,
    )


async def log_status(
    conn: Connection,
    *,
    document_id: uuid.UUID,
    agency_code: str,
    status: str,
    previous_status: str | None,
    outcome: str,
    reported_at: datetime,
    description: str | None,
) -> None:
    await conn.execute(
        """INSERT INTO edxml_status_log (document_id, agency_code, status, previous_status,
               outcome, reported_at, description)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        document_id,
        agency_code,
        status,
        previous_status,
        outcome,
        reported_at,
        description,
    )


async def sent_recipients(conn: Connection, document_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM edxml_sent WHERE document_id = $1 ORDER BY agency_code", document_id
    )
    history = await conn.fetch(
        "SELECT agency_code, status, previous_status, outcome, reported_at, description, "
        "received_at FROM edxml_status_log WHERE document_id = $1 ORDER BY id",
        document_id,
    )
    result = []
    for row in rows:
        result.append(
            {
                "agency_code": row["agency_code"],
                "agency_name": row["agency_name"],
                "edxml_document_id": row["edxml_document_id"],
                "sent_at": row["sent_at"].isoformat(),
                "status": row["status"],
                "status_at": row["status_at"].isoformat() if row["status_at"] else None,
                "description": row["description"],
                "history": [
                    {
                        "status": h["status"],
                        "previous_status": h["previous_status"],
                        "outcome": h["outcome"],
                        "reported_at": h["reported_at"].isoformat(),
                        "description": h["description"],
                    }
                    for h in history
                    if h["agency_code"] == row["agency_code"]
                ],
            }
        )
    return result


# --- the exchange's outbox ---------------------------------------------------------------------


async def enqueue(
    conn: Connection, *, to_agency: str, kind: str, label: str, payload: bytes
) -> int:
    outbound_id: int = await conn.fetchval(
        """INSERT INTO edxml_outbound (to_agency, kind, label, payload) VALUES ($1, $2, $3, $4)
           RETURNING id""",
        to_agency,
        kind,
        label,
        payload,
    )
    return outbound_id


async def next_outbound(conn: Connection) -> Any:
    """The oldest unsent package, locked; another sender skips it."""
    return await conn.fetchrow(
        "SELECT id, to_agency, kind, label, payload FROM edxml_outbound WHERE sent_at IS NULL "
        "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    )


async def mark_sent(conn: Connection, outbound_id: int, handle: str) -> None:
    await conn.execute(
        "UPDATE edxml_outbound SET sent_at = now(), handle = $2, attempts = attempts + 1 "
        "WHERE id = $1",
        outbound_id,
        handle,
    )


async def mark_failed(conn: Connection, outbound_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE edxml_outbound SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
        outbound_id,
        error[:2000],
    )


async def count_unsent(conn: Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM edxml_outbound WHERE sent_at IS NULL")
    return count


# --- processing steps of received documents, to report to their senders ---------------------------


async def unreported_steps(conn: Connection, limit: int) -> list[Any]:
    """Steps of received documents (the core's delivery_history) not yet queued as status
    messages, oldest first, locked so two pollers do not both report one."""
    return list(
        await conn.fetch(
            """SELECT h.id, h.document_id, h.recipient_id, h.status, h.at, h.note,
                      r.sender_agency, r.edxml_document_id, r.number_notation, r.promulgated_on
               FROM edxml_received r
               JOIN delivery_history h
                 ON h.document_id = r.document_id AND h.recipient_id = r.recipient_id
               WHERE NOT EXISTS (SELECT 1 FROM edxml_status_sent s WHERE s.history_id = h.id)
               ORDER BY h.id
               LIMIT $1
               FOR UPDATE OF h SKIP LOCKED""",
            limit,
        )
    )


async def mark_step_reported(conn: Connection, history_id: int, outbound_id: int) -> None:
    await conn.execute(
        "INSERT INTO edxml_status_sent (history_id, outbound_id) VALUES ($1, $2) "
        "ON CONFLICT (history_id) DO NOTHING",
        history_id,
        outbound_id,
    )


# --- recall and successors of received documents --------------------------------------------------


async def received_for_update(conn: Connection, edxml_document_id: str, recipient_id: str) -> Any:
    return await conn.fetchrow(
        "SELECT * FROM edxml_received WHERE edxml_document_id = $1 AND recipient_id = $2 "
        "FOR UPDATE",
        edxml_document_id,
        recipient_id,
    )


async def received_by_notation(
    conn: Connection, sender_agency: str, number_notation: str, recipient_id: str
) -> Any:
    """The latest package of this sender with this number/notation (a notation repeats
    across years, so the newest wins when only the notation is known)."""
    return await conn.fetchrow(
        "SELECT * FROM edxml_received WHERE sender_agency = $1 AND number_notation = $2 "
        "AND recipient_id = $3 ORDER BY promulgated_on DESC LIMIT 1",
        sender_agency,
        number_notation,
        recipient_id,
    )


async def pending_recalls(conn: Connection, limit: int) -> list[Any]:
    """Agencies of our recalled documents not yet told of the latest recall request, locked."""
    return list(
        await conn.fetch(
            """SELECT s.*, d.recall_requested_at, d.notation, d.issued_on
               FROM edxml_sent s JOIN documents d ON d.id = s.document_id
               WHERE d.recall_requested_at IS NOT NULL
                 AND (s.recall_sent_at IS NULL OR s.recall_sent_at < d.recall_requested_at)
               ORDER BY d.recall_requested_at, s.agency_code
               LIMIT $1
               FOR UPDATE OF s SKIP LOCKED""",
            limit,
        )
    )


async def mark_recall_sent(
    conn: Connection, document_id: uuid.UUID, agency_code: str, requested_at: datetime
) -> None:
    await conn.execute(
        "UPDATE edxml_sent SET recall_sent_at = $3, updated_at = now() "
        "WHERE document_id = $1 AND agency_code = $2",
        document_id,
        agency_code,
        requested_at,
    )
