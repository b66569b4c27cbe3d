"""Who may do what with documents, along the organisation tree (shared.auth).

A unit (department, commune or school role) drafts, signs and issues in its own name and
handles its own inbox. Reading reaches further: the issuer, every recipient, and any unit
above the issuer or the recipient in the tree (the Department reads everything in scope).
Teachers read their school's inbox and work on what is assigned to them.
"""

from __future__ import annotations

import uuid

from shared.auth import AuthorisationError, Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.http.problems import Problem
from shared.orgs.mirror import ancestors

UNIT_ROLES = ("department", "commune", "school", "service")
READ_ROLES = (*UNIT_ROLES, "teacher", "auditor")


def ensure_acts_for(principal: Principal, org_id: str) -> None:
    """A unit acts (drafts, issues, registers) only in its own name."""
    require_role(principal, UNIT_ROLES)
    if principal.role != "service" and principal.org_id != org_id:
        raise AuthorisationError(
            f"{principal.role} {principal.org_id} cannot act in the name of {org_id}"
        )


async def ensure_reads_org(conn: Connection, principal: Principal, org_id: str) -> None:
    """The unit's own inbox and registers, or any unit below the caller."""
    require_role(principal, READ_ROLES)
    chain = await ancestors(conn, org_id)
    if chain is None:
        if principal.role == "service" or principal.org_id == org_id:
            return
        raise Problem(404, "Unknown organisation", f"organisation {org_id} is not known here")
    ensure_in_scope(principal, org_id, chain)


async def ensure_reads_document(
    conn: Connection, principal: Principal, document_id: uuid.UUID, issuer_id: str
) -> bool:
    """May read the document; True when the caller reads it as one of its recipients."""
    require_role(principal, READ_ROLES)
    if principal.role == "service" or principal.org_id == issuer_id:
        return False
    recipient = await conn.fetchval(
        "SELECT true FROM deliveries WHERE document_id = $1 AND recipient_id = $2",
        document_id,
        principal.org_id,
    )
    if recipient:
        return True
    chain = await ancestors(conn, issuer_id) or []
    if principal.org_id in chain:
        return False
    # A unit above one of the recipients (a commune reading what reached its schools).
    above_recipient = await conn.fetchval(
        """SELECT true FROM deliveries d JOIN org_units o ON o.org_id = d.recipient_id
           LEFT JOIN org_units p ON p.org_id = o.parent_id
           WHERE d.document_id = $1 AND (o.parent_id = $2 OR p.parent_id = $2) LIMIT 1""",
        document_id,
        principal.org_id,
    )
    if above_recipient:
        return False
    raise AuthorisationError(
        f"document {document_id} is neither from nor to {principal.role} {principal.org_id} "
        "nor a unit below it"
    )
