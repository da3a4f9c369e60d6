"""HTTPS (issue 20): the official SDKs over TLS against `vpngw serve --tls self-signed`, trusting the
generated CA the ways docs/sdk.md shows; `alibabacloud_credentials`' RAM-role provider, whose AssumeRole
call is hard-coded to https; RAM's `acs:SecureTransport` on the HTTPS and the plain-HTTP listener of
one server; the Node SDK; HTTP/2 and HTTP/1.1 chosen by ALPN (curl); and the certificate reloaded under
load without a failed request.
(Start-up errors for bad files, plain HTTP on the HTTPS port and vpngw's own clients:
crates/server/tests/server/tls.rs.)"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_credentials.models import Config as CredentialConfig
from alibabacloud_ram20150501 import models as rm
from alibabacloud_tea_openapi.utils_models import Config
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient
from aliyunsdkvpc.request.v20160428.CreateCustomerGatewayRequest import CreateCustomerGatewayRequest
from aliyunsdkvpc.request.v20160428.DescribeCustomerGatewayRequest import DescribeCustomerGatewayRequest

from conftest import REPO_ROOT, VpngwServer, _cleanup, _new_server, free_port
from helpers import REGION, capture_error, rand_suffix
from ram_helpers import Cred, account_id, attach_user, create_policy, create_user_with_key, new_name, ram, sts, trust_user

NODE_DIR = REPO_ROOT / "tests" / "node-sdk"


@pytest.fixture(scope="module")
def tls_server():
    """One server speaking HTTPS on its main port (generated CA) and plain HTTP on a second one."""
    srv, workdir = _new_server("vpngw-sdk-tls-")
    srv.http_port = free_port()
    srv.extra_args = ["--tls", "self-signed", "--listen-http", f"127.0.0.1:{srv.http_port}"]
    srv.tls_ca = srv.data_dir / "tls" / "ca.pem"
    try:
        srv.start()
        yield srv
    finally:
        _cleanup(srv, workdir)


def plain_http_vpc(server: VpngwServer, cred: Cred) -> VpcClient:
    """A Tea client of the same server through its plain-HTTP listener."""
    return VpcClient(
        Config(
            access_key_id=cred.key_id,
            access_key_secret=cred.secret,
            security_token=cred.token,
            endpoint=f"127.0.0.1:{server.http_port}",
            protocol="http",
            region_id=REGION,
        )
    )


def new_ip() -> str:
    n = secrets.randbelow(250 * 250)
    return f"203.0.{n // 250 + 1}.{n % 250 + 1}"


@pytest.mark.parametrize("signature", ["v3", "v1"])
def test_tea_sdk_over_https(tls_server, signature):
    client = tls_server.tea_client(signature)
    name = f"tls-{signature}-{rand_suffix()}"
    created = client.create_customer_gateway(
        vpc_models.CreateCustomerGatewayRequest(region_id=REGION, ip_address=new_ip(), name=name)
    ).body
    got = client.describe_customer_gateway(
        vpc_models.DescribeCustomerGatewayRequest(region_id=REGION, customer_gateway_id=created.customer_gateway_id)
    ).body
    assert got.name == name


def test_legacy_sdk_over_https(tls_server):
    legacy = tls_server.legacy_client()
    request = CreateCustomerGatewayRequest()
    request.set_IpAddress(new_ip())
    created = json.loads(legacy.do(request))
    describe = DescribeCustomerGatewayRequest()
    describe.set_CustomerGatewayId(created["CustomerGatewayId"])
    assert json.loads(legacy.do(describe))["CustomerGatewayId"] == created["CustomerGatewayId"]


def test_legacy_sdk_trusts_the_ca_from_its_environment(tls_server, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_CA_BUNDLE", str(tls_server.tls_ca))
    legacy = tls_server.legacy_client()
    legacy.acs.set_verify(None)  # verify=None: the SDK reads ALIBABA_CLOUD_CA_BUNDLE
    describe = DescribeCustomerGatewayRequest()
    describe.set_CustomerGatewayId("cgw-doesnotexist")
    err = capture_error(legacy.do, describe)
    assert err.code == "InvalidCustomerGatewayInstanceId.NotFound"


def test_ram_role_arn_credentials_reach_sts_over_https(tls_server, monkeypatch):
    """The motivating case: the credentials provider calls AssumeRole over https only."""
    # Tea's HTTP layer verifies against OpenSSL's default store, which SSL_CERT_FILE names.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.tls_ca))
    root = ram(tls_server)
    user, user_cred = create_user_with_key(root)
    attach_user(root, user, "AliyunSTSAssumeRoleAccess")
    acct = account_id(tls_server, Cred.root(tls_server))
    role = new_name("tlsrole")
    arn = root.create_role(
        rm.CreateRoleRequest(role_name=role, assume_role_policy_document=trust_user(acct, user))
    ).body.role.arn
    root.attach_policy_to_role(
        rm.AttachPolicyToRoleRequest(policy_type="System", policy_name="AliyunVPNGatewayReadOnlyAccess", role_name=role)
    )
    credential = CredentialClient(
        CredentialConfig(
            type="ram_role_arn",
            access_key_id=user_cred.key_id,
            access_key_secret=user_cred.secret,
            role_arn=arn,
            role_session_name="tls-session",
            sts_endpoint=tls_server.endpoint,
        )
    )
    got = credential.get_credential()
    assert got.security_token and got.access_key_id.startswith("STS.")
    client = VpcClient(
        Config(credential=credential, endpoint=tls_server.endpoint, protocol="https", region_id=REGION)
    )
    gateways = client.describe_vpn_gateways(vpc_models.DescribeVpnGatewaysRequest(region_id=REGION)).body
    assert gateways.request_id
    who = sts(tls_server, Cred(got.access_key_id, got.access_key_secret, got.security_token)).get_caller_identity()
    assert who.body.arn.endswith(f":assumed-role/{role}/tls-session")
    # The role may read, not write: the session's calls are judged as the role's.
    err = capture_error(
        client.create_customer_gateway,
        vpc_models.CreateCustomerGatewayRequest(region_id=REGION, ip_address=new_ip()),
    )
    assert err.status == 403


def test_secure_transport_condition_tells_the_listeners_apart(tls_server):
    root = ram(tls_server)
    user, cred = create_user_with_key(root)
    policy = create_policy(
        root,
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "vpc:DescribeVpnGateways",
                    "Resource": "*",
                    "Condition": {"Bool": {"acs:SecureTransport": "true"}},
                }
            ],
        },
    )
    attach_user(root, user, policy, "Custom")
    request = vpc_models.DescribeVpnGatewaysRequest(region_id=REGION)
    over_tls = VpcClient(
        Config(
            access_key_id=cred.key_id,
            access_key_secret=cred.secret,
            endpoint=tls_server.endpoint,
            protocol="https",
            ca=str(tls_server.tls_ca),
            region_id=REGION,
        )
    )
    assert over_tls.describe_vpn_gateways(request).body.request_id
    err = capture_error(plain_http_vpc(tls_server, cred).describe_vpn_gateways, request)
    assert (err.status, err.code) == (403, "Forbidden.RAM")


def test_node_sdk_over_https(tls_server):
    node = shutil.which("node")
    if not (NODE_DIR / "node_modules" / "@alicloud" / "vpc20160428").is_dir() or node is None:
        if os.environ.get("CI"):
            pytest.fail("tests/node-sdk is not installed (scripts/test runs npm ci there)")
        pytest.skip("tests/node-sdk not installed: npm ci --prefix tests/node-sdk")
    env = dict(
        os.environ,
        NODE_EXTRA_CA_CERTS=str(tls_server.tls_ca),
        VPNGW_ENDPOINT=tls_server.endpoint,
        ALIBABA_CLOUD_ACCESS_KEY_ID=tls_server.access_key_id,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=tls_server.access_key_secret,
        CGW_IP=new_ip(),
    )
    out = subprocess.run(
        [node, str(NODE_DIR / "over_https.mjs")], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    answer = json.loads(out.stdout)
    assert answer["described"] == answer["created"]
    # Without NODE_EXTRA_CA_CERTS node refuses the server.
    assert "certificate" in answer["untrusted"], answer


def curl(server: VpngwServer, *args: str) -> tuple[str, str]:
    """(body, HTTP version) of one curl request to the HTTPS listener, trusting its CA."""
    out = subprocess.run(
        ["curl", "-sS", "--cacert", str(server.tls_ca), "-w", "\n%{http_version}", *args],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    body, _, version = out.stdout.rpartition("\n")
    return body, version


def test_http2_and_http11_by_alpn(tls_server):
    base = f"https://{tls_server.endpoint}"
    assert curl(tls_server, "--http2", f"{base}/healthz")[1] == "2"
    assert curl(tls_server, "--http1.1", f"{base}/healthz")[1] == "1.1"
    # The RPC API over HTTP/2: an unsigned call gets the cloud's error document, as over HTTP/1.1.
    for flag, want in (("--http2", "2"), ("--http1.1", "1.1")):
        body, version = curl(tls_server, flag, "-X", "POST", f"{base}/?Action=DescribeRegions&Version=2016-04-28")
        assert version == want
        answer = json.loads(body)
        assert answer["Code"] and answer["RequestId"], answer


# ---------------------------------------------------------------- reload


class Pki:
    """A CA and the leaf certificates it issues for 127.0.0.1, written as PEM files."""

    def __init__(self, directory: Path):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.x509, self.hashes, self.ec, self.NameOID = x509, hashes, ec, NameOID
        self.dir = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vpngw test CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.name = name
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(self.key, hashes.SHA256())
        )
        self.ca_path = directory / "ca.pem"
        self.ca_path.write_bytes(self._pem(self.cert))

    def _pem(self, cert) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        return cert.public_bytes(Encoding.PEM)

    def issue(self, serial: int, cert_path: Path, key_path: Path) -> None:
        """Replaces both files (each by a rename), key first."""
        import ipaddress

        from cryptography.hazmat.primitives import serialization

        x509 = self.x509
        key = self.ec.generate_private_key(self.ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(self.NameOID.COMMON_NAME, f"vpngw {serial}")]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
            .sign(self.key, self.hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        for path, data in ((key_path, key_pem), (cert_path, self._pem(cert))):
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)


def served_serial(port: int, context: ssl.SSLContext) -> int:
    """The serial number of the certificate a new connection is given."""
    from cryptography import x509

    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
    conn.connect()
    der = conn.sock.getpeercert(binary_form=True)
    conn.close()
    return x509.load_der_x509_certificate(der).serial_number


def test_certificate_reload_under_load_fails_no_request():
    workdir = Path(tempfile.mkdtemp(prefix="vpngw-sdk-reload-"))
    pki = Pki(workdir)
    cert, key = workdir / "server.pem", workdir / "server.key"
    pki.issue(1, cert, key)
    srv = VpngwServer(workdir)
    srv.tls_ca = pki.ca_path
    srv.extra_args = ["--tls-cert", str(cert), "--tls-key", str(key)]
    try:
        srv.start()
        context = srv.ssl_context()
        assert served_serial(srv.port, context) == 1
        stop = threading.Event()
        done: list[int] = []
        failures: list[str] = []

        def keep_alive():
            conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=context, timeout=10)
            n = 0
            while not stop.is_set():
                try:
                    conn.request("GET", "/healthz")
                    resp = conn.getresponse()
                    resp.read()
                    assert resp.status == 200, resp.status
                    n += 1
                except Exception as e:  # noqa: BLE001 - every failure is the test's finding
                    failures.append(f"keep-alive: {e!r}")
                    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=context, timeout=10)
            done.append(n)

        def new_connections():
            n = 0
            while not stop.is_set():
                try:
                    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=context, timeout=10)
                    conn.request("GET", "/healthz")
                    resp = conn.getresponse()
                    resp.read()
                    conn.close()
                    assert resp.status == 200, resp.status
                    n += 1
                except Exception as e:  # noqa: BLE001
                    failures.append(f"new connection: {e!r}")
            done.append(n)

        def sdk_calls():
            client = srv.tea_client("v3")
            n = 0
            while not stop.is_set():
                try:
                    client.describe_vpn_gateways(vpc_models.DescribeVpnGatewaysRequest(region_id=REGION))
                    n += 1
                except Exception as e:  # noqa: BLE001
                    failures.append(f"sdk: {e!r}")
            done.append(n)

        threads = [threading.Thread(target=f) for f in (keep_alive, keep_alive, new_connections, new_connections, sdk_calls)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        # Renewed and signalled.
        pki.issue(2, cert, key)
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while served_serial(srv.port, context) != 2:
            assert time.monotonic() < deadline, "SIGHUP did not reload the certificate"
            time.sleep(0.05)
        # Renewed without a signal: the change of the files is noticed.
        pki.issue(3, cert, key)
        deadline = time.monotonic() + 10
        while served_serial(srv.port, context) != 3:
            assert time.monotonic() < deadline, "the changed files were not reloaded"
            time.sleep(0.1)
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join(timeout=20)
        assert failures == [], failures[:5]
        assert len(done) == len(threads) and all(n > 0 for n in done), done
        srv.assert_alive()
        log = srv._log("stderr").read_text(errors="replace")
        reloads = [line for line in log.splitlines() if "reloaded the TLS certificate" in line]
        assert any("SIGHUP" in line for line in reloads), reloads
        assert any("the files changed" in line for line in reloads), reloads
    finally:
        _cleanup(srv, workdir)
