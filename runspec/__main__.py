"""``python -m runspec``: the ``runspec`` command (``python -m runspec --help`` lists the commands)."""

from runspec.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
