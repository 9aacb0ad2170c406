"""Single source of the package version (read by the build backend and by ``alsrec``)."""

__version__ = "0.1.0.dev0"
