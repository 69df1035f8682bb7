"""Files attached to a user message, in the chat-completions wire shape.

Text files go inline between plain markers (not a Markdown fence: the file may hold fences
itself); images become `image_url` parts with a data URL for models that see images, and a
short note for the others. Any cut is said in the text the model reads.
"""

from __future__ import annotations

import base64
from typing import Any

from compymac_rx.agent.types import Attached, ChatItem

# What one image is counted as against the context budget (providers charge roughly
# 85-1,100 tokens for one, by size); its base64 text is never counted as characters.
IMAGE_TOKENS = 1000


def _text_block(attached: Attached, limit: int | None) -> str:
    text = attached.text or ""
    cut = attached.cut_at_read
    if limit is not None and limit < len(text):
        text, cut = text[:limit], True
    block = (
        f"[Attached file: {attached.path} ({attached.size:,} bytes)]\n"
        f"----- begin {attached.path} -----\n{text}\n----- end {attached.path} -----"
    )
    if cut:
        block += (
            f"\n[{attached.path} was TRUNCATED: only its first {len(text):,} characters are "
            f"included above (the file has {attached.size:,} bytes). Read the rest from the "
            "workspace with a tool if you need it.]"
        )
    return block


def _image_part(attached: Attached) -> dict[str, Any]:
    data = base64.b64encode(attached.image).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{attached.media_type};base64,{data}"}}


def user_message(
    item: ChatItem, *, vision: bool, text_limits: dict[int, int] | None = None
) -> dict[str, Any]:
    """A user message with its attachments; `text_limits` cuts text files (index -> chars)."""
    limits = text_limits or {}
    texts = [item.content] if item.content else []
    images: list[dict[str, Any]] = []
    for index, attached in enumerate(item.attachments):
        if attached.note:
            texts.append(f"[Attached file {attached.path}: {attached.note}]")
        elif attached.image:
            if vision:
                texts.append(f"[Attached image: {attached.path} (shown below)]")
                images.append(_image_part(attached))
            else:
                texts.append(
                    f"[An image was attached ({attached.path}), but this model cannot see "
                    "images, so it is not included.]"
                )
        else:
            texts.append(_text_block(attached, limits.get(index)))
    text = "\n\n".join(texts)
    if not images:
        return {"role": "user", "content": text}
    return {"role": "user", "content": [{"type": "text", "text": text}, *images]}
