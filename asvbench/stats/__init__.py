"""Statistics over score sets: per-condition breakdowns (and confidence intervals)."""
