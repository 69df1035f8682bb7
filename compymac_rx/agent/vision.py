"""Which models are sent attached images: the one place that decides (MODEL_VISION_MODELS)."""

from __future__ import annotations

import fnmatch

from compymac_rx.settings import get_settings


def sees_images(model: str) -> bool:
    """True when `model` matches a MODEL_VISION_MODELS pattern (`*` = anything, any case).

    A provider-prefixed name (`openai/gpt-4o` on OpenRouter) matches by its last part too.
    """
    names = {model.lower(), model.lower().rsplit("/", 1)[-1]}
    patterns = (p.strip().lower() for p in get_settings().model_vision_models.split(","))
    return any(fnmatch.fnmatchcase(name, p) for p in patterns if p for name in names)
