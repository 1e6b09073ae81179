"""JSON output shared by the CLI and result records: non-finite floats and numpy scalars made safe."""

from __future__ import annotations

import math
from typing import Any


def json_safe(value: Any) -> Any:
    """A copy of ``value`` that ``json.dumps`` accepts: NaN -> null, +-inf -> "inf"/"-inf",
    numpy scalars -> Python numbers, dict keys -> str."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        return json_safe(value.item())
    return value
