"""A tiny generic registry: register with a duplicate check, look up with an error listing valid names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from asvbench.errors import AsvbenchError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind (models, front-ends, fusion rules, ...)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            valid = ", ".join(sorted(self._entries))
            raise AsvbenchError(
                f"unknown {self.kind} {name!r}", hint=f"valid {self.kind} names: {valid}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._entries.items())
