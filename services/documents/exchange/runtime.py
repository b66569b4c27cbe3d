"""Starting and stopping the exchange with the service: its migrations, its configuration in
the service context, and the background poller (received packages in, status reports and
queued packages out)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from services.documents.exchange import store
from services.documents.exchange.handlers import Exchange, poll_once
from services.documents.exchange.settings import ExchangeSettings
from shared.service import ServiceContext

log = logging.getLogger(__name__)
CONTEXT_KEY = "edxml"
POLLER_KEY = "edxml_poller"


async def start_exchange(context: ServiceContext, settings: ExchangeSettings | None = None) -> None:
    """Call from the service's on_started (after the core's migrations have run)."""
    settings = settings or ExchangeSettings()
    async with context.pool.acquire() as conn:
        applied = await store.migrate_exchange(conn)
    if applied:
        log.info("applied migrations", extra={"migrations": applied})
    exchange = Exchange(settings, settings.build_adapter())
    context.extras[CONTEXT_KEY] = exchange
    if exchange.adapter is not None and settings.agency_org_id is not None:
        context.extras[POLLER_KEY] = asyncio.create_task(poll_forever(context.pool, exchange))
        log.info("edXML poller started", extra={"adapter": settings.adapter,
                                                 "agency": settings.agency_code})  # fmt: skip


async def stop_exchange(context: ServiceContext) -> None:
    """Call from the service's on_stopping."""
    task = context.extras.pop(POLLER_KEY, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def poll_forever(pool: asyncpg.Pool, exchange: Exchange) -> None:
    while True:
        try:
            result = await poll_once(pool, exchange)
            if result["received"] or result["sent"]:
                log.info("edXML poll", extra={"received": len(result["received"]),
                                              "sent": result["sent"]})  # fmt: skip
        except asyncio.CancelledError:
            raise
        except NotImplementedError as missing:
            log.error("edXML poller: %s", missing)
        except Exception:
            log.exception("edXML poll failed; trying again in %s s", exchange.settings.poll_seconds)
        await asyncio.sleep(exchange.settings.poll_seconds)
