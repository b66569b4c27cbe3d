"""What records needs to know about a learner from identity: sex and birth date (the health
checks' plausibility rules and WHO's indicators depend on them). Identity is the authority, so
its registrations and corrections overwrite what an enrolment form said."""

from __future__ import annotations

from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonRegistered, PersonUpdated


async def _apply(conn: Connection, events: list[IncomingEvent]) -> None:
    newest: dict[str, PersonRegistered | PersonUpdated] = {}
    for event in events:
        data = event.data
        if not isinstance(data, PersonRegistered | PersonUpdated):
            continue
        if isinstance(data, PersonRegistered) and data.kind != "learner":
            continue
        if data.sector_id.startswith(("GV-", "NV-")):
            continue  # teachers and staff are not learners
        held = newest.get(data.sector_id)
        if held is None or held.revision < data.revision:
            newest[data.sector_id] = data
    if not newest:
        return
    facts = list(newest.values())
    await conn.execute(
        """INSERT INTO learners (learner_id, revision, sex, birth_date, state)
           SELECT id, 0, sex, born, 'registered'
           FROM unnest($1::text[], $2::text[], $3::date[]) AS f(id, sex, born)
           ON CONFLICT (learner_id) DO UPDATE
           SET sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date""",
        [f.sector_id for f in facts],
        [f.sex for f in facts],
        [f.birth_date for f in facts],
    )


def person_facts_consumer() -> EventConsumer:
    return EventConsumer(
        service="records",
        name="person-facts",
        contracts=[PersonRegistered, PersonUpdated],
        handler=_apply,
        description="Keeps learners' sex and birth date as identity records them.",
    )
