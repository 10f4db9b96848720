"""``%smops``: the notebook face. Parses a line, calls the core, prints a short summary and
returns the result object (rich display, plain attributes).

It fails like Python fails: a failed operation raises, so the cell shows an error and Run All
stops there. The error output is the core's message, not a traceback into our code: IPython
shows what ``_render_traceback_`` returns instead of the traceback."""
from __future__ import annotations

import os
import shlex
import threading
from typing import Optional

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from .commands import Face, HelpShown, build_parser, error_lines, run
from .commands import UsageError as CommandUsageError
from .core.config import SmopsConfig
from .core.api import Smops
from .core.errors import SmopsError


class SmopsMagicError(Exception):
    """A ``%smops`` operation failed. ``error`` is the core's exception (None for a bug of ours);
    ``code`` and ``status`` are its code and HTTP-like status. ``except SmopsMagicError`` catches
    it in a cell; unhandled, the notebook shows only the message lines."""

    def __init__(self, lines: list[str], error: Optional[BaseException] = None):
        super().__init__("\n".join(lines))
        self.lines = lines
        self.error = error
        self.code = getattr(error, "code", "InternalError")
        self.status = getattr(error, "status", 500)

    def _render_traceback_(self) -> list[str]:
        return self.lines


def split_line(line: str) -> list[str]:
    """Shell-like split, except that inline JSON (from the first ``{`` or ``[``) stays one
    argument, so ``%smops predict ep {"instances": [[5.1, 3.5]]}`` works unquoted."""
    starts = [i for i in (line.find("{"), line.find("[")) if i >= 0]
    if starts and line.lstrip().startswith("predict"):
        cut = min(starts)
        return shlex.split(line[:cut]) + [line[cut:].strip()]
    return shlex.split(line)


@magics_class
class SmopsMagics(Magics):
    """The ``%smops`` line magic."""

    def __init__(self, shell, smops: Smops | None = None):
        super().__init__(shell)
        # Parented to the shell: ``c.SmopsConfig.*`` in ipython_config.py applies, as it does in
        # jupyter_server_config.py for the server extension.
        self.config_obj = SmopsConfig(parent=shell)
        self.smops = smops or Smops(self.config_obj)

    def _face(self) -> Face:
        ns = self.shell.user_ns

        def resolve(text: str):
            return ns[text] if text.isidentifier() and text in ns else text

        def reset():
            self.smops = Smops(self.config_obj)

        return Face(resolve=resolve, echo=print, confirm=_confirm, config_target=self.config_obj,
                    on_config_change=reset, source=ns.get("__session__") or os.environ.get("JPY_SESSION_NAME"))

    @line_magic
    def smops(self, line: str):
        """SageMaker MLOps: %smops VERB ... (%smops --help for the list)."""
        try:
            argv = split_line(line)
        except ValueError as exc:  # unbalanced quotes
            raise UsageError(f"{exc}. Check the quotes in the command line.") from None
        try:
            args = build_parser("%smops").parse_args(argv)
            return run(args, self.smops, self._face())
        except HelpShown as shown:
            print(shown.text or build_parser("%smops").format_help())
            return None
        except CommandUsageError as exc:  # bad arguments: IPython's own kind of error for magics
            raise UsageError(str(exc)) from None
        except SmopsError as exc:
            # The core's words, which say what to do next; raised so the notebook stops here.
            raise SmopsMagicError(error_lines(exc), exc) from None
        except Exception as exc:  # a bug of ours: short too, with how to see the whole story
            if os.environ.get("SMOPS_DEBUG"):
                raise
            raise SmopsMagicError([f"Unexpected error ({type(exc).__name__}: {exc}).",
                                   "Set SMOPS_DEBUG=1 (os.environ['SMOPS_DEBUG'] = '1' in a cell) and run it again "
                                   "for the full traceback, and report it."], exc) from None


def _confirm(question: str) -> bool:
    """Ask in the notebook; where the kernel cannot read input (Run All in nbclient), it is a no."""
    try:
        return input(question).strip().lower() in ("y", "yes")
    except (StdinNotImplementedError, EOFError):
        return False


def register(ipython) -> None:
    """Register ``%smops`` with an IPython shell, and start warming the local endpoints' fork
    server in the background so the notebook's first local deploy takes ~0.05 s, not ~1.4 s."""
    magics = SmopsMagics(ipython)
    ipython.register_magics(magics)
    if os.environ.get("SMOPS_ZYGOTE", "1") != "0":
        threading.Thread(target=_warm, args=(magics.smops,), name="smops-warm", daemon=True).start()


def _warm(smops: Smops) -> None:
    try:
        warm = getattr(smops.local_endpoints, "warm", None)
        if warm:
            warm()
    except Exception:  # warming is an optimisation; a deploy starts the fork server anyway
        pass
