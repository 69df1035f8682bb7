"""Requests built from nothing but the published OpenAPI document."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import httpx


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str  # with {placeholders}
    body: dict[str, Any]  # the requestBody object ({} for none)
    query: tuple[tuple[str, dict[str, Any]], ...] = ()  # required query parameters

    @property
    def writes(self) -> bool:
        return self.method != "get"

    @property
    def params(self) -> list[str]:
        return re.findall(r"{([^}]+)}", self.path)

    def url(self, values: dict[str, str]) -> str:
        return re.sub(r"{([^}]+)}", lambda m: values[m.group(1)], self.path)


def operations(document: dict[str, Any]) -> list[Operation]:
    return [
        Operation(
            method,
            path,
            spec.get("requestBody", {}),
            tuple(
                (p["name"], p.get("schema", {}))
                for p in spec.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            ),
        )
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    ]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _sample(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        return _sample(document, schema["anyOf"][0])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _sample(document, props[name]) for name in props}
    return {"string": "sample", "boolean": True, "integer": 1, "number": 1.0}.get(kind or "")


def send(
    client: httpx.Client, document: dict[str, Any], op: Operation, values: dict[str, str]
) -> httpx.Response:
    """One call with a plausible body: the schema's fields filled in, a small file for uploads."""
    content = op.body.get("content", {})
    kwargs: dict[str, Any] = {
        "params": {name: _sample(document, schema) for name, schema in op.query}
    }
    if "application/json" in content:
        kwargs["json"] = _sample(document, content["application/json"]["schema"])
    elif "multipart/form-data" in content:
        schema = _resolve(document, content["multipart/form-data"]["schema"])
        kwargs["files"] = {name: ("sample.txt", b"sample") for name in schema.get("properties", {})}
    return client.request(op.method.upper(), op.url(values), **kwargs)


def assert_other_user_gets_404(
    base: str, secret: str, document: dict[str, Any], values: dict[str, str]
) -> int:
    """Every operation whose path takes an id, with the other user's ids: 404, nothing said.

    Returns how many operations were tried."""
    taking_ids = [op for op in operations(document) if op.params]
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for op in taking_ids:
            got = send(client, document, op, values)
            assert got.status_code == 404, (op, got.status_code, got.text)
            assert got.headers["content-type"] == "application/problem+json"
    return len(taking_ids)


def assert_bad_tokens_refused(
    base: str,
    document: dict[str, Any],
    values: dict[str, str],
    *,
    refused: list[str | None],
    read_only: str,
) -> None:
    """Every operation: 401 for each refused secret (None: no header), and with a read-only
    token 403 for writes while reads succeed."""
    ops = operations(document)
    for op in ops:
        for secret in refused:
            headers = {"Authorization": f"Bearer {secret}"} if secret else {}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                got = send(client, document, op, values)
            assert got.status_code == 401, (op, secret, got.status_code)
            assert got.headers["www-authenticate"].startswith("Bearer")
            assert got.json()["status"] == 401
    headers = {"Authorization": f"Bearer {read_only}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for op in ops:
            got = send(client, document, op, values)
            if op.writes:
                assert got.status_code == 403, (op, got.status_code, got.text)
                assert "read-only" in got.json()["detail"]
            else:
                assert got.status_code == 200, (op, got.status_code, got.text)
