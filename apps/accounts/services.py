"""Writes of organisations, users and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiToken, Organisation, User
from apps.audit.services import audit_append


def organisation_key(name: str) -> str:
    """The natural key of an organisation name, the one customs records are matched on.

    Unicode-aware (issue #16, item 2): the name in NFKC normal form, case-folded (Unicode
    default case folding, so "ACME" and "Acme", "STRASSE" and "Straße" agree), and every run
    of characters that are not letters, marks or digits of any script (spaces, punctuation,
    symbols, controls) folded to one space. "ACME STEEL LTD." and "Acme Steel Ltd" share a
    key; "Çelik" keeps its "ç", and "鞍钢" and "Северсталь" keep their letters, so they
    never merge with each other or with an empty key. A name of symbols only keys on its
    folded self; a blank name has no key (ValueError).
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in folded)
    key = " ".join(kept.split()) or " ".join(folded.split())
    if not key:
        raise ValueError(f"an organisation needs a name, got {name!r}")
    return key[:255]


def organisations_ensure(*, names: Iterable[str], kind: str) -> dict[str, int]:
    """Get or create organisations by name in bulk; returns {name: id} for *every* given
    name: spellings of one name (case, spacing, punctuation) map to one organisation.
    A name that cannot be stored (a NUL character) is refused with ValueError."""
    names = [n for n in dict.fromkeys(names) if n and n.strip()]
    for name in names:
        if "\x00" in name:
            raise ValueError(f"organisation name {name!r} contains a NUL character")
    keys = {name: organisation_key(name) for name in names}
    first = {}
    for name, key in keys.items():
        first.setdefault(key, name)  # the first spelling names a new organisation
    Organisation.objects.bulk_create(
        [Organisation(name=name[:255], key=key, kind=kind) for key, name in first.items()],
        batch_size=1000,
        ignore_conflicts=True,
    )
    ids = dict(Organisation.objects.filter(key__in=first).values_list("key", "id"))
    return {name: ids[key] for name, key in keys.items()}


def importers_ensure(*, importers: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Get or create the importers' organisations of ``(name, EORI)`` pairs in bulk, as
    customs lines declare them; returns {pair: organisation id} for every pair with a name.

    Keyed by EORI where one is given (upper case, already validated), else by the name's
    key (:func:`organisation_key`, kind *importer*). An EORI no organisation holds yet is
    given to the organisation of its name when that one has none (an importer registered
    by name, or a name seen before without its EORI); if the name's organisation holds
    another EORI, the EORI gets an organisation of its own (key ``eori:<EORI>``, which no
    name folds to). Idempotent: the same pairs map to the same organisations."""
    pairs = [(n, e) for n, e in dict.fromkeys(importers) if n and n.strip()]
    eoris = {e for _, e in pairs if e}
    by_eori: dict[str, int] = {}
    for eori, pk in (
        Organisation.objects.filter(eori__in=eoris).order_by("-id").values_list("eori", "id")
    ):
        by_eori[eori] = pk  # the oldest holder wins
    wanted = {e: n for n, e in pairs if e and e not in by_eori}
    if wanted:
        with transaction.atomic():
            names = organisations_ensure(
                names=list(wanted.values()), kind=Organisation.Kind.IMPORTER
            )
            holders = {
                o.pk: o
                for o in Organisation.objects.select_for_update().filter(pk__in=names.values())
            }
            own_key = []
            for eori, name in wanted.items():
                holder = holders[names[name]]
                if not holder.eori:
                    holder.eori = eori
                    holder.save(update_fields=["eori"])
                    by_eori[eori] = holder.pk
                elif holder.eori == eori:
                    by_eori[eori] = holder.pk
                else:
                    own_key.append(
                        Organisation(
                            name=name[:255],
                            key=f"eori:{eori}",
                            kind=Organisation.Kind.IMPORTER,
                            eori=eori,
                        )
                    )
            if own_key:
                Organisation.objects.bulk_create(own_key, ignore_conflicts=True)
                by_eori.update(
                    Organisation.objects.filter(key__in=[o.key for o in own_key]).values_list(
                        "eori", "id"
                    )
                )
    named = organisations_ensure(
        names=[n for n, e in pairs if not e], kind=Organisation.Kind.IMPORTER
    )
    return {(n, e): by_eori[e] if e else named[n] for n, e in pairs}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, user: User) -> tuple[str, datetime]:
    """Issue a token; only its SHA-256 is stored. Returns (token, expiry)."""
    token = secrets.token_urlsafe(32)
    expires = timezone.now() + settings.API_TOKEN_TTL
    with transaction.atomic():
        record = ApiToken.objects.create(
            user=user, key_sha256=token_hash(token), prefix=token[:8], expires_at=expires
        )
        audit_append(
            actor=user,
            action="token.create",
            object_type="api_token",
            object_id=record.pk,
            payload={"expires": expires.isoformat()},
        )
    return token, expires


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke a token (idempotent: a revoked token keeps its first revocation time)."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit_append(
                actor=actor, action="token.revoke", object_type="api_token", object_id=token.pk
            )
    token.refresh_from_db()
    return token


def api_tokens_revoke_all(*, user: User, actor: Any, reason: str) -> int:
    """Revoke every live token of ``user`` (one audit event each, naming ``reason``);
    returns how many. Called when the password changes and when the account is
    deactivated: a token is a copy of the password's authority and must not outlive it,
    nor come back when the account is reactivated."""
    with transaction.atomic():
        live = list(
            ApiToken.objects.select_for_update()
            .filter(user_id=user.pk, revoked_at__isnull=True)
            .values_list("pk", flat=True)
        )
        if not live:
            return 0
        ApiToken.objects.filter(pk__in=live).update(revoked_at=timezone.now())
        for pk in live:
            audit_append(
                actor=actor,
                action="token.revoke",
                object_type="api_token",
                object_id=pk,
                payload={"reason": reason, "username": user.username},
            )
    return len(live)


def user_deactivate(*, user: User, actor: Any) -> User:
    """Deactivate an account and revoke its tokens, with their audit events, together."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        audit_append(
            actor=actor,
            action="user.deactivate",
            object_type="user",
            object_id=user.pk,
            payload={"username": user.username},
        )
        api_tokens_revoke_all(user=user, actor=actor, reason="account deactivated")
    user.is_active = False
    return user


def user_role_change(*, user: User, role: str, actor: Any) -> User:
    """Give ``user`` another role; the change and its audit event commit together."""
    if role not in User.Role.values:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(User.Role.values)}")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        previous = locked.role
        if previous == role:
            return locked
        locked.role = role
        locked.save(update_fields=["role"])
        audit_append(
            actor=actor,
            action="user.role_change",
            object_type="user",
            object_id=locked.pk,
            payload={"username": locked.username, "from": previous, "to": role},
        )
    user.role = role
    return locked
