"""asvbench: evaluation suite for speaker verification and spoofing-aware speaker verification."""

__version__ = "0.1.0"
