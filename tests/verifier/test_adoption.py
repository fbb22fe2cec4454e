"""Adoption records (verifier/adoption.py): k of n member signatures over one version's text.

The keys are generated here; the signatures are RFC 8032 Ed25519 note signatures, the same
lines the audit log's checkpoints carry (C2SP signed-note)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from methodologies.__main__ import main as methodologies_main
from verifier.__main__ import main as verifier_main
from verifier.adoption import (
    adoption_text,
    check_adoption,
    check_trace_adoption,
    parse_record,
    render_record,
    require_adoption,
    sign_adoption,
)
from verifier.errors import FormatError, VerificationError
from verifier.note import ed25519_key, raw_public_key

DIGEST = "ab" * 32
OTHER = "cd" * 32


@pytest.fixture(scope="module")
def members():
    keys = {name: Ed25519PrivateKey.generate() for name in ("member-a", "member-b", "member-c")}
    vkeys = [ed25519_key(n, raw_public_key(k)) for n, k in keys.items()]
    return keys, vkeys


def lines_by(keys, names, digest=DIGEST, label="2026.1"):
    text = adoption_text(label, digest)
    return [sign_adoption(keys[n], n, text) for n in names]


def test_k_minus_one_signatures_is_a_preview_and_k_adopts(members):
    keys, vkeys = members
    text = adoption_text("2026.1", DIGEST)
    one = check_adoption(text, lines_by(keys, ["member-a"]), vkeys, 2)
    assert (one.signers, one.adopted) == (["member-a"], False)
    with pytest.raises(VerificationError, match=r"1 valid member signature.*fewer than the 2 of 3"):
        require_adoption(one)
    two = check_adoption(text, lines_by(keys, ["member-a", "member-c"]), vkeys, 2)
    assert (two.signers, two.adopted) == (["member-a", "member-c"], True)


def test_a_key_outside_the_set_a_signature_over_another_hash_and_a_duplicate_do_not_count(
    members,
):
    keys, vkeys = members
    text = adoption_text("2026.1", DIGEST)
    outsider = Ed25519PrivateKey.generate()
    lines = [
        sign_adoption(outsider, "member-b", text),  # the name of a member, not its key
        sign_adoption(outsider, "outsider", text),
        *lines_by(keys, ["member-b"], digest=OTHER),  # member-b, but over another version
        *lines_by(keys, ["member-a", "member-a"]),  # one member twice
    ]
    check = check_adoption(text, lines, vkeys, 2)
    assert check.signers == ["member-a"]
    assert not check.adopted


def test_a_record_of_another_version_is_refused(members):
    keys, vkeys = members
    text = adoption_text("2026.1", DIGEST)
    with pytest.raises(VerificationError, match="not of the version digest"):
        check_adoption(text, lines_by(keys, ["member-a"]), vkeys, 1, digest=OTHER)


def test_thresholds_outside_one_to_n_are_refused(members):
    _, vkeys = members
    text = adoption_text("2026.1", DIGEST)
    for k in (0, 4):
        with pytest.raises(FormatError, match="between 1 and 3"):
            check_adoption(text, [], vkeys, k)


def test_a_record_renders_and_parses_with_or_without_signatures(members):
    keys, _ = members
    text = adoption_text("2026.1", DIGEST)
    assert parse_record(render_record(text, [])) == (text, [])
    lines = lines_by(keys, ["member-b"])
    assert parse_record(render_record(text, lines)) == (text, lines)


def _trace(keys, names, status="adopted"):
    text = adoption_text("2026.1", DIGEST)
    return {
        "status": status,
        "version": "2026.1",
        "digest": DIGEST,
        "record": render_record(text, lines_by(keys, names)),
    }


def test_a_trace_claiming_adoption_needs_k_signatures_of_the_verifiers_own_keys(members):
    keys, vkeys = members
    good = check_trace_adoption(_trace(keys, ["member-a", "member-b"]), vkeys, 2)
    assert good.official and good.problems == []
    short = check_trace_adoption(_trace(keys, ["member-a"]), vkeys, 2)
    assert not short.official
    assert "fewer than 2" in short.problems[0]
    # The same record checked against a verifier that trusts other keys: not official.
    strangers = [ed25519_key(n, raw_public_key(Ed25519PrivateKey.generate())) for n in "xyz"]
    assert not check_trace_adoption(_trace(keys, ["member-a", "member-b"]), strangers, 2).official
    preview = check_trace_adoption(_trace(keys, ["member-a"], status="preview"), vkeys, 2)
    assert (preview.status, preview.problems, preview.official) == ("preview", [], False)


def _coalition_file(tmp_path, vkeys, k):
    path = tmp_path / "coalition.json"
    path.write_text(json.dumps({"member_keys": [v.vkey for v in vkeys], "threshold": k}))
    return str(path)


def test_the_verifier_accepts_a_good_record_and_refuses_a_forged_or_short_one(
    members, tmp_path, capsys
):
    keys, vkeys = members
    config = _coalition_file(tmp_path, vkeys, 2)
    text = adoption_text("2026.1", DIGEST)
    good = tmp_path / "good.note"
    good.write_text(render_record(text, lines_by(keys, ["member-a", "member-b"])))
    assert verifier_main(["adoption", str(good), "--coalition", config]) == 0
    assert "adopted: 2 of 3 member keys, 2 required" in capsys.readouterr().out
    # Forged: member-b's line over this text made with another key (its name, not its key).
    forged = tmp_path / "forged.note"
    fake = sign_adoption(Ed25519PrivateKey.generate(), "member-b", text)
    forged.write_text(render_record(text, [*lines_by(keys, ["member-a"]), fake]))
    assert verifier_main(["adoption", str(forged), "--coalition", config]) == 1
    assert (
        "1 valid member signature(s) (member-a), fewer than the 2 of 3" in capsys.readouterr().out
    )
    short = tmp_path / "short.note"
    short.write_text(render_record(text, lines_by(keys, ["member-c"])))
    args = ["adoption", str(short), *[f"--member-key={v.vkey}" for v in vkeys], "--threshold=2"]
    assert verifier_main(args) == 1


def test_methodologies_verify_checks_a_traces_adoption_with_its_own_keys(members, tmp_path, capsys):
    """An engine trace with an ``adoption`` object (as the platform stores it): it
    recomputes either way; it is official only with k signatures of the verifier's keys."""
    import methodologies

    keys, vkeys = members
    config = _coalition_file(tmp_path, vkeys, 2)
    trace = methodologies.run_case({"methodology": "hydrogen.us45v", "lifecycle_kg_per_kg": 1.2})[
        "trace"
    ]
    path = tmp_path / "trace.json"
    path.write_text(json.dumps({**trace, "adoption": _trace(keys, ["member-a", "member-c"])}))
    assert methodologies_main(["verify", str(path), "--coalition", config]) == 0
    assert "adoption: OFFICIAL: version 2026.1, 2 of your 3 member keys" in capsys.readouterr().out
    path.write_text(json.dumps({**trace, "adoption": _trace(keys, ["member-a"])}))
    assert methodologies_main(["verify", str(path), "--coalition", config]) == 1
    assert "says adopted, but the record carries 1 valid" in capsys.readouterr().out
    path.write_text(json.dumps({**trace, "adoption": _trace(keys, ["member-a"], "preview")}))
    assert methodologies_main(["verify", str(path), "--coalition", config]) == 0
    assert "adoption: PREVIEW" in capsys.readouterr().out
    assert (
        methodologies_main(["verify", str(path), "--coalition", config, "--require-adopted"]) == 1
    )
