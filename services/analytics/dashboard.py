"""The Department's dashboard: a web page over analytics' own JSON APIs.

`GET /dashboard` is a static page (HTML, CSS and plain JS in `web/`, no third-party code). It
holds no data, so it is served without a token; everything it shows comes from the
authenticated APIs (`/stats/...`, `/forecast/teachers`) and the two small routes below, called
by the browser with `Authorization: Bearer <token>`.

Why a bearer token kept by the page, not a cookie: the APIs already take bearer tokens only,
so the page adds no second way in; a token that is never a cookie cannot be ridden by another
site (no CSRF surface); and it lives in `sessionStorage`, so it is gone when the tab closes.
The token reaches the page pasted by the user or in the URL fragment (`#token=...`, which
browsers never send to a server or write to its logs), as a sign-in portal or the OIDC
provider's redirect can hand it over. What would let a script steal it is an injected
script, so the page is served with a Content-Security-Policy that allows only its own script
files, and the JS writes data with `textContent`, never as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from shared import web as shared_web
from shared.auth import Principal, ensure_in_scope
from shared.db.pool import Connection
from shared.http.deps import PoolDep, PrincipalDep
from shared.http.problems import Problem
from shared.orgs.mirror import ancestors, get_unit

router = APIRouter(tags=["dashboard"])

WEB_PACKAGE = "services.analytics.web"
# The only files served: a fixed list, so no path from the URL ever reaches the file system.
STATIC_FILES: dict[str, str] = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    **shared_web.FILES,  # the sign-in all pages share (session.js), served as the page's own
}
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the fragment is never sent, but be sure of the path too
    "Cache-Control": "no-cache",
}


def _web_file(name: str) -> bytes:
    if name in shared_web.FILES:
        return shared_web.read(name)
    return resources.files(WEB_PACKAGE).joinpath(name).read_bytes()


# --------------------------------------------------------------------------- the page


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    summary="The Department's dashboard (web page; it asks for a token and calls the APIs)",
)
async def dashboard_page() -> HTMLResponse:
    return HTMLResponse(_web_file("dashboard.html"), headers=PAGE_HEADERS)


@router.get("/dashboard/static/{name}", include_in_schema=False)
async def dashboard_static(name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise Problem(404, "Not Found", f"no dashboard file {name}")
    return Response(_web_file(name), media_type=media_type, headers=PAGE_HEADERS)


# --------------------------------------------------------------------------- navigation data


class UnitRef(BaseModel):
    org_id: str
    kind: str
    name: str


class ChildUnit(UnitRef):
    enrolled: int = Field(description="Learners placed now at or below the unit, all years")


class DashboardUnit(UnitRef):
    path: list[UnitRef] = Field(
        description="From the top of the caller's scope down to this unit (the breadcrumb)"
    )
    children: list[ChildUnit] = Field(
        description="Units one level down that are current or still have learners"
    )


class CampaignSummary(BaseModel):
    campaign_id: str
    measured: int = Field(description="Learners with a counted measurement at or below the unit")
    swim_assessed: int = Field(description="Learners with a counted swim assessment")
    latest_on: date | None = Field(description="Date of the newest record at or below the unit")


class CampaignList(BaseModel):
    org_id: str
    campaigns: list[CampaignSummary] = Field(description="Newest first")


def scoped_path(chain: Sequence[str], scope_org: str | None) -> list[str]:
    """The breadcrumb of a unit, from the top of the caller's scope down to the unit.

    `chain` is the unit followed by its parents, nearest first. A caller acting for a unit in
    the chain sees the path from that unit down; a caller with no unit in the chain (a service)
    sees the whole chain. The caller never sees the names of units above its own.
    """
    top = chain.index(scope_org) if scope_org in chain else len(chain) - 1
    return list(reversed(chain[: top + 1]))


async def _scoped_unit(conn: Connection, principal: Principal, org_id: str) -> list[str]:
    """Checks the caller may see `org_id`; returns the unit and its parents, nearest first."""
    unit = await get_unit(conn, org_id)
    if unit is None:
        raise Problem(404, "Not Found", f"organisation {org_id} is not known to analytics")
    parents = await ancestors(conn, org_id) or []
    ensure_in_scope(principal, org_id, parents)
    return [org_id, *parents]


_SUBTREE = """WITH RECURSIVE subtree(org_id, branch, depth) AS (
        SELECT org_id, NULL::text, 0 FROM org_units WHERE org_id = $1
        UNION ALL
        SELECT o.org_id, coalesce(s.branch, o.org_id), s.depth + 1 FROM org_units o
        JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)"""


@router.get(
    "/dashboard/api/units/{org_id}",
    response_model=DashboardUnit,
    summary="A unit with its breadcrumb and its units one level down, with their learners",
)
async def dashboard_unit(org_id: str, pool: PoolDep, principal: PrincipalDep) -> DashboardUnit:
    async with pool.acquire() as conn:
        chain = await _scoped_unit(conn, principal, org_id)
        path_ids = scoped_path(chain, principal.org_id)
        named = {
            r["org_id"]: r
            for r in await conn.fetch(
                "SELECT org_id, kind, name FROM org_units WHERE org_id = ANY($1::text[])",
                path_ids,
            )
        }
        # Closed or merged units drop out unless learners are still counted under them, so
        # that the rows always add up to the unit's own total.
        children = await conn.fetch(
            f"""{_SUBTREE}
                SELECT u.org_id, u.kind, u.name, coalesce(sum(e.enrolled), 0)::bigint AS enrolled
                FROM org_units u
                LEFT JOIN subtree s ON s.branch = u.org_id
                LEFT JOIN school_enrolment e ON e.school_id = s.org_id
                WHERE u.parent_id = $1
                GROUP BY u.org_id, u.kind, u.name, u.valid_to
                HAVING u.valid_to IS NULL OR u.valid_to >= current_date
                       OR coalesce(sum(e.enrolled), 0) > 0
                ORDER BY u.name, u.org_id""",
            org_id,
        )
    unit = named[org_id]
    return DashboardUnit(
        org_id=org_id,
        kind=unit["kind"],
        name=unit["name"],
        path=[
            UnitRef(org_id=i, kind=named[i]["kind"], name=named[i]["name"])
            for i in path_ids
            if i in named
        ],
        children=[
            ChildUnit(org_id=r["org_id"], kind=r["kind"], name=r["name"], enrolled=r["enrolled"])
            for r in children
        ],
    )


@router.get(
    "/dashboard/api/campaigns/{org_id}",
    response_model=CampaignList,
    summary="Health and swimming campaigns with records at or below a unit, newest first",
)
async def dashboard_campaigns(org_id: str, pool: PoolDep, principal: PrincipalDep) -> CampaignList:
    async with pool.acquire() as conn:
        await _scoped_unit(conn, principal, org_id)
        rows = await conn.fetch(
            f"""{_SUBTREE},
                counts AS (
                    SELECT c.campaign_id, c.measured, 0::bigint AS assessed
                    FROM nutrition_cells c JOIN subtree s ON s.org_id = c.school_id
                    UNION ALL
                    SELECT c.campaign_id, 0::bigint, c.assessed
                    FROM swim_cells c JOIN subtree s ON s.org_id = c.school_id),
                dates AS (
                    SELECT m.campaign_id, max(m.measured_on) AS latest_on
                    FROM health_measurements m JOIN subtree s ON s.org_id = m.school_id
                    GROUP BY m.campaign_id
                    UNION ALL
                    SELECT a.campaign_id, max(a.assessed_on)
                    FROM swim_assessments a JOIN subtree s ON s.org_id = a.school_id
                    GROUP BY a.campaign_id)
                SELECT c.campaign_id, sum(c.measured)::bigint AS measured,
                       sum(c.assessed)::bigint AS swim_assessed,
                       (SELECT max(d.latest_on) FROM dates d
                        WHERE d.campaign_id = c.campaign_id) AS latest_on
                FROM counts c GROUP BY c.campaign_id
                HAVING sum(c.measured) + sum(c.assessed) > 0
                ORDER BY latest_on DESC NULLS LAST, c.campaign_id DESC""",
            org_id,
        )
    return CampaignList(
        org_id=org_id,
        campaigns=[
            CampaignSummary(
                campaign_id=r["campaign_id"],
                measured=r["measured"],
                swim_assessed=r["swim_assessed"],
                latest_on=r["latest_on"],
            )
            for r in rows
        ],
    )
