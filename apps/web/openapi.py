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
"""

from __future__ import annotations

from typing import Any

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
