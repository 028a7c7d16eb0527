"""Checking a live answer against the served OpenAPI document of its API: its status is one the operation
lists, its body and headers are as documented, and a request the API took (2xx) is one the document
allows. JSON Schema validation by jsonschema-rs (Schemathesis's validator, in requirements.lock)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema_rs
import orjson

API_PREFIXES = {
    "esim-v1": "/esim/v1",
    "tmf-productorder": "/emida-ux-lcr/emida-ux/v1",
    "tmf622": "/tmf-api/productOrderingManagement/v4",
    "onapi-order": "/2.5",
}


def api_of(path: str) -> str | None:
    for api, prefix in API_PREFIXES.items():
        if path.startswith(prefix + "/") or path == prefix:
            return api
    return None


def document_of(http: httpx.Client, api: str) -> dict[str, Any]:
    answer = http.get(f"{API_PREFIXES[api]}/openapi.json")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def schema_problems(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    """Why ``instance`` is not valid against ``schema`` of ``document`` (formats checked too); [] if it is."""
    rooted = {**schema, "components": document.get("components", {})}
    validator = jsonschema_rs.Draft202012Validator(rooted, validate_formats=True)
    return [f"{'/'.join(map(str, error.instance_path))}: {error.message}" for error in validator.iter_errors(instance)]


def operation_for(document: dict[str, Any], api: str, method: str, url: str) -> tuple[str, dict[str, Any]] | None:
    """The documented path and operation ``method url`` calls, if the document has one."""
    local = urlsplit(url).path.removeprefix(API_PREFIXES[api]) or "/"
    for template, operations in sorted(document["paths"].items(), key=lambda item: item[0].count("{")):
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, local) and method.lower() in operations:
            return template, operations[method.lower()]
    return None


def answer_problems(document: dict[str, Any], api: str, answer: httpx.Response) -> list[str]:
    """Where ``answer`` (and, when the API took it, its request) departs from ``api``'s document."""
    request = answer.request
    found = operation_for(document, api, request.method, str(request.url))
    if found is None:
        return [f"{request.method} {request.url.path} is not in the document"]
    template, operation = found
    where = f"{request.method} {template} -> {answer.status_code}"
    response = operation["responses"].get(str(answer.status_code))
    if response is None:
        return [f"{where}: status not documented ({', '.join(operation['responses'])})"]
    problems = []
    sent = request.content
    media_type = request.headers.get("content-type", "").split(";")[0]
    if answer.is_success and sent and "requestBody" in operation:
        content = operation["requestBody"]["content"]
        if media_type not in content:
            problems.append(f"{where}: request media type {media_type} not documented")
        else:
            schema = content[media_type]["schema"]
            problems += [f"{where}: request {p}" for p in schema_problems(document, schema, orjson.loads(sent))]
    return problems + response_problems(document, response, answer, where)


def response_problems(
    document: dict[str, Any], response: dict[str, Any], answer: httpx.Response, where: str
) -> list[str]:
    """Where ``answer`` departs from the documented ``response``: its media type, body and headers."""
    problems = []
    documented = response.get("content", {})
    received = answer.headers.get("content-type", "").split(";")[0]
    if documented and received not in documented:
        problems.append(f"{where}: answer media type {received} not documented ({', '.join(documented)})")
    elif received == "application/json":
        schema = documented[received]["schema"]
        problems += [f"{where}: answer {p}" for p in schema_problems(document, schema, answer.json())]
    for name, declared in response.get("headers", {}).items():
        if declared.get("required") and name not in answer.headers:
            problems.append(f"{where}: no {name} header")
        elif name in answer.headers:
            value = answer.headers[name]
            problems += [f"{where}: header {name} {p}" for p in schema_problems(document, declared["schema"], value)]
    return problems
