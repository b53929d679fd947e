"""The version of runspec, in one place: the package and the client's User-Agent read it here."""

__version__ = "0.1.0"
