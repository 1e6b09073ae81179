"""The table formats ``asvbench report`` renders (a leaf module, so the CLI can offer them without
importing the renderers)."""

from __future__ import annotations

FORMATS: tuple[str, ...] = ("rich", "markdown", "latex", "csv", "html", "json")
