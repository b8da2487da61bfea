"""The client's view of a failed API call: the server's Status object, as received."""

from __future__ import annotations

from typing import Any


class StatusError(Exception):
    """A response with an error code; `status` is the Status object (or one made from the body)."""

    def __init__(self, code: int, status: dict[str, Any]):
        self.code = code
        self.status = status
        super().__init__(status.get("message") or f"the server responded with status {code}")

    @property
    def reason(self) -> str:
        return self.status.get("reason") or ""

    @property
    def message(self) -> str:
        return str(self)

    @classmethod
    def from_body(cls, code: int, body: bytes) -> StatusError:
        import json

        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and parsed.get("kind") == "Status":
            return cls(code, parsed)
        text = body.decode(errors="replace").strip() if body else ""
        return cls(code, {"kind": "Status", "status": "Failure", "code": code, "reason": _reason_for(code),
                          "message": text or f"the server responded with status {code}"})


_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            406: "NotAcceptable", 409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
            429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


def _reason_for(code: int) -> str:
    return _REASONS.get(code, "Unknown")
