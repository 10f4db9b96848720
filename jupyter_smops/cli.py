"""``jupyter smops``: the terminal face (also used by admins for lifecycle configs and domains)."""
from __future__ import annotations

import json
import os
import sys
from typing import Optional

from .commands import Face, HelpShown, build_parser, error_lines, run
from .core.errors import SmopsError


def _extra(subparsers) -> None:
    """Admin verbs live in their own module (lifecycle-config, admin)."""
    try:
        from . import cli_admin
    except ImportError:
        return
    cli_admin.register(subparsers)


def _render(result, as_json: bool) -> Optional[str]:
    """Text as the notebook's plain display shows it, or the stable JSON of docs/cli.md."""
    from .core.types import PackageResult
    from .views import package_dict

    if result is None:
        return None
    if as_json:
        data = package_dict(result) if isinstance(result, PackageResult) else \
            result.to_dict() if hasattr(result, "to_dict") else result
        return json.dumps(data, indent=2, default=str)
    if type(result) in (dict, list):  # predictions: JSON a script can read back
        return json.dumps(result)
    return str(result)


def _stream(as_json: bool):
    """Followed log lines on stdout as they come (one JSON string per line with --json)."""
    def write(line: str) -> None:
        print(json.dumps(line) if as_json else line, flush=True)

    return write


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(question).strip().lower() in ("y", "yes")


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of ``jupyter-smops`` (``jupyter smops``). Returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    if as_json:
        argv.remove("--json")
    parser = build_parser("jupyter smops", extra=_extra)
    parser.epilog = "Add --json to any verb for machine-readable output."
    try:
        args = parser.parse_args(argv)
        from .core.api import Smops

        result = run(args, Smops(), Face(echo=lambda m: print(m, file=sys.stderr), confirm=_confirm,
                                         stream=_stream(as_json)))
    except HelpShown as shown:
        print(shown.text or parser.format_help())
        return 0
    except SmopsError as exc:
        print("\n".join(error_lines(exc)), file=sys.stderr)
        return 2 if exc.status == 400 else 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: still no traceback unless asked for
        if os.environ.get("SMOPS_DEBUG"):
            raise
        print(f"Unexpected error ({type(exc).__name__}: {exc}). Run again with SMOPS_DEBUG=1 for the "
              f"traceback and report it.", file=sys.stderr)
        return 1
    text = _render(result, as_json)
    if text:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
