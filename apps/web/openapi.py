"""The OpenAPI document names the errors every operation can answer, not only its success.

A drf-spectacular postprocessing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``):
each operation that does not document its own client errors gets the ones DRF answers,
with their bodies:

- 400 ``ValidationError`` (``{field: [messages]}`` or ``{"detail": …}``) when it takes
  query parameters or a body;
- 401 (no, an invalid, expired or revoked token) and 403 (the role may not do this) when it
  accepts credentials;
- 404 (``{"detail": …}``) when it names an object in its path, or pages with a ``cursor``
  (an unknown cursor is "Invalid cursor", 404, as DRF's cursor pagination answers).

An operation keeps the answers it documents itself; the PACT exchange (``/pact/``) answers
errors in the format of its specification and documents them itself.

A second hook, :func:`drop_invalid_defaults`, removes defaults that their own schema
refuses, so the document passes ``openapi-spec-validator``.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft4Validator

ERROR_DETAIL = "ErrorDetail"
VALIDATION_ERROR = "ValidationErrorBody"

SCHEMAS = {
    ERROR_DETAIL: {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    VALIDATION_ERROR: {
        "type": "object",
        "description": "DRF validation errors: {field: [messages]}, or {detail: message}.",
        "additionalProperties": {},
    },
}

METHODS = ("get", "put", "patch", "post", "delete")


def _response(description: str, component: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def _accepts_credentials(operation: dict, document: dict) -> bool:
    security = operation.get("security", document.get("security", []))
    return any(requirement for requirement in security)


def document_error_responses(result: dict, generator, request, public) -> dict:
    """Add the error responses described in the module docstring to ``result``."""
    used = False
    for path, path_item in result.get("paths", {}).items():
        if path.startswith("/pact/"):
            continue
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            locations = {p.get("in") for p in parameters}
            names = {p.get("name") for p in parameters}
            errors: dict[str, dict] = {}
            if "query" in locations or "requestBody" in operation:
                errors["400"] = _response("Invalid parameters or body", VALIDATION_ERROR)
            if _accepts_credentials(operation, result):
                errors["401"] = _response(
                    "Missing, invalid, expired or revoked token", ERROR_DETAIL
                )
                errors["403"] = _response("Not allowed for this role", ERROR_DETAIL)
            if "path" in locations or "cursor" in names:
                errors["404"] = _response(
                    "No such object (or not yours), or invalid cursor", ERROR_DETAIL
                )
            for code, response in errors.items():
                responses.setdefault(code, response)
            used = used or bool(errors)
    if used:
        result.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    return result


def _walk_schemas(node: Any):
    """Every schema object below ``node`` that is a dict (parameters' schemas, component
    schemas and their properties, items, request and response bodies)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_schemas(value)


def drop_invalid_defaults(result: dict, generator, request, public) -> dict:
    """Remove a ``default`` that its own schema rejects.

    OpenAPI 3.0.3 §4.7.24 (Schema Object): ``default`` "MUST conform to the defined type
    for the Schema Object defined at the same level". A serializer field such as
    ``RegexField(r"^[A-Za-z]{2}$", required=False, default="")`` uses ``""`` inside the
    server to mean "not given", and drf-spectacular publishes it as a default that breaks
    the field's own ``pattern`` (and ``minLength``), which the schema validators refuse. For
    a client the parameter is simply optional, so the default is dropped from the document;
    the server's behaviour is unchanged.
    """
    for schema in _walk_schemas(result.get("paths", {})):
        _drop_default_if_invalid(schema)
    for schema in _walk_schemas(result.get("components", {}).get("schemas", {})):
        _drop_default_if_invalid(schema)
    return result


def _drop_default_if_invalid(schema: dict) -> None:
    if "default" not in schema or not isinstance(schema.get("type"), str):
        return
    own = {k: v for k, v in schema.items() if k in _CHECKED_KEYWORDS}
    if not Draft4Validator(own).is_valid(schema["default"]):
        del schema["default"]


#: The keywords of a plain schema that constrain a value by themselves (no $ref to follow).
_CHECKED_KEYWORDS = (
    "type",
    "pattern",
    "minLength",
    "maxLength",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
)
