"""Running the `vpngw` CLI against a test server, and comparing what it prints with golden
files (tests/sdk/golden/, volatile values redacted)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from conftest import server_binary

GOLDEN = Path(__file__).resolve().parent / "golden"


def cli(server, *args, env=None, check=None, cwd=None):
    """Runs `vpngw ARGS` against `server` with its root key in the standard env vars."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    full_env.update(
        ALIBABA_CLOUD_ACCESS_KEY_ID=server.access_key_id,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=server.access_key_secret,
        VPNGW_ENDPOINT=f"http://{server.endpoint}",
        VPNGW_CLI_CONFIG=str(server.workdir / "cli-config.json"),
    )
    full_env.update(env or {})
    r = subprocess.run([str(server_binary()), *args], capture_output=True, text=True, env=full_env, timeout=30, cwd=cwd)
    if check is not None:
        assert r.returncode == check, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


VOLATILE = [
    (re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"), "<RequestId>"),
    (re.compile(r"\b(vpn|cgw|vco|vpc)-[0-9a-z]{10,}"), r"<\1-id>"),
    (re.compile(r'"(CreateTime|EndTime)": \d+'), r'"\1": <ms>'),
    (re.compile(r'"OrderId": \d+'), '"OrderId": <n>'),
    (re.compile(r"\b198\.1[89]\.\d+\.\d+"), "<gateway-ip>"),
    (re.compile(r"\b172\.(?:2[4-9]|3[01])\.\d+\.\d+"), "<peer-ip>"),
    (re.compile(r'"(Psk|psk)": "[^"]*"'), r'"\1": "<psk>"'),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"\btestid[0-9a-f]{12}\b"), "<access-key-id>"),
]


def redact(text: str) -> str:
    for rx, repl in VOLATILE:
        text = rx.sub(repl, text)
    return text


def golden(name: str, text: str) -> None:
    """Compares with tests/sdk/golden/NAME; VPNGW_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    text = redact(text)
    if os.environ.get("VPNGW_UPDATE_GOLDEN") or not path.exists() and not os.environ.get("CI"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.read_text() == text, (
        f"{name} differs from the golden file (VPNGW_UPDATE_GOLDEN=1 rewrites it after a deliberate change):\n{text}"
    )
