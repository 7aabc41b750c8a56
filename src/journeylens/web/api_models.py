"""What every JSON API module of the web app shares: the answers' base model and the error
body, so the OpenAPI document says what a failed call returns too."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """Base of the answers: a float that is not a number (an undefined ratio) is ``null``."""

    model_config = ConfigDict(ser_json_inf_nan="null")


class IssueOut(BaseModel):
    """One problem of the input: the field (``query.limit``, ``expires_at`` …) and why."""

    field: str
    reason: str


class ErrorOut(BaseModel):
    """An error: its kind (``Unauthorized``, ``Forbidden``, ``NotFound``, ``Conflict``,
    ``InvalidInput`` …), the field at fault and the reason in words; 422 answers list every
    problem in ``issues`` (a malformed query or body gives only ``issues``)."""

    error: str
    field: str | None = None
    reason: str | None = None
    issues: list[IssueOut] | None = None


#: The error answers of an API call, for the OpenAPI document.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not signed in, or an unknown / revoked token"},
    403: {"model": ErrorOut, "description": "The role or the token's scopes do not allow it"},
    404: {"model": ErrorOut, "description": "No such map, job or link in this workspace"},
    409: {"model": ErrorOut, "description": "Nothing to answer with yet (e.g. no events)"},
    422: {"model": ErrorOut, "description": "A bad parameter: its field and the reason"},
}
