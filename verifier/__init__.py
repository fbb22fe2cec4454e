"""An auditor's verifier for the Carbon Manifest audit log, independent of the platform.

Pure Python: ``hashlib`` for RFC 6962 hashing and ``cryptography`` for Ed25519 only; the
command line (``python -m verifier``) talks to the REST API with the standard library.
"""

from __future__ import annotations

from verifier.checkpoint import Checkpoint, checkpoint_body, parse_checkpoint, verify_checkpoint
from verifier.errors import FormatError, VerificationError, VerifierError
from verifier.merkle import leaf_hash, verify_consistency, verify_inclusion

__all__ = [
    "Checkpoint",
    "FormatError",
    "VerificationError",
    "VerifierError",
    "checkpoint_body",
    "leaf_hash",
    "parse_checkpoint",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
]
