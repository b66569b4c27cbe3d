"""Seeding step of the identity service: the demo organisation tree, through the import API."""

from __future__ import annotations

from typing import Any

import httpx

from services.identity.demo.org_tree import demo_org_csv


def seed(context: Any) -> None:
    response = httpx.post(
        f"{context.urls['identity']}/orgs/import",
        content=demo_org_csv(),
        headers={
            **context.headers,
            "Content-Type": "text/csv",
            "Idempotency-Key": "demo-org-tree-2025",
        },
        timeout=120,
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"importing the demo tree failed: {response.status_code} {response.text}"
        )
    report = response.json()
    if response.headers.get("Idempotency-Replayed") == "true":
        context.progress("organisations: the demo tree was imported by an earlier run")
        return
    context.progress(
        f"organisations: {report['created']} created, {report['existing']} existing, "
        f"{report['rejected']} rejected"
    )
