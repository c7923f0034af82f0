"""axe-core, the accessibility engine the browser tests run (tests/e2e/test_accessibility.py):
one pinned release from the npm registry, checked against the registry's sha512 and unpacked to
.cache/ (never committed). `make test` runs `python3 -m tests.e2e.axe_core` first; it needs only
Python's standard library, no Node.

To move to another release: take its `dist.integrity` from https://registry.npmjs.org/axe-core/VERSION.
"""

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "4.14.1"
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / ".cache" / "axe-core" / VERSION / "axe.min.js"


def fetch():
    """Download the pinned tarball, refuse it unless its sha512 is the pinned one, and write
    its package/axe.min.js to AXE_JS. Nothing to do when AXE_JS is already there."""
    if AXE_JS.exists():
        return AXE_JS
    with urllib.request.urlopen(TARBALL, timeout=60) as response:
        tarball = response.read()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if digest != INTEGRITY:
        raise SystemExit(f"{TARBALL}: sha512 {digest} is not the pinned {INTEGRITY}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        script = archive.extractfile("package/axe.min.js").read()
    AXE_JS.parent.mkdir(parents=True, exist_ok=True)
    partial = AXE_JS.with_suffix(".partial")
    partial.write_bytes(script)
    partial.replace(AXE_JS)  # never a half-written file in AXE_JS
    return AXE_JS


if __name__ == "__main__":
    print(f"axe-core {VERSION}: {fetch().relative_to(ROOT)}", file=sys.stderr)
