"""Adapters to other libraries' models; :mod:`alsrec.interop.implicit` is the only module
that imports ``implicit``."""
