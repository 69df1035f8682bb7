"""Argument types for event handlers: what the browser may send, checked before a handler runs.

The event guard validates every payload strictly against the handler's signature (a string
is not a boolean, no extra names); these add shape and length where a plain type is too
loose. Ownership is still checked by the services: a valid id is a request, not proof.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

# Session ids are uuid4 hex; other ids of ours share the same alphabet.
Id = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")]
MessageId = Annotated[int, Field(ge=0, le=2**53)]
# A path inside a workspace, relative; the file service resolves it beneath the workspace.
WorkspacePath = Annotated[str, StringConstraints(max_length=4096)]
ShortText = Annotated[str, StringConstraints(max_length=1000)]
Choice = Annotated[str, StringConstraints(max_length=300)]
# A colour mode as Reflex names them (accounts/appearance.py keeps the user's choice).
ColorModeName = Annotated[str, StringConstraints(pattern=r"^(light|dark|system)$")]
