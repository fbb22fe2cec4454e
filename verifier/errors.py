"""The verifier's exceptions: one base class, narrow subclasses."""

from __future__ import annotations


class VerifierError(Exception):
    """Base class of everything the verifier raises."""


class VerificationError(VerifierError):
    """A proof, root or signature does not verify; the message says which check failed."""


class FormatError(VerifierError):
    """An input (checkpoint document, hash, key, API answer) is malformed."""
