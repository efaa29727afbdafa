"""Finding the peer EVTX tools the tests compare with: evtx_dump (crates.io
`evtx`, installed by scripts/setup.sh with cargo into ~/.cargo/bin) and
libevtx's evtxexport (Debian libevtx-utils)."""

import os
import shutil
import subprocess

EVTX_DUMP_VERSION = "0.15.1"


def find_evtx_dump():
    """(path, None) for evtx_dump EVTX_DUMP_VERSION, or (None, why not)."""
    candidates = [shutil.which("evtx_dump"), os.path.expanduser("~/.cargo/bin/evtx_dump")]
    seen = []
    for path in candidates:
        if not path or not os.access(path, os.X_OK) or path in seen:
            continue
        seen.append(path)
        try:
            out = subprocess.run([path, "--version"], capture_output=True, timeout=30).stdout.decode()
        except (OSError, subprocess.SubprocessError):
            continue
        if EVTX_DUMP_VERSION in out.split():
            return path, None
        seen[-1] = "%s (%s)" % (path, out.strip())
    if seen:
        return None, "evtx_dump %s not found (found %s); scripts/setup.sh installs it" % (
            EVTX_DUMP_VERSION, ", ".join(seen))
    return None, "evtx_dump not found on PATH or in ~/.cargo/bin; scripts/setup.sh installs it"


def find_evtxexport():
    path = shutil.which("evtxexport")
    return (path, None) if path else (None, "evtxexport not found (Debian libevtx-utils)")


def in_ci():
    return os.environ.get("CI", "").lower() == "true"
