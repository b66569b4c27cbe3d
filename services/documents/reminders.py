"""Automatic reminders of overdue documents.

Every recipient past its handling deadline and not done (not refused, not recalled) is
reminded once per `auto_remind_hours`, one `documents.document.reminded` event per document,
exactly as when the sender presses "remind". The update claims the rows it reminds, so two
replicas running the check at once remind each item once: the second one waits for the first
one's row locks and then finds them reminded recently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime, timedelta

from services.documents.config import documents_settings
from services.documents.incoming import OVERDUE_CONDITION, SOURCE
from shared.db.pool import Connection
from shared.events.contracts.documents import DocumentReminded
from shared.outbox.writer import add_events
from shared.service import ServiceContext
from shared.vietnam_time import now_in_vietnam

log = logging.getLogger(__name__)


async def remind_all_overdue(conn: Connection, *, now: datetime, every: timedelta) -> int:
    """Remind every overdue recipient not reminded within `every`; the number reminded."""
    # OVERDUE_CONDITION reads today as $2.
    rows = await conn.fetch(
        f"""UPDATE deliveries d SET reminded_at = $1, reminder_count = d.reminder_count + 1
            FROM documents doc WHERE doc.id = d.document_id AND {OVERDUE_CONDITION}
              AND (d.reminded_at IS NULL OR d.reminded_at <= $1::timestamptz - $3::interval)
            RETURNING d.document_id, doc.issuer_id, d.recipient_id""",
        now,
        now.date(),
        every,
    )
    by_document: dict[tuple[uuid.UUID, str], list[str]] = {}
    for r in rows:
        by_document.setdefault((r["document_id"], r["issuer_id"]), []).append(r["recipient_id"])
    await add_events(
        conn,
        [
            DocumentReminded(
                document_id=document_id,
                issuer_id=issuer_id,
                recipient_ids=sorted(recipients),
                reminded_at=now,
            )
            for (document_id, issuer_id), recipients in sorted(
                by_document.items(), key=lambda item: str(item[0][0])
            )
        ],
        source=SOURCE,
    )
    return len(rows)


async def _remind_periodically(context: ServiceContext) -> None:
    settings = documents_settings()
    every = timedelta(hours=settings.auto_remind_hours)
    while True:
        try:
            async with context.pool.acquire() as conn, conn.transaction():
                reminded = await remind_all_overdue(conn, now=now_in_vietnam(), every=every)
            if reminded:
                log.info("reminded overdue recipients", extra={"reminded": reminded})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("automatic reminders failed; trying again later", exc_info=True)
        await asyncio.sleep(settings.reminder_check_minutes * 60)


def start_reminders(context: ServiceContext) -> asyncio.Task[None] | None:
    if documents_settings().auto_remind_hours == 0:
        return None
    return asyncio.create_task(_remind_periodically(context), name="documents-reminders")


async def stop_reminders(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
