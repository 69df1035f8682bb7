"""Bearer tokens only: no cookie is ever read here, so the API has no CSRF surface."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from compymac_rx.api.problems import ApiProblem
from compymac_rx.offload import off_loop
from compymac_rx.tokens import service as tokens
from compymac_rx.tokens.models import READ, WRITE, TokenUser

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="PersonalAccessToken",
    description="A personal access token from Settings → API tokens: `Authorization: Bearer cmx_…`",
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


async def _token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenUser:
    if credentials is None:
        raise ApiProblem(
            401, "Send a personal access token: Authorization: Bearer <token>.", headers=_CHALLENGE
        )
    found = await off_loop(tokens.authenticate, credentials.credentials)
    if found is None:
        raise ApiProblem(
            401,
            "That token is unknown, expired or revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
        )
    return found


async def reader(token: Annotated[TokenUser, Depends(_token)]) -> TokenUser:
    if not token.can(READ):
        raise ApiProblem(403, "This token may not read.")
    return token


async def writer(token: Annotated[TokenUser, Depends(_token)]) -> TokenUser:
    if not token.can(WRITE):
        raise ApiProblem(
            403,
            "This token is read-only; create one with the write scope to change things.",
            headers={"WWW-Authenticate": 'Bearer realm="api", error="insufficient_scope"'},
        )
    return token


Reader = Annotated[TokenUser, Depends(reader)]
Writer = Annotated[TokenUser, Depends(writer)]
