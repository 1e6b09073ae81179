"""The statistics' fixed option values: a leaf module, so the CLI offers them as parser choices
without importing numpy or the bootstrap."""

from __future__ import annotations

#: how an interval is written in a table cell (``report --ci-style``; ``none`` there drops it)
CI_STYLES: tuple[str, ...] = ("bracket", "pm")
