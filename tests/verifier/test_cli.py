"""The verifier's command line reads its arguments as an auditor types them."""

from __future__ import annotations

from verifier.__main__ import main


def test_a_token_that_begins_with_a_dash_is_taken_as_the_token(tmp_path, capsys):
    missing = tmp_path / "missing.json"
    # Gets past argument parsing to the missing file (exit 2, "error: …"), rather than
    # argparse refusing "--token -…" as an option without its value.
    status = main(
        ["check", "--url", "http://127.0.0.1:9", "--token", "-Kx3", "--checkpoint", str(missing)]
    )
    assert status == 2
    assert "missing.json" in capsys.readouterr().err
