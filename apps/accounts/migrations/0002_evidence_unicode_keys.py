"""Recompute every organisation's key with the Unicode-aware rule (issue #16, item 2).

The old key kept only a-z and 0-9: every Chinese or Cyrillic name had the empty key (the
first such organisation got it, later ones were filed under it) and "Çelik" was "elik".
Every organisation keeps its row, id and name and gets the key of its own name. Where two
organisations' names now share a key the migration stops and names them: merging them is a
decision for a person (move one's records to the other, then migrate), never a silent one.
Organisations merged under an empty key by the old rule keep the first one's name and key;
their records can only be told apart from the names in the evidence (a person's job).
"""

from __future__ import annotations

import unicodedata

from django.db import migrations


def _key(name: str) -> str:
    """apps.accounts.services.organisation_key as of this migration (frozen here)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in folded)
    key = " ".join(kept.split()) or " ".join(folded.split())
    if not key:
        raise ValueError(f"an organisation needs a name, got {name!r}")
    return key[:255]


class DuplicateOrganisations(Exception):
    pass


def recompute_keys(apps, schema_editor) -> None:
    Organisation = apps.get_model("accounts", "Organisation")
    organisations = list(Organisation.objects.order_by("pk").values_list("pk", "name", "key"))
    by_key: dict[str, list[tuple[int, str]]] = {}
    blank = []
    for pk, name, _old in organisations:
        try:
            by_key.setdefault(_key(name), []).append((pk, name))
        except ValueError:
            blank.append(pk)
    if blank:
        raise DuplicateOrganisations(
            f"organisations {blank} have no name: name them before migrating"
        )
    clashes = {k: v for k, v in by_key.items() if len(v) > 1}
    if clashes:
        listed = "; ".join(
            f"{key!r}: " + ", ".join(f"#{pk} {name!r}" for pk, name in members)
            for key, members in sorted(clashes.items())
        )
        raise DuplicateOrganisations(
            "these organisations would share one key under the Unicode-aware rule; merge "
            f"or rename them first (nothing was changed): {listed}"
        )
    changed = [(members[0][0], key) for key, members in by_key.items()]
    old = {pk: key for pk, _name, key in organisations}
    changed = [(pk, key) for pk, key in changed if old[pk] != key]
    # Two steps: a new key may be another row's old key (the column is unique).
    for pk, _new in changed:
        Organisation.objects.filter(pk=pk).update(key=f"\x01migrating {pk}")
    for pk, key in changed:
        Organisation.objects.filter(pk=pk).update(key=key)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(recompute_keys, migrations.RunPython.noop)]
