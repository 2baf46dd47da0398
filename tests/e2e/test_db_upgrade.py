"""An upgrade of the local server keeps an installation's data (tools/ferretdb/PATCHES.md): a
data folder written by the unpatched FerretDB 1.24.2 build (what `make run` installed before the
index patches) opens with the patched build, which rebuilds its non-unique indexes once and
answers every query exactly as before; the unpatched build can open the folder again after.

tools/ferretdb/compat_check.py does the work on a scratch folder of its own (never a stack's
var/); the unpatched binary is built once into build/stremora-db-pristine (the Go module cache
and build cache make later builds quick).
"""

import subprocess
import sys

from conftest import REPO

PRISTINE = REPO / "build" / "stremora-db-pristine"
PATCHED = REPO / "build" / "stremora-db"


def _pristine():
    script = REPO / "tools" / "ferretdb" / "build"
    if not PRISTINE.exists() or PRISTINE.stat().st_mtime < script.stat().st_mtime:
        p = subprocess.run([str(script), "--pristine", "-o", str(PRISTINE)], capture_output=True,
                           text=True, timeout=1200)
        assert p.returncode == 0, p.stderr[-3000:]
    return PRISTINE


def test_db_upgrade_opens_what_the_previous_build_wrote(tmp_path):
    p = subprocess.run([sys.executable, str(REPO / "tools" / "ferretdb" / "compat_check.py"),
                        str(_pristine()), str(PATCHED), str(tmp_path / "compat")],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, (p.stdout[-3000:], p.stderr[-3000:])
    assert "compat: all checks passed" in p.stdout, p.stdout[-3000:]
    assert "patched: every answer is the same as unpatched" in p.stdout
    assert "unpatched again: every answer is the same as patched gave" in p.stdout
