"""The table formats ``asvbench report`` renders (a leaf module, so the CLI can offer them without
importing the renderers)."""

from __future__ import annotations

FORMATS: tuple[str, ...] = ("rich", "markdown", "latex", "csv", "html", "json")
#: ``report --layout`` and ``--scale`` of paper tables (asvbench.report.paper)
PAPER_LAYOUTS: tuple[str, ...] = ("systems", "transposed")
PAPER_SCALES: tuple[str, ...] = ("percent", "fraction")
