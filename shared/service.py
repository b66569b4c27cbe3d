"""The composition root shared by every service: one process serving HTTP and its consumers.

`create_service_app` builds, from a ServiceDefinition, a FastAPI app whose lifespan opens the
database pool, applies migrations, creates topics, starts the outbox relay, starts the Kafka
subscriptions and the lag monitor, and closes all of it in reverse order. Nothing does IO at
import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import create_model

from shared.auth import TokenVerifier
from shared.consumer.runner import (
    ConsumedRecord,
    EventConsumer,
    TransientFailure,
    backoff_after_transient,
)
from shared.db.migrations import migrate
from shared.db.pool import create_pool
from shared.events.envelope import CloudEvent, EventData, dead_letter_topic
from shared.gc_tuning import tune_garbage_collector
from shared.http.problems import install_problem_handlers
from shared.kafka import EventProducer, ensure_topics
from shared.observability import metrics
from shared.observability.lag import monitor_lag
from shared.observability.logging import configure_logging, reset_request_id, set_request_id
from shared.outbox.relay import OutboxRelay
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class ServiceContext:
    """What handlers need at run time; built in the lifespan, reachable as app.state.context."""

    name: str
    settings: ServiceSettings
    verifier: TokenVerifier
    pool: asyncpg.Pool = field(init=False)
    producer: EventProducer = field(init=False)
    relay: OutboxRelay = field(init=False)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServiceDefinition:
    name: str
    title: str
    description: str
    migrations: Path
    publishes: Sequence[type[EventData]]
    build_consumers: Callable[[], list[EventConsumer]]
    routers: Sequence[APIRouter]
    on_started: Callable[[ServiceContext], Awaitable[None]] | None = None
    on_stopping: Callable[[ServiceContext], Awaitable[None]] | None = None
    version: str = "0.1.0"


def envelope_model(contract: type[EventData]) -> type[CloudEvent]:
    """A CloudEvent whose `data` is the contract: the payload shown in the AsyncAPI document."""
    return create_model(
        f"{contract.__name__}Event",
        __base__=CloudEvent,
        __doc__=contract.__doc__,
        data=(contract, ...),
    )


async def _tolerant_parser(records: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream decodes every header as UTF-8 before our handler runs; one foreign binary
    header would make the whole batch fail outside the handler, be logged, and be skipped
    without a rewind. Make headers decodable so every record reaches the DLQ logic."""
    batch = records if isinstance(records, tuple) else (records,)
    if not any(_needs_cleaning(record.headers) for record in batch):
        return await original(records)  # the usual case: nothing to copy
    cleaned = tuple(
        dataclasses.replace(
            record,
            headers=[
                (name, (value or b"").decode("utf-8", errors="replace").encode())
                for name, value in (record.headers or [])
            ],
        )
        for record in batch
    )
    return await original(cleaned if isinstance(records, tuple) else cleaned[0])


def _needs_cleaning(headers: Any) -> bool:
    """Has this record a header value FastStream could not decode (not UTF-8, or None)?"""
    for _, value in headers or ():
        if value is None:
            return True
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


async def _raw_body(message: Any) -> Any:
    """Never let FastStream parse bodies (a body that is not JSON must reach our DLQ logic)."""
    return message.body


# How long the broker may hold a fetch that finds nothing new, and how long a poll waits
# (FastStream also sleeps that long after an empty poll). Apache Kafka answers a held fetch as
# soon as data arrives, so short waits cost only a few empty fetches of idle topics; the
# embedded broker holds it for the full wait, which at the defaults (500 ms, 200 ms) made up
# most of the publish-to-aggregate delay.
FETCH_MAX_WAIT_MS = 50
POLL_TIMEOUT_MS = 50
# A quiet group (EventConsumer.quiet: rare events that need not show within a fraction of a
# second) waits ten times longer: each idle member at the short wait costs the embedded broker
# twenty fetches a second (an idle platform kept a fifth of a core busy in the broker), and
# the analytics catch-up paid 1-3 µs per event for its three quiet groups' polls. Not for a
# busy group: a fetch for its drained partitions, held that long, holds back the next fetch
# of its busy ones (one fetch in flight per broker).
QUIET_FETCH_MAX_WAIT_MS = 500
QUIET_POLL_TIMEOUT_MS = 200


def fetch_max_wait_ms(consumer: EventConsumer) -> int:
    return QUIET_FETCH_MAX_WAIT_MS if consumer.quiet else FETCH_MAX_WAIT_MS


def poll_timeout_ms(consumer: EventConsumer) -> int:
    return QUIET_POLL_TIMEOUT_MS if consumer.quiet else POLL_TIMEOUT_MS


def subscribe_consumer(
    broker: KafkaBroker, consumer: EventConsumer, *, max_records: int, members: int = 1
) -> None:
    """Subscribe MEMBERS Kafka consumers of the consumer's group; they split its partitions.
    The AsyncAPI document shows the group once."""
    for member in range(members):
        _subscribe_member(broker, consumer, max_records=max_records, documented=member == 0)


async def start_broker(broker: KafkaBroker) -> None:
    """What `KafkaBroker.start` does (connect, start the subscribers, then the publishers), with
    the subscribers started together instead of one after another. Starting one waits until
    its consumer group has given it partitions: about 5 s per group on the embedded broker, so
    analytics' six groups took half a minute to start, and with a second replica joining well
    over a minute, while neither its consumers nor its HTTP API (served once this returns)
    were up. Each subscriber has its own Kafka consumer; nothing is shared between starts."""
    await broker.connect()
    starts = [asyncio.ensure_future(subscriber.start()) for subscriber in broker.subscribers]
    try:
        await asyncio.gather(*starts)
    except BaseException:
        # One failed (the broker is unreachable, say): stop waiting for the others' groups
        # rather than leave them joining behind a service that is not starting.
        for start in starts:
            start.cancel()
        raise
    for publisher in broker.publishers:
        await publisher.start()
    broker.running = True


def _subscribe_member(
    broker: KafkaBroker, consumer: EventConsumer, *, max_records: int, documented: bool
) -> None:
    async def on_batch(message: KafkaMessage) -> None:
        started = time.monotonic()
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        try:
            await consumer.process(
                [ConsumedRecord(r.topic, r.partition, r.offset, r.key, r.value) for r in records]
            )
        except TransientFailure:
            log.warning("transient failure in %s; the batch will be redelivered", consumer.group_id)
            await backoff_after_transient(started)
            raise

    on_batch.__name__ = consumer.name.replace("-", "_")
    broker.subscriber(
        *consumer.topics,
        group_id=consumer.group_id,
        batch=True,
        max_records=max_records,
        # Offsets are committed after process() returns, i.e. after the database commit; on an
        # exception the batch's partitions are rewound and the records delivered again.
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_max_wait_ms(consumer),
        batch_timeout_ms=poll_timeout_ms(consumer),
        parser=_tolerant_parser,
        decoder=_raw_body,
        title=f"{consumer.group_id}:subscribe",
        description=consumer.description,
        include_in_schema=documented,
    )(on_batch)


def _document_publisher(broker: KafkaBroker, contract: type[EventData]) -> None:
    broker.publisher(
        contract.topic(),
        title=f"{contract.topic()}:publish",
        description=(contract.__doc__ or "").strip(),
        schema=envelope_model(contract),
    )


async def _prune_periodically(context: ServiceContext) -> None:
    """Hourly: drop published events, applied ids and idempotency answers past retention."""
    from shared.consumer.inbox import prune as prune_inbox
    from shared.http.idempotency import prune as prune_idempotency
    from shared.outbox.relay import prune_published

    settings = context.settings
    while True:
        try:
            async with context.pool.acquire() as conn:
                await prune_published(conn, retention_days=settings.outbox_retention_days)
                await prune_inbox(conn, retention_days=settings.inbox_retention_days)
                await prune_idempotency(conn, retention_days=settings.outbox_retention_days)
        except Exception:
            log.warning("pruning failed; will try again in an hour", exc_info=True)
        await asyncio.sleep(3600)


def create_service_app(
    definition: ServiceDefinition, settings: ServiceSettings | None = None
) -> FastAPI:
    settings = settings or ServiceSettings()  # type: ignore[call-arg]
    verifier = (
        TokenVerifier.from_file(
            settings.jwt_public_key_file, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        if settings.jwt_public_key_file
        else TokenVerifier(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            jwks_url=settings.jwt_jwks_url,
        )
    )
    context = ServiceContext(name=definition.name, settings=settings, verifier=verifier)
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"eduhub-{definition.name}",
        logger=logging.getLogger(f"faststream.{definition.name}"),
        log_level=logging.DEBUG,  # one line per batch is too much at INFO
        graceful_timeout=15.0,  # let the batch in hand finish before the subscription stops
    )
    consumers = definition.build_consumers()
    for consumer in consumers:
        subscribe_consumer(
            broker,
            consumer,
            max_records=settings.consumer_batch_size,
            members=settings.consumer_members,
        )
    for contract in definition.publishes:
        _document_publisher(broker, contract)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context.pool = await create_pool(settings.database_url, max_size=settings.db_pool_size)
        # A dedicated connection without the pool's command timeout: an index build may be long.
        migration_conn = await asyncpg.connect(settings.database_url)
        try:
            applied = await migrate(migration_conn, definition.name, definition.migrations)
        finally:
            await migration_conn.close()
        if applied:
            log.info("applied migrations", extra={"migrations": applied})
        topics = {c.topic() for c in definition.publishes}
        for consumer in consumers:
            topics |= set(consumer.topics)
        topics |= {dead_letter_topic(t) for c in consumers for t in c.topics}
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            topics,
            partitions=settings.kafka_topic_partitions,
            replication_factor=settings.kafka_replication_factor,
        )
        context.producer = EventProducer(
            settings.kafka_bootstrap_servers,
            idempotent=settings.kafka_idempotent_producer,
            client_id=f"eduhub-{definition.name}-producer",
        )
        await context.producer.start()
        context.relay = OutboxRelay(
            database_url=settings.database_url,
            producer=context.producer,
            service=definition.name,
            batch_size=settings.outbox_batch_size,
        )
        context.relay.start()
        for consumer in consumers:
            consumer.bind(context.pool, context.producer)
        await start_broker(broker)
        lag_task = asyncio.create_task(
            monitor_lag(settings.kafka_bootstrap_servers, definition.name, consumers)
        )
        prune_task = asyncio.create_task(_prune_periodically(context))
        if definition.on_started:
            await definition.on_started(context)
        log.info("service started", extra={"port": settings.http_port})
        try:
            yield
        finally:
            if definition.on_stopping:
                await definition.on_stopping(context)
            for task in (lag_task, prune_task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await broker.stop()
            await context.relay.stop()
            await context.producer.stop()
            await context.pool.close()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
    )
    app.state.context = context
    install_problem_handlers(app)
    _install_platform_routes(app, definition, broker, context)
    for router in definition.routers:
        app.include_router(router)
    return app


def _install_platform_routes(
    app: FastAPI, definition: ServiceDefinition, broker: KafkaBroker, context: ServiceContext
) -> None:
    service = definition.name

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]):
        token = set_request_id(request.headers.get("x-request-id"))
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        metrics.HTTP_REQUESTS.labels(service, request.method, template, response.status_code).inc()
        metrics.HTTP_LATENCY.labels(service, template).observe(time.perf_counter() - started)
        reset_request_id(token)
        return response

    @app.get("/healthz", tags=["platform"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", tags=["platform"], summary="Readiness: database and broker reachable")
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with context.pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1")
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"failing: {exc!r}"
        checks["broker"] = "ok" if broker.running else "not connected"
        checks["outbox_relay"] = "leader" if context.relay.is_leader else "standby"
        ready = checks["database"] == "ok" and checks["broker"] == "ok"
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["platform"], summary="Prometheus metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    def specification() -> Any:
        return AsyncAPI(
            broker,
            title=f"{definition.title} events",
            version=definition.version,
            description=(
                "Kafka topics this service publishes and consumes. Every message is a "
                "CloudEvents 1.0 envelope (JSON structured mode); the message key is the "
                "envelope's `subject`."
            ),
        ).to_specification()

    @app.get("/asyncapi.json", tags=["platform"], summary="AsyncAPI document of the events")
    async def asyncapi_json() -> Response:
        return Response(specification().to_json(), media_type="application/json")

    @app.get("/asyncapi", tags=["platform"], summary="AsyncAPI page", response_class=HTMLResponse)
    async def asyncapi_page() -> HTMLResponse:
        return HTMLResponse(get_asyncapi_html(specification()))


def run_service(app_factory: Callable[[], FastAPI]) -> None:
    """Entry point of `python -m services.<name>`: settings from the environment, then uvicorn."""
    import uvicorn

    settings = ServiceSettings()  # type: ignore[call-arg]
    app = app_factory()
    configure_logging(app.state.context.name, settings.log_level)
    tune_garbage_collector()  # a process of its own: start-up is done, the long run begins
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
