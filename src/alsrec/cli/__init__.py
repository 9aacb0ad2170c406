"""The ``alsrec`` command line (also ``python -m alsrec``): a thin shell over the library.

Commands: ``train``, ``recommend``, ``similar-items``, ``similar-users``, ``inspect``,
``evaluate``, ``split``, ``tune``, ``explain`` and ``demo``; ``alsrec COMMAND --help``
describes each, with an example. Each command is one module of this package (its parser
and its handler); :mod:`alsrec.cli.app` builds the parser from them and runs one. The
command line uses only alsrec's public API.

Exit codes: 0 success, 2 usage error (bad arguments or options), 3 data or artifact error
(unreadable or invalid input, a model that cannot be loaded), 4 unknown ID under the
``strict`` policy, 1 any other error. Errors print one line on stderr; ``--debug`` also
prints the traceback.

IDs given on the command line are strings, taken exactly as given (never stripped of
spaces, as ``Interactions.from_csv`` does not strip the data's IDs); when a model's IDs are
integers, an ID written plainly as an integer (``42``) is converted (any other is then
simply unknown).
"""

from alsrec.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
