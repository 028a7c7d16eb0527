"""An API's OpenAPI document as the API behaves. FastAPI derives a document from the routes' signatures,
but the routes read their bodies and shape their answers by hand (and the guards in front of them answer
too), so the derived one listed every error on every operation, bodies it never sends (FastAPI's
``HTTPValidationError``) and answers without a schema. Each dialect states what each operation takes and
answers (its ``openapi`` module); ``rewrite_document`` writes that into the generated document."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI

Json = dict[str, Any]
_SCHEMAS = "#/components/schemas/"


def ref(name: str) -> Json:
    return {"$ref": _SCHEMAS + name}


def header(description: str, *, required: bool = True, **schema: Any) -> Json:
    """A header of an answer; ``required``: every answer of its status carries it."""
    return {"description": description, "required": required, "schema": {"type": "string", **schema}}


def json_content(schema: Json, example: Any = None) -> Json:
    content: Json = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"application/json": content}


def link(path: str, method: str, **parameters: str) -> Json:
    """An OpenAPI link from an answer to the operation ``method`` on ``path``, each of its parameters a runtime
    expression (``$response.body#/id``, ``$request.path.business_id``): a client generated from the
    document, or a stateful fuzzer, follows a created resource to the operations that take its id."""
    pointer = f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}"
    # operationRef is a URI reference: the braces of a path template may not stand in its fragment as
    # they are (RFC 6901 section 6, RFC 3986); validators refused the whole document over them.
    return {"operationRef": "#" + quote(pointer, safe="/~"), "parameters": parameters}


def name_the_public_server(app: FastAPI, public_url: str, prefix: str) -> None:
    """The server ``app``'s document names: without ORDERHUB_PUBLIC_URL, FastAPI's own (the prefix the
    document was asked under, relative to the document's address); with it, the public address and the
    API's prefix. A relative server is wrong where that address has a path of its own
    (``https://gateway.example.com/orderhub``: hrefs and links have it, the server did not), and means
    nothing in a copy of the document a partner saved to feed a client generator."""
    if public_url:
        app.servers = [{"url": public_url.rstrip("/") + prefix}]
        app.root_path_in_servers = False


def offer_client_credentials(app: FastAPI, token_url: str) -> None:
    """Beside ``app``'s bearer scheme, OAuth2's client-credentials flow that issues its tokens: a partner
    in the /docs page signs in with its client id and secret (Swagger UI's Authorize fetches the token), and
    a generated client can fetch and refresh tokens itself. Either scheme is enough for an operation."""

    def rewrite(document: Json) -> None:
        schemes = document.get("components", {}).get("securitySchemes", {})
        if "bearer" not in schemes:
            return
        flow = {"tokenUrl": token_url, "refreshUrl": token_url, "scopes": {}}
        schemes["oauth2"] = {
            "type": "oauth2",
            "description": "Your client_id and client_secret, exchanged for a bearer token (RFC 6749 section 4.4)",
            "flows": {"clientCredentials": flow},
        }
        for _method, _path, operation in operations_of(document):
            if {"bearer": []} in operation.get("security", []):
                operation["security"] = [*operation["security"], {"oauth2": []}]

    rewrite_document(app, rewrite)


def idempotency_key(description: str, **schema: Any) -> Json:
    """The optional ``Idempotency-Key`` request header, as every API that takes one documents it."""
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


CORRELATION_ID = header("The request's X-Correlation-ID, or the one the server gave a request without one")
ALLOW = header("The methods the path takes")
RETRY_AFTER = header("Seconds to wait before trying again", pattern="^[0-9]+$")
IDEMPOTENT_REPLAYED = header(
    "The same request was made before (the same Idempotency-Key, or the API's own key): its order is answered",
    required=False,
    enum=["true"],
)


@dataclass(frozen=True)
class ErrorAnswers:
    """How one API answers errors: one body ``schema``, what each status means, the headers some carry."""

    schema: Json
    descriptions: Mapping[int, str]
    headers: Mapping[int, Mapping[str, Json]] = field(default_factory=dict)

    def responses(self, statuses: Iterable[int]) -> dict[str, Json]:
        return {
            str(status): {
                "description": self.descriptions.get(status, HTTPStatus(status).phrase),
                "content": json_content(self.schema),
                **({"headers": dict(self.headers[status])} if status in self.headers else {}),
            }
            for status in sorted(set(statuses))
        }


@dataclass(frozen=True)
class Operation:
    """What one operation takes and answers. ``answers``: its 2xx responses, in place of the derived ones
    (None keeps them); ``errors``: every error status it can answer; ``parameters`` and ``request_body``
    replace the derived ones when given; ``security``: who may call it (None keeps the derived)."""

    errors: tuple[int, ...]
    answers: Mapping[str, Json] | None = None
    parameters: list[Json] | None = None
    request_body: Json | None = None
    security: list[Json] | None = None
    # What the derived 2xx answer is, in place of the framework's "Successful Response".
    success: str | None = None


@dataclass(frozen=True)
class ApiDocument:
    """What one API's document says beyond the routes: its operations by ``(method, path)``, its error
    answers, the schemas the operations refer to, its security schemes and the ``security`` of every
    operation that states none (None: as derived)."""

    operations: Mapping[tuple[str, str], Operation]
    errors: ErrorAnswers
    schemas: Mapping[str, Json] = field(default_factory=dict)
    security_schemes: Mapping[str, Json] | None = None
    security: list[Json] | None = None
    # (name, description, path): an operation's tag is the first whose path its own is or lies under; the
    # docs page groups operations by it, a client generator puts each group in a module of its own.
    tags: Sequence[tuple[str, str, str]] = ()
    # Component schemas' examples, set into the document as written: the schema generator sorts an
    # example's keys, out of the order the API's own examples have them in.
    examples: Mapping[str, list[Json]] = field(default_factory=dict)

    def rewrite(self, document: Json) -> None:
        for method, path, operation in operations_of(document):
            stated = self.operations.get((method, path))
            if stated is None:  # a route nobody described keeps what FastAPI derived (tests list them)
                continue
            if stated.parameters is not None:
                operation["parameters"] = stated.parameters
            if not operation.get("parameters"):
                operation.pop("parameters", None)
            if stated.request_body is not None:
                operation["requestBody"] = stated.request_body
            security = stated.security if stated.security is not None else self.security
            if security is not None:
                operation["security"] = security
            if not operation.get("security"):
                operation.pop("security", None)
            answers = stated.answers if stated.answers is not None else _successes(operation["responses"], stated)
            operation["responses"] = {**answers, **self.errors.responses(stated.errors)}
        self._tag(document)
        components = document.setdefault("components", {})
        components.setdefault("schemas", {}).update(self.schemas)
        for name, examples in self.examples.items():
            components["schemas"][name]["examples"] = examples
        if self.security_schemes is not None:
            components["securitySchemes"] = dict(self.security_schemes)
        echo_correlation_id(document)
        keep_referenced_schemas(document)
        drop_generated_titles(document)

    def _tag(self, document: Json) -> None:
        if not self.tags:
            return
        document["tags"] = [{"name": name, "description": description} for name, description, _path in self.tags]
        for _method, path, operation in operations_of(document):
            tag = next((name for name, _description, under in self.tags if _lies_under(path, under)), None)
            if tag is not None:
                operation["tags"] = [tag]


def _lies_under(path: str, under: str) -> bool:
    return path == under or path.startswith(under.rstrip("/") + "/")


def _successes(responses: Mapping[str, Json], stated: Operation) -> dict[str, Json]:
    kept = {status: response for status, response in responses.items() if status.startswith("2")}
    if stated.success is not None:
        kept = {status: {**response, "description": stated.success} for status, response in kept.items()}
    return kept


def operations_of(document: Json) -> Iterator[tuple[str, str, Json]]:
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            yield method, path, operation


def echo_correlation_id(document: Json) -> None:
    """Every answer of every API carries the request's correlation id (web.middleware)."""
    for _method, _path, operation in operations_of(document):
        for response in operation.get("responses", {}).values():
            response["headers"] = {**response.get("headers", {}), "X-Correlation-ID": CORRELATION_ID}


# Values, not schemas: a "title" in them is data.
_DATA_KEYWORDS = frozenset({"example", "examples", "default", "enum", "const"})


def drop_generated_titles(document: Json) -> None:
    """The framework titles every property, parameter and answer after its name (``Coaccessid``, ``Order
    Id``, ``Response Listproducts``): words no partner knows the API by, which client generators may name
    types after. A component schema keeps its title, its name."""
    for _method, _path, operation in operations_of(document):
        _drop_titles(operation)
    for schema in document.get("components", {}).get("schemas", {}).values():
        _drop_titles({key: value for key, value in schema.items() if key != "title"})


def _drop_titles(node: Any, *, names: bool = False) -> None:
    """``names``: ``node`` maps property names to schemas (a property may be called "title")."""
    if isinstance(node, list):
        for item in node:
            _drop_titles(item)
    elif isinstance(node, dict):
        if not names and isinstance(node.get("title"), str):
            del node["title"]
        for key, value in node.items():
            if names or key not in _DATA_KEYWORDS:
                _drop_titles(value, names=not names and key in ("properties", "patternProperties"))


def keep_referenced_schemas(document: Json) -> None:
    """Only the component schemas the document refers to, directly or through another schema."""
    schemas = document.get("components", {}).get("schemas", {})
    kept: set[str] = set()
    pending = list(_references({key: value for key, value in document.items() if key != "components"}))
    while pending:
        name = pending.pop()
        if name not in kept and name in schemas:
            kept.add(name)
            pending.extend(_references(schemas[name]))
    for name in set(schemas) - kept:
        del schemas[name]


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith(_SCHEMAS):
            yield target[len(_SCHEMAS) :]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def rewrite_document(app: FastAPI, rewrite: Callable[[Json], None]) -> None:
    """The app's document, generated once and then ``rewrite``-n, is the one it serves."""
    generate = app.openapi

    def openapi() -> Json:
        if app.openapi_schema is None:
            document = generate()
            rewrite(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
