"""Kubernetes `Status` errors, worded as kube-apiserver words them.

An `ApiError` carries everything a metav1.Status needs; the API server serialises
`err.status()` with `err.code` as the HTTP status. `resource` arguments are the plural
resource name (`pods`, `deployments`); `group` qualifies it as Kubernetes does
(`deployments.apps`).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failed request as Kubernetes reports it: HTTP `code`, `reason`, `message`, `details`."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The metav1.Status body to send with HTTP status `code`."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def qualified(resource: str, group: str = "") -> str:
    """`deployments.apps`, or just `pods` for the core group."""
    return f"{resource}.{group}" if group else resource


def _details(name: str, resource: str, group: str) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = resource
    return details


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(resource, group)} "{name}" not found',
                    _details(name, resource, group))


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(resource, group)} "{name}" already exists',
                    _details(name, resource, group))


OBJECT_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def conflict(resource: str, name: str, why: str = OBJECT_MODIFIED, group: str = "") -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {why}',
                    _details(name, resource, group))


def status_cause(cause: dict[str, Any]) -> dict[str, Any]:
    """A validation cause ({"type"|"reason", "message", "field"}) as a metav1.StatusCause."""
    out: dict[str, Any] = {"reason": cause.get("reason") or cause.get("type", "FieldValueInvalid"),
                           "message": cause.get("message", "")}
    if cause.get("field"):
        out["field"] = cause["field"]
    return out


def cause_text(cause: dict[str, Any]) -> str:
    field = cause.get("field")
    return f"{field}: {cause.get('message', '')}" if field else str(cause.get("message", ""))


def invalid(kind: str, name: str, causes: list[dict[str, Any]], group: str = "") -> ApiError:
    """422 Invalid: 'Pod "x" is invalid: spec.containers[0].image: Required value'."""
    texts = [cause_text(c) for c in causes]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    qualified_kind = f"{kind}.{group}" if group else kind
    details: dict[str, Any] = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [status_cause(c) for c in causes]
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {summary}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Gone", message)


def expired(message: str) -> ApiError:
    """410 with reason Expired: a list or watch from a compacted resourceVersion."""
    return ApiError(410, "Expired", message)


def unauthorized(message: str = "Unauthorized") -> ApiError:
    return ApiError(401, "Unauthorized", message)


def forbidden(resource: str, name: str, why: str, group: str = "") -> ApiError:
    what = qualified(resource, group)
    subject = f'{what} "{name}"' if name else what
    return ApiError(403, "Forbidden", f"{subject} is forbidden: {why}", _details(name, resource, group))


def method_not_supported(resource: str, action: str, group: str = "") -> ApiError:
    return ApiError(405, "MethodNotAllowed",
                    f'{action} is not supported on resources of kind "{qualified(resource, group)}"',
                    {"group": group, "kind": resource} if group else {"kind": resource})


def too_large(message: str) -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", f"Request entity too large: {message}")


def unsupported_media_type() -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    "application/json, application/yaml, application/vnd.kubernetes.protobuf")


def not_acceptable(message: str) -> ApiError:
    return ApiError(406, "NotAcceptable", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})


def timeout(message: str, retry_after: int = 0) -> ApiError:
    details = {"retryAfterSeconds": retry_after} if retry_after else None
    return ApiError(504, "Timeout", message, details)


def too_many_requests(message: str, retry_after: int = 1) -> ApiError:
    return ApiError(429, "TooManyRequests", message, {"retryAfterSeconds": retry_after})


def service_unavailable(message: str) -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def apply_conflict(conflicts: list[tuple[str, str]]) -> ApiError:
    """409 from server-side apply. Each conflict is (manager as printed, field path): the manager
    reads `"kubectl"`, or for an Update entry `"kubectl" with subresource "scale" using apps/v1`."""
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {m}", "field": f} for m, f in conflicts]
    if len(conflicts) == 1:
        manager, field = conflicts[0]
        return ApiError(409, "Conflict", f"Apply failed with 1 conflict: conflict with {manager}: {field}",
                        {"causes": causes})
    by_manager: dict[str, list[str]] = {}
    for manager, field in conflicts:
        by_manager.setdefault(manager, []).append(field)
    lines = []
    for manager in sorted(by_manager):
        lines.append(f"conflicts with {manager}:")
        lines.extend(f"- {field}" for field in by_manager[manager])
    return ApiError(409, "Conflict", f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines),
                    {"causes": causes})
