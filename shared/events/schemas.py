"""JSON Schemas of the contracts, committed under shared/events/schemas/, and the rule that a
new version of a contract must stay readable by consumers built against the committed one.

Backward compatible means a consumer built on the new schema still reads every event valid
under the committed one (events already in topics and in outboxes, which can be replayed):
no field removed (schemas are closed, so an old event carrying it would be rejected), no field
newly required, no type narrowed, no enum value removed, no tighter bound or changed pattern.
A new optional field is compatible in that sense; because schemas are closed, roll it out
consumers first, producers second (README, "Changing a contract"). Anything else needs a new
major version on its own topic (`<type>.v2`), published beside the old one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.events.envelope import EventData

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_file(contract: type[EventData]) -> Path:
    return SCHEMA_DIR / f"{contract.EVENT_TYPE}.v{contract.VERSION}.json"


def current_schema(contract: type[EventData]) -> dict[str, Any]:
    schema = contract.model_json_schema(mode="serialization")
    schema["$id"] = contract.dataschema()
    schema["x-event-type"] = contract.EVENT_TYPE
    schema["x-version"] = contract.VERSION
    return schema


def export_schemas(contracts: tuple[type[EventData], ...]) -> list[Path]:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for contract in contracts:
        path = schema_file(contract)
        path.write_text(json.dumps(current_schema(contract), indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written


def compatibility_problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every reason why `new` is not backward compatible with `old` (empty list: compatible)."""
    problems: list[str] = []
    _compare_object(old, new, old, new, "", problems)
    return problems


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return dict(root["$defs"][ref.removeprefix("#/$defs/")])
    return schema


def _types(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        out: set[str] = set()
        for option in schema["anyOf"]:
            out |= _types(option, root)
        return out
    if "enum" in schema:
        return {f"enum:{value}" for value in schema["enum"]}
    if "const" in schema:
        return {f"enum:{schema['const']}"}
    kind = schema.get("type", "any")
    fmt = schema.get("format")
    return {f"{kind}:{fmt}" if fmt else str(kind)}


def _compare_object(
    old: dict[str, Any],
    new: dict[str, Any],
    old_root: dict[str, Any],
    new_root: dict[str, Any],
    path: str,
    problems: list[str],
) -> None:
    old_props = old.get("properties", {})
    new_props = new.get("properties", {})
    old_required = set(old.get("required", []))
    new_required = set(new.get("required", []))
    for name in old_props:
        if name not in new_props:
            problems.append(f"{path}{name}: field removed")
    for name in new_required - old_required:
        problems.append(f"{path}{name}: field became required")
    for name, old_field in old_props.items():
        if name not in new_props:
            continue
        old_types = _types(old_field, old_root)
        new_types = _types(new_props[name], new_root)
        lost = old_types - new_types
        if lost:
            problems.append(f"{path}{name}: no longer accepts {sorted(lost)}")
        old_res, new_res = _resolve(old_field, old_root), _resolve(new_props[name], new_root)
        if new_res.get("pattern") not in (None, old_res.get("pattern")):
            problems.append(f"{path}{name}: pattern changed to {new_res['pattern']!r}")
        for key in ("maxLength", "maximum", "maxItems"):
            if key in new_res and (key not in old_res or new_res[key] < old_res[key]):
                problems.append(f"{path}{name}: {key} tightened to {new_res[key]!r}")
        for key in ("minLength", "minimum", "minItems"):
            if key in new_res and (key not in old_res or new_res[key] > old_res[key]):
                problems.append(f"{path}{name}: {key} tightened to {new_res[key]!r}")
        if old_res.get("type") == "object" and "properties" in old_res:
            _compare_object(old_res, new_res, old_root, new_root, f"{path}{name}.", problems)
