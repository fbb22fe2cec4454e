"""Command line of the engine (docs/interfaces.md).

    python -m methodologies run CASE.json     # result with its trace, as JSON, on stdout
    python -m methodologies run -             # the case read from stdin
    python -m methodologies list [--verbose]  # id, version, summary (and docstring)
    python -m methodologies verify TRACE.json # recompute a downloaded trace: match or not

Exit status: 0 on success; 2 for a malformed case or unreadable case file (the message
on stderr names the key and the expected unit), for an input outside its physical range
(:mod:`methodologies.plausibility`: key, value, range, likely unit mistake) and for goods
that are not CBAM imports (EU or Reg. 2023/956 Annex III pt 1 origin; a good outside
Annex I); 1 when a well-formed case has no answer (for example no default value for its
CN code).

``verify`` exits 0 when the trace recomputes (every computed part equal), 1 when a part
differs (the first JSON path that differs is named), 2 when the file is unreadable or not
a trace. What is not recomputed (``provenance``, the Python and numpy versions) is said,
not left to make the digests differ (:mod:`methodologies.verify`, docs/auditors.md).

A trace computed by a coalition member names the methodology version it ran under
(``$.adoption``, docs/adoption.md). ``verify`` checks that record with the member keys of
ITS OWN configuration, never the server's: ``--coalition FILE`` (JSON ``{"member_keys":
[vkey, …], "threshold": k}``) or ``--member-key VKEY`` (repeatable) and ``--threshold K``
(default a majority). A trace that says ``adopted`` without k valid member signatures
fails (exit 1); a ``preview`` trace is said to be one, and fails with
``--require-adopted``. Without member keys the record is named but not checked.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from methodologies import METHODOLOGIES, run_case
from methodologies.errors import (
    CaseError,
    ExemptOriginError,
    ImplausibleValueError,
    MethodologyError,
)
from methodologies.verify import verify_trace
from verifier.errors import VerifierError


def _read_case(path: str) -> object:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    return json.loads(text)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one case file and print the result as JSON."""
    try:
        case = _read_case(args.case)
    except OSError as exc:
        print(f"error: cannot read {args.case}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: {args.case} is not JSON: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_case(case)
    except ExemptOriginError as exc:
        print(f"error: not a CBAM import: {exc}", file=sys.stderr)
        return 2
    except ImplausibleValueError as exc:
        print(f"error: implausible input: {exc}", file=sys.stderr)
        return 2
    except CaseError as exc:
        print(f"error: malformed case: {exc}", file=sys.stderr)
        return 2
    except MethodologyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Recompute a trace file and print whether it matches, part by part."""
    try:
        raw = sys.stdin.buffer.read() if args.trace == "-" else Path(args.trace).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.trace}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        stored = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        print(f"error: {args.trace} is not JSON: {exc}", file=sys.stderr)
        return 2
    try:
        answer = verify_trace(stored, raw)
    except CaseError as exc:
        print(f"error: {args.trace}: the trace's case does not run: {exc}", file=sys.stderr)
        return 2
    except MethodologyError as exc:
        print(f"error: {args.trace}: {exc}", file=sys.stderr)
        return 2
    try:
        adoption = _adoption(stored, args)
    except VerifierError as exc:
        print(f"error: {args.trace}: {exc}", file=sys.stderr)
        return 2
    status = answer.exit_status
    if adoption is not None and (
        adoption["problems"] or (args.require_adopted and adoption["status"] != "adopted")
    ):
        status = 1
    if args.json:
        out = answer.as_dict()
        out["adoption"] = adoption
        out["match"] = status == 0
        json.dump(out, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return status
    method = stored.get("methodology") or {}
    print(
        f"{'MATCH' if answer.match else 'MISMATCH'}: {args.trace} "
        f"({method.get('id')} {method.get('version')})"
    )
    print(f"  stored     sha256 {answer.stored_sha256}")
    print(f"  recomputed sha256 {answer.recomputed_sha256}")
    print(f"  bytes identical: {'yes' if answer.bytes_identical else 'no'}")
    if answer.first_difference:
        print(f"  first difference: {answer.first_difference}")
        for more in answer.differences[1:]:
            print(f"  also differs: {more}")
    for note in answer.notes:
        print(f"  note: {note}")
    if adoption is not None:
        print(f"  adoption: {adoption['summary']}")
        for problem in adoption["problems"]:
            print(f"  adoption problem: {problem}")
        if args.require_adopted and adoption["status"] != "adopted":
            print("  adoption problem: a preview figure, and --require-adopted was given")
    return status


def _adoption(stored: dict, args: argparse.Namespace) -> dict | None:
    """The trace's adoption record checked with the verifier's own member keys."""
    from verifier.adoption import check_trace_adoption, parse_member_keys, read_coalition

    block = stored.get("adoption")
    if block is None:
        if args.require_adopted:
            return {"status": "none", "problems": ["the trace names no adoption record"],
                    "summary": "none (computed by an instance without member keys)"}  # fmt: skip
        return None
    if args.coalition:
        keys, threshold = read_coalition(args.coalition)
    elif args.member_key:
        keys = parse_member_keys(args.member_key)
        threshold = args.threshold or len(keys) // 2 + 1
    else:
        version = block.get("version") if isinstance(block, dict) else None
        status = block.get("status") if isinstance(block, dict) else None
        return {
            "status": status,
            "version": version,
            "problems": [],
            "checked": False,
            "summary": f"{status} under version {version} (NOT checked: give --coalition "
            "or --member-key with your own member keys)",
        }
    found = check_trace_adoption(block, keys, threshold)
    signers = found.check.signers if found.check else []
    kind = "OFFICIAL" if found.official else "PREVIEW" if found.status == "preview" else "REFUSED"
    return {
        "status": found.status,
        "version": found.version,
        "signers": signers,
        "threshold": threshold,
        "members": len(keys),
        "problems": found.problems,
        "checked": True,
        "summary": f"{kind}: version {found.version}, {len(signers)} of your {len(keys)} "
        f"member keys signed ({', '.join(signers) or 'none'}), {threshold} required",
    }


def cmd_list(args: argparse.Namespace) -> int:
    """Print the registered methodologies."""
    for m in METHODOLOGIES.values():
        print(f"{m.id}\t{m.version}\t{m.summary}")
        if args.verbose:
            print()
            print(textwrap.indent(m.docstring, "    "))
            print()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the sub-command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m methodologies", description="Carbon Manifest methodology engine"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run a case file and print the result with its trace")
    p_run.add_argument("case", help="path of the case JSON file, or - for stdin")
    p_run.set_defaults(func=cmd_run)
    p_list = sub.add_parser("list", help="list the methodologies and their versions")
    p_list.add_argument(
        "--verbose", "-v", action="store_true", help="also print each methodology's documentation"
    )
    p_list.set_defaults(func=cmd_list)
    p_verify = sub.add_parser(
        "verify", help="recompute a trace downloaded from the API and say whether it matches"
    )
    p_verify.add_argument("trace", help="path of the trace JSON file, or - for stdin")
    p_verify.add_argument("--json", action="store_true", help="print the answer as JSON")
    p_verify.add_argument("--coalition", help='your member keys: JSON {"member_keys", "threshold"}')
    p_verify.add_argument("--member-key", action="append", help="a member's verifier key")
    p_verify.add_argument("--threshold", type=int, help="member signatures required")
    p_verify.add_argument(
        "--require-adopted", action="store_true", help="fail unless the figure is official"
    )
    p_verify.set_defaults(func=cmd_verify)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
