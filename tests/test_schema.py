"""The JSON Schemas for editors' tools are generated from schema.py and checked in."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from naltrexone_site.load import load_registry
from naltrexone_site.schema import schema_files

REPO = Path(__file__).parent.parent


def test_checked_in_schemas_are_current() -> None:
    registry = load_registry(REPO).registry
    assert registry is not None
    for name, text in schema_files(registry.taxonomy).items():
        on_disk = (REPO / "schema" / name).read_text(encoding="utf-8")
        assert on_disk == text, f"schema/{name} is stale: run 'python build.py schema'"


def _plain(value: object) -> object:
    """YAML dates as the strings an editor's tool sees."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


@pytest.mark.parametrize(
    "path", sorted((REPO / "claims").glob("*.yaml"))[:400], ids=lambda p: p.name
)
def test_registry_claims_satisfy_the_editor_schema(path: Path) -> None:
    schema = json.loads((REPO / "schema" / "claim.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(_plain(yaml.safe_load(path.read_text(encoding="utf-8"))), schema)


def test_editor_schema_rejects_what_check_rejects() -> None:
    schema = json.loads((REPO / "schema" / "claim.schema.json").read_text(encoding="utf-8"))
    bad = {
        "id": "x",
        "statement": "s",
        "kind": "mechanism",
        "mechanism": ["dopamin"],
        "dose": "low",
        "strength": "established",
        "evidence": [{"source": "a", "quote": "q", "stance": "supports"}],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad["mechanism"] = ["dopamine"]
    jsonschema.validate(bad, schema)
    with pytest.raises(jsonschema.ValidationError):  # longer than a page's address takes
        jsonschema.validate({**bad, "id": "x" * 101}, schema)
