"""``python -m alsrec``: the same as the ``alsrec`` command."""

from alsrec.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
