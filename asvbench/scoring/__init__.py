"""Scoring back-ends: cosine scoring of trial lists (``cosine``) and score normalisation (``norm``)."""
