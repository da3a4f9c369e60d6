"""The documentation as a new user reads it: README.md and docs/ stay true to the repository.

- System packages are named in one place, scripts/packages.txt; the documents point to
  scripts/install-packages instead of listing packages, so the lists cannot drift.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import REPO_ROOT

DOCUMENTS = sorted(
    [REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md"), *(REPO_ROOT / "crates").glob("*/README.md")]
)


def package_list(*groups: str) -> list[str]:
    out = subprocess.run([str(REPO_ROOT / "scripts/install-packages"), "--list", *groups],
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_documents_name_no_package_install_of_their_own():
    install = re.compile(r"\b(apt-get|apt|aptitude)\s+(-\S+\s+)*install\b")
    offenders = [
        f"{doc.relative_to(REPO_ROOT)}:{n}: {line.strip()}"
        for doc in DOCUMENTS
        for n, line in enumerate(doc.read_text().splitlines(), 1)
        if install.search(line)
    ]
    assert not offenders, (
        "install system packages with scripts/install-packages (the list is scripts/packages.txt), "
        "not by name:\n" + "\n".join(offenders)
    )
    text = (REPO_ROOT / "README.md").read_text() + (REPO_ROOT / "docs/dataplane-lab.md").read_text()
    assert "scripts/install-packages dataplane" in text


def test_package_list_parses_and_groups_are_known():
    everything = package_list()
    assert len(everything) == len(set(everything)), everything
    by_group = {g: package_list(g) for g in ("dataplane", "sdk", "console", "postgres")}
    assert sorted(everything) == sorted(p for ps in by_group.values() for p in ps)
    # charon's openssl plugin (des, 3des, md5) is only a Recommends of libstrongswan.
    assert "libstrongswan-standard-plugins" in by_group["dataplane"]
    bad = subprocess.run([str(REPO_ROOT / "scripts/install-packages"), "--list", "no-such-group"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no group 'no-such-group'" in bad.stderr
