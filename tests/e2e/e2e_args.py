"""Command line of the e2e test scripts: `--binary PATH` (required) and other
`--flag PATH` options are taken out of argv, the rest goes to unittest."""

import os
import sys
import unittest


def main(module, flags=("--binary",)):
    """Sets module.<FLAG> (e.g. BINARY) to each flag's absolute path, then runs
    the module's tests. Exits with a message when --binary is missing."""
    args = sys.argv[1:]
    for flag in flags:
        if flag in args:
            i = args.index(flag)
            setattr(module, flag[2:].upper(), os.path.abspath(args[i + 1]))
            del args[i:i + 2]
    binary = getattr(module, "BINARY", None)
    if not binary or not os.access(binary, os.X_OK):
        sys.exit(f"{os.path.basename(sys.argv[0])}: --binary PATH to the eventsift binary is required")
    unittest.main(module=module, argv=[sys.argv[0], "-v", *args])
