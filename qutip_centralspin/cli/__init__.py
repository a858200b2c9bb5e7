"""Command line: ``qutip-centralspin {reproduce, pmax, charge, cycle}`` (also
``python -m qutip_centralspin``).

The CLI only parses arguments, calls the public API and prints. Bad arguments give a one-line
error on stderr and exit code 2.

One module per job: ``_parser`` (the flags of every subcommand), ``_inputs`` (the model,
state and processes of the flags), ``_output`` (text, JSON, plots, output paths) and one
module per subcommand (``_reproduce``, ``_pmax``, ``_charge``, ``_cycle``); this module is the
entry point, :func:`main`, and maps each subcommand to its function.
"""

from __future__ import annotations

import sys

from ._charge import _cmd_charge
from ._cycle import _cmd_cycle
from ._output import ZERO_TOL as ZERO_TOL  # the constant of the old cli.py
from ._parser import PROG, _given_flags, _join_negative_values, _UsageError, build_parser
from ._pmax import _cmd_pmax
from ._reproduce import _cmd_reproduce

__all__ = ["main", "build_parser"]


def main(argv=None) -> int:
    """Entry point of the console script; returns the exit code.

    Every failure is one line on stderr: exit code 2 for bad arguments, a problem too large
    for the memory limit or an unwritable output; 130 on Ctrl-C.
    """
    from ..resources import ResourceError

    parser = build_parser()
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
        args.given = _given_flags(parser, argv)
        if args.version:
            from ..version import __version__

            print(f"{PROG} {__version__}")
            return 0
        if args.command is None:
            parser.print_help()
            return 2
        return _COMMANDS[args.command](args)
    except _UsageError as exc:
        return _fail(str(exc).splitlines()[0], prefix=False)
    except (ValueError, ResourceError) as exc:
        return _fail(str(exc).splitlines()[0])
    except MemoryError:
        return _fail("out of memory (the problem is larger than the machine allows)")
    except RuntimeError as exc:  # a numerical method that cannot reach its accuracy
        return _fail(str(exc).splitlines()[0])
    except OSError as exc:
        return _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _fail(message: str, *, prefix: bool = True) -> int:
    print(f"{PROG}: error: {message}" if prefix else message, file=sys.stderr)
    return 2


_COMMANDS = {
    "reproduce": _cmd_reproduce,
    "pmax": _cmd_pmax,
    "charge": _cmd_charge,
    "cycle": _cmd_cycle,
}
