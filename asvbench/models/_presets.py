"""Named presets of a model family, and the one error for an unknown preset (no torch).

Every family module keeps ``PRESETS: dict[str, <Family>Config]`` and resolves a name with
:func:`resolve_config`, so an unknown preset reads the same in every family and lists the valid ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeVar

from asvbench.errors import AsvbenchError

C = TypeVar("C")


class UnknownPresetError(AsvbenchError):
    """A preset name that a family does not define (lists the valid names)."""

    def __init__(self, family: str, name: str, valid: Mapping[str, Any]):
        self.family = family
        self.name = name
        super().__init__(f"unknown {family} preset {name!r}", hint=f"valid presets: {', '.join(sorted(valid))}")


def get_preset(family: str, presets: Mapping[str, C], name: str) -> C:
    """``presets[name]``, or :class:`UnknownPresetError` naming ``family`` and the valid presets."""
    try:
        return presets[name]
    except KeyError:
        raise UnknownPresetError(family, name, presets) from None


def resolve_config(family: str, presets: Mapping[str, C], config: C | str, **overrides: Any) -> C:
    """A config from a config or a preset name, with dataclass field ``overrides`` applied."""
    resolved = get_preset(family, presets, config) if isinstance(config, str) else config
    return replace(resolved, **overrides) if overrides else resolved  # type: ignore[type-var]
