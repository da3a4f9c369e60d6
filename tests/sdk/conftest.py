"""Black-box harness: start target/release/vpngw on 127.0.0.1 and point the official SDKs at it.

Environment knobs (all optional):
  VPNGW_BIN          path of the server binary (default: $CARGO_TARGET_DIR or ./target, + /release/vpngw)
  VPNGW_TEST_KEEP    keep the temporary data dirs and logs after the run (print where they are)
  VPNGW_TEST_BACKEND `sqlite` (default) or `postgres` (same as --backend): with postgres, every
                     server gets a fresh database next to VPNGW_TEST_DATABASE_URL's (tests/sdk/pg.py)
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from alibabacloud_tea_openapi.utils_models import Config
from alibabacloud_vpc20160428.client import Client as VpcClient
from aliyunsdkcore.client import AcsClient

import pg
from helpers import REGION
from signing import RawClient

REPO_ROOT = Path(__file__).resolve().parents[2]
PROVISION_DELAY_MS = 200  # how long a new VPN gateway stays `init` (server env knob)
STARTUP_TIMEOUT_S = 30


def server_binary() -> Path:
    if os.environ.get("VPNGW_BIN"):
        return Path(os.environ["VPNGW_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "release" / "vpngw"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VpngwServer:
    """One vpngw process on 127.0.0.1 with its own data dir and root key."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.access_key_id = "testid" + secrets.token_hex(6)
        self.access_key_secret = secrets.token_urlsafe(24)
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        # PostgreSQL (--backend postgres, or a test's shared database); None: SQLite in data_dir.
        self.database_url: str | None = None
        self.owns_database = False
        # Set before start(): more `vpngw serve` flags, and environment on top of the defaults.
        self.extra_args: list[str] = []
        self.extra_env: dict[str, str | None] = {}
        # Set before start() for a server that speaks HTTPS (--tls …): the CA its clients trust.
        self.tls_ca: Path | None = None
        # The server's RLIMIT_NOFILE (`ulimit -n`), when a test wants it low.
        self.fd_limit: int | None = None

    @property
    def protocol(self) -> str:
        return "https" if self.tls_ca else "http"

    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=str(self.tls_ca)) if self.tls_ca else None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _log(self, name: str) -> Path:
        return self.workdir / f"{name}.{self.starts}.log"

    def log_tail(self, lines: int = 60) -> str:
        out = []
        for name in ("stderr", "stdout"):
            path = self._log(name)
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- vpngw {name} ({path}) ---\n" + "\n".join(text))
        return "\n".join(out)

    def start(self) -> None:
        binary = server_binary()
        if not binary.exists():
            pytest.exit(f"server binary {binary} not found: run `cargo build --release` first", returncode=3)
        self.starts += 1
        env = dict(os.environ)
        env.update(
            VPNGW_LISTEN=self.endpoint,
            VPNGW_DATA_DIR=str(self.data_dir),
            VPNGW_ROOT_ACCESS_KEY_ID=self.access_key_id,
            VPNGW_ROOT_ACCESS_KEY_SECRET=self.access_key_secret,
            VPNGW_GATEWAY_PROVISION_DELAY_MS=str(PROVISION_DELAY_MS),
            # The suite creates far more resources than the default quotas (100 per region).
            VPNGW_QUOTA_VPCS="0",
            VPNGW_QUOTA_VPN_GATEWAYS="0",
            VPNGW_QUOTA_CUSTOMER_GATEWAYS="0",
            VPNGW_QUOTA_CONNECTIONS_PER_GATEWAY="0",
        )
        env.setdefault("RUST_BACKTRACE", "1")
        if self.database_url is None and pg.backend() == "postgres":
            self.database_url = pg.create_database()
            self.owns_database = True
        env["VPNGW_DATABASE_URL"] = self.database_url or ""  # empty: SQLite in the data dir
        for k, v in self.extra_env.items():  # None removes a variable
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        with open(self._log("stdout"), "wb") as out, open(self._log("stderr"), "wb") as err:
            fd_limit = self.fd_limit

            def limits():
                if fd_limit is not None:
                    resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

            self.proc = subprocess.Popen(
                [str(binary), "serve", "--listen", self.endpoint, "--data-dir", str(self.data_dir), *self.extra_args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                preexec_fn=limits if fd_limit is not None else None,
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        url = f"{self.protocol}://{self.endpoint}/healthz"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vpngw exited with {self.proc.returncode} during start-up\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1, context=self.ssl_context()) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"vpngw did not answer 200 on {url} within {STARTUP_TIMEOUT_S}s\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind (a crash)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def restart(self) -> None:
        """Stop and start again on the same data dir, port and key (persistence tests).
        The root key env vars are passed again; the server only uses them on an empty data dir."""
        self.stop()
        self.start()

    def store_args(self) -> list[str]:
        """What another `vpngw` command (account create, audit) needs to open this server's store."""
        return ["--database-url", self.database_url] if self.database_url else []

    def assert_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            pytest.fail(f"vpngw is not running (exit code {code})\n{self.log_tail()}")

    # ---- clients -----------------------------------------------------------------

    def tea_client(self, signature: str = "v3", *, access_key_id=None, secret=None) -> VpcClient:
        config = Config(
            access_key_id=access_key_id or self.access_key_id,
            access_key_secret=secret or self.access_key_secret,
            endpoint=self.endpoint,  # host:port only, no scheme (protocol.md §9)
            protocol=self.protocol,
            ca=str(self.tls_ca) if self.tls_ca else None,
            region_id=REGION,
            read_timeout=15000,
            connect_timeout=5000,
        )
        if signature == "v1":
            config.signature_algorithm = "v2"  # 'v2' selects the V1 HMAC-SHA1 scheme
        return VpcClient(config)

    def legacy_client(self, *, access_key_id=None, secret=None, region=REGION) -> "LegacyClient":
        return LegacyClient(
            AcsClient(
                access_key_id or self.access_key_id,
                secret or self.access_key_secret,
                region,
                auto_retry=False,
                timeout=15,
                connect_timeout=5,
                verify=str(self.tls_ca) if self.tls_ca else None,
            ),
            self.endpoint,
            self.protocol,
        )

    def raw_client(self) -> RawClient:
        return RawClient("127.0.0.1", self.port, self.access_key_id, self.access_key_secret)


DEV_KEY = ("LTAIvpngwDevLocalKey0000", "vpngwDevSecretNotForProduction")


class DevServer(VpngwServer):
    """`vpngw serve --dev` as a user starts it (docs/local-mode.md): none of the harness's own
    settings (data dir, root key, delays, quotas), no VPNGW_* variable from the caller's
    environment; only the port is chosen. Its banner is in `banner()`."""

    def __init__(self, workdir: Path):
        super().__init__(workdir)
        self.access_key_id, self.access_key_secret = DEV_KEY

    def start(self) -> None:
        binary = server_binary()
        self.starts += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("VPNGW_")}
        env.update({k: v for k, v in self.extra_env.items() if v is not None})
        with open(self._log("stdout"), "wb") as out, open(self._log("stderr"), "wb") as err:
            self.proc = subprocess.Popen(
                [str(binary), "serve", "--dev", "--listen", self.endpoint, *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
            )
        self._wait_healthy()
        wait = time.monotonic() + STARTUP_TIMEOUT_S
        while "reset:" not in self.banner() and time.monotonic() < wait:
            time.sleep(0.02)

    def banner(self) -> str:
        path = self._log("stdout")
        return path.read_text() if path.exists() else ""

    def banner_value(self, label: str) -> str:
        for line in self.banner().splitlines():
            if line.strip().startswith(label + ":"):
                return line.split(":", 1)[1].strip()
        raise AssertionError(f"no {label!r} in the banner:\n{self.banner()}")


class LegacyClient:
    """AcsClient plus the per-request endpoint/protocol settings protocol.md §9 asks for."""

    def __init__(self, acs: AcsClient, endpoint: str, protocol: str = "http"):
        self.acs = acs
        self.endpoint = endpoint
        self.protocol = protocol

    def _prepare(self, request):
        request.set_endpoint(self.endpoint)
        request.set_protocol_type(self.protocol)
        return request

    def do(self, request) -> bytes:
        """JSON request; raises aliyunsdkcore ServerException on 4xx/5xx."""
        return self.acs.do_action_with_exception(self._prepare(request))

    def do_raw(self, request):
        """Keeps the request's accept format (e.g. XML); returns (status, headers, body)."""
        status, headers, body, _exc = self.acs._implementation_of_do_action(self._prepare(request))
        return status, headers, body


def pytest_addoption(parser):
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgres"),
        default=None,
        help="store of every server: sqlite (default; VPNGW_TEST_BACKEND) or postgres (VPNGW_TEST_DATABASE_URL)",
    )


def pytest_configure(config):
    chosen = config.getoption("--backend")
    if chosen:
        os.environ[pg.BACKEND_VAR] = chosen
    if pg.backend() == "postgres" and pg.unavailable():
        pytest.exit(f"--backend postgres: {pg.unavailable()}", returncode=4)


def pytest_report_header(config):
    return f"vpngw store backend: {pg.backend()}"


def _new_server(prefix: str) -> tuple[VpngwServer, Path]:
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    return VpngwServer(workdir), workdir


def _cleanup(server: VpngwServer, workdir: Path) -> None:
    server.stop()
    if server.owns_database and not os.environ.get("VPNGW_TEST_KEEP"):
        pg.drop_database(server.database_url)
    if os.environ.get("VPNGW_TEST_KEEP"):
        print(f"\nvpngw test data kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    """The shared server for the whole session."""
    srv, workdir = _new_server("vpngw-sdk-")
    try:
        srv.start()
    except RuntimeError as e:
        _cleanup(srv, workdir)
        pytest.exit(str(e), returncode=3)
    yield srv
    _cleanup(srv, workdir)


@pytest.fixture
def own_server():
    """A private server (own data dir) for tests that restart it."""
    srv, workdir = _new_server("vpngw-sdk-own-")
    srv.start()
    yield srv
    _cleanup(srv, workdir)


@pytest.fixture(autouse=True)
def _server_still_alive(request):
    """After each test that used the shared server, make sure it did not crash."""
    yield
    if "server" in request.fixturenames:
        request.getfixturevalue("server").assert_alive()


@pytest.fixture(params=["v3", "v1"], ids=["teaV3", "teaV1"])
def vpc(request, server) -> VpcClient:
    """The Tea client (alibabacloud-vpc20160428), once with V3 signing and once with V1."""
    return server.tea_client(request.param)


@pytest.fixture
def vpc3(server) -> VpcClient:
    return server.tea_client("v3")


@pytest.fixture
def legacy(server) -> LegacyClient:
    return server.legacy_client()


@pytest.fixture
def raw(server) -> RawClient:
    return server.raw_client()
