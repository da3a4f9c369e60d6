"""Issue 13: vpngw as an attacker and an unlucky operator find it, against the release binary on
loopback: the official SDKs where they can express the attack, raw HTTP and sockets where they
cannot. Each test failed before its fix. (The agent's back-off against a refusing peer is in
test_dataplane_e2e.py, which owns the network-namespace lab; the nonce memory bound under load is
crates/server/tests/server/nonce_memory.rs.)"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from alibabacloud_ram20150501 import models as rm
from alibabacloud_vpc20160428 import models as m

from conftest import _cleanup, _new_server, free_port, server_binary
from helpers import (
    REGION,
    capture_error,
    check_error,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    expect_error,
    new_peer_ip,
)
from ram_helpers import (
    RAM_HOST_ID,
    Cred,
    account_id,
    assume,
    attach_user,
    create_user_with_key,
    new_name,
    ram,
    trust_user,
    vpc,
)
from signing import RawClient, new_nonce, utc_timestamp, v3_sign


@pytest.fixture
def make_server():
    """A factory for private servers configured before they start."""
    made = []

    def make(*, env=None, fd_limit=None, start=True, data_dir=None):
        srv, workdir = _new_server("vpngw-sec-")
        srv.extra_env = dict(env or {})
        srv.fd_limit = fd_limit
        if data_dir is not None:
            srv.data_dir = data_dir
        made.append((srv, workdir))
        if start:
            srv.start()
        return srv

    yield make
    for srv, workdir in made:
        _cleanup(srv, workdir)


def vpngw(*args, env=None, timeout=60) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("VPNGW_", "ALIBABA_CLOUD_"))}
    full.update(env or {})
    return subprocess.run([str(server_binary()), *args], capture_output=True, text=True, env=full, timeout=timeout)


def stderr_of(server) -> str:
    return (server.workdir / f"stderr.{server.starts}.log").read_text(errors="replace")


def stdout_of(server) -> str:
    return (server.workdir / f"stdout.{server.starts}.log").read_text(errors="replace")


# ------------------------------------------------------------ 1. sessions belong to a role


def test_a_role_session_dies_with_its_role_not_with_its_name(server):
    """The issue's attack: `assumer` assumes `rtemp` (read only); `rtemp` is deleted and created
    again under the same name with AdministratorAccess, trusting someone else. The old session must
    not inherit the new role: it stops working at once."""
    root = ram(server)
    acct = account_id(server, Cred.root(server))
    assumer, assumer_key = create_user_with_key(root)
    attach_user(root, assumer, "AliyunSTSAssumeRoleAccess")
    name = new_name("rtemp")
    arn = root.create_role(
        rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust_user(acct, assumer))
    ).body.role.arn
    root.attach_policy_to_role(
        rm.AttachPolicyToRoleRequest(role_name=name, policy_name="AliyunVPNGatewayReadOnlyAccess", policy_type="System")
    )
    session = assume(server, assumer_key, arn)
    as_session = ram(server, session)
    vpc(server, session).describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    expect_error(as_session.create_user, "NoPermission", 403, rm.CreateUserRequest(user_name=new_name("x")),
                 host_id=RAM_HOST_ID)

    root.detach_policy_from_role(
        rm.DetachPolicyFromRoleRequest(role_name=name, policy_name="AliyunVPNGatewayReadOnlyAccess", policy_type="System")
    )
    root.delete_role(rm.DeleteRoleRequest(role_name=name))
    # Deleted: the session stops at once (the server caches credentials; no stale answer).
    err = capture_error(vpc(server, session).describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "InvalidAccessKeyId.NotFound", 404)

    other, _ = create_user_with_key(root)
    root.create_role(rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust_user(acct, other)))
    root.attach_policy_to_role(
        rm.AttachPolicyToRoleRequest(role_name=name, policy_name="AdministratorAccess", policy_type="System")
    )
    victim = new_name("created-by-old-session")
    err = capture_error(as_session.create_user, rm.CreateUserRequest(user_name=victim))
    check_error(err, "InvalidAccessKeyId.NotFound", 404, host_id=RAM_HOST_ID)
    users = [u.user_name for u in root.list_users(rm.ListUsersRequest(max_items=1000)).body.users.user]
    assert victim not in users


def test_a_session_outlives_its_assumer_and_stops_with_its_roles_permissions(server):
    """A role session carries the role's permissions, not its assumer's: deleting the user that
    assumed the role (its keys and policies first, as DeleteUser demands) leaves the session valid
    until it expires, as the cloud's STS does (tokens cannot be revoked). What stops a session at
    once is what the role may do: its policies are read on every request, never cached stale."""
    root = ram(server)
    acct = account_id(server, Cred.root(server))
    assumer, assumer_key = create_user_with_key(root)
    attach_user(root, assumer, "AliyunSTSAssumeRoleAccess")
    name = new_name("rkeep")
    arn = root.create_role(
        rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust_user(acct, assumer))
    ).body.role.arn
    read_only = dict(role_name=name, policy_name="AliyunVPNGatewayReadOnlyAccess", policy_type="System")
    root.attach_policy_to_role(rm.AttachPolicyToRoleRequest(**read_only))
    session = assume(server, assumer_key, arn)

    root.delete_access_key(rm.DeleteAccessKeyRequest(user_name=assumer, user_access_key_id=assumer_key.key_id))
    root.detach_policy_from_user(
        rm.DetachPolicyFromUserRequest(user_name=assumer, policy_name="AliyunSTSAssumeRoleAccess", policy_type="System")
    )
    root.delete_user(rm.DeleteUserRequest(user_name=assumer))
    check_error(capture_error(vpc(server, assumer_key).describe_vpn_gateways,
                              m.DescribeVpnGatewaysRequest(region_id=REGION)), "InvalidAccessKeyId.NotFound", 404)
    vpc(server, session).describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))

    root.detach_policy_from_role(rm.DetachPolicyFromRoleRequest(**read_only))
    err = capture_error(vpc(server, session).describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "Forbidden.RAM", 403)
    root.delete_role(rm.DeleteRoleRequest(role_name=name))


def test_a_deleted_access_key_stops_at_once(server):
    root = ram(server)
    user, key = create_user_with_key(root)
    attach_user(root, user, "AliyunVPNGatewayReadOnlyAccess")
    client = vpc(server, key)
    client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    root.delete_access_key(rm.DeleteAccessKeyRequest(user_name=user, user_access_key_id=key.key_id))
    err = capture_error(client.describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "InvalidAccessKeyId.NotFound", 404)
    root.detach_policy_from_user(
        rm.DetachPolicyFromUserRequest(user_name=user, policy_name="AliyunVPNGatewayReadOnlyAccess", policy_type="System")
    )
    root.delete_user(rm.DeleteUserRequest(user_name=user))


# -------------------------------------------------- 2. connections: timeouts, cap, slowloris

HEADER_TIMEOUT_S, IDLE_TIMEOUT_S, BODY_TIMEOUT_S = 1.5, 2.5, 1.5
FD_LIMIT = 256


@pytest.fixture(scope="module")
def guarded():
    """A server with short timeouts and `ulimit -n 256`."""
    srv, workdir = _new_server("vpngw-sec-conn-")
    srv.fd_limit = FD_LIMIT
    srv.extra_env = {
        "VPNGW_HEADER_READ_TIMEOUT_MS": str(int(HEADER_TIMEOUT_S * 1000)),
        "VPNGW_IDLE_TIMEOUT_MS": str(int(IDLE_TIMEOUT_S * 1000)),
        "VPNGW_BODY_READ_TIMEOUT_MS": str(int(BODY_TIMEOUT_S * 1000)),
    }
    srv.start()
    yield srv
    _cleanup(srv, workdir)


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


def until_closed(sock: socket.socket, limit: float) -> tuple[float, bytes]:
    """Reads until the server closes `sock`; (seconds it took, bytes received)."""
    t0 = time.monotonic()
    data = b""
    sock.settimeout(limit)
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError(f"the connection was still open after {limit}s; got {data[:200]!r}") from None
    return time.monotonic() - t0, data


HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def test_half_sent_heads_idle_connections_and_unfinished_bodies_are_closed(guarded):
    # A head that never ends (the timeout runs from the first byte: dribbling does not help).
    s = connect(guarded)
    t0 = time.monotonic()
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    for _ in range(4):
        time.sleep(0.3)
        try:
            s.sendall(b"X-Dribble: 1\r\n")
        except OSError:
            break
    _, data = until_closed(s, 10)
    took = time.monotonic() - t0
    assert data == b"" and HEADER_TIMEOUT_S * 0.9 <= took <= HEADER_TIMEOUT_S * 1.25 + 1.0, took

    # Keep-alive: answered, kept while idle less than the idle timeout (longer than the header
    # timeout), then closed.
    s = connect(guarded)
    s.sendall(HEALTHZ)
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    time.sleep(HEADER_TIMEOUT_S + 0.3)
    s.sendall(HEALTHZ)
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    took, data = until_closed(s, 10)
    assert data == b"" and IDLE_TIMEOUT_S * 0.9 <= took <= IDLE_TIMEOUT_S * 1.25 + 1.5, took

    # A chunked body that never ends: 408 RequestTimeout, and the connection closes.
    s = connect(guarded)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\n\r\n10\r\nAction=Desc")
    took, data = until_closed(s, 10)
    assert BODY_TIMEOUT_S * 0.9 <= took <= BODY_TIMEOUT_S + 1.5, took
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), data[:300]
    assert b"connection: close" in head.lower()
    assert json.loads(body)["Code"] == "RequestTimeout"


@pytest.fixture(scope="module")
def guarded_tls():
    """`guarded`'s timeouts on an HTTPS listener (generated CA), where clients speak HTTP/2."""
    srv, workdir = _new_server("vpngw-sec-tls-")
    srv.extra_args = ["--tls", "self-signed"]
    srv.tls_ca = srv.data_dir / "tls" / "ca.pem"
    srv.extra_env = {
        "VPNGW_HEADER_READ_TIMEOUT_MS": str(int(HEADER_TIMEOUT_S * 1000)),
        "VPNGW_IDLE_TIMEOUT_MS": str(int(IDLE_TIMEOUT_S * 1000)),
    }
    srv.start()
    yield srv
    _cleanup(srv, workdir)


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h2_frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def h2_connect(server) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(server.tls_ca))
    context.set_alpn_protocols(["h2"])
    sock = context.wrap_socket(connect(server), server_hostname="127.0.0.1")
    assert sock.selected_alpn_protocol() == "h2"
    return sock


def h2_healthz(sock: socket.socket, scheme: bytes = b"\x87") -> None:
    """GET /healthz on stream 1 (HPACK by hand: static-table entries and literals, no Huffman), and
    reads frames until its answer's HEADERS frame says 200. `scheme`: https (0x87) or http (0x86)."""
    block = b"\x82" + scheme + b"\x04\x08/healthz" + b"\x01\x01x"  # GET, scheme, :path, :authority
    sock.sendall(H2_PREFACE + h2_frame(4, 0, 0) + h2_frame(1, 0x5, 1, block))  # END_STREAM|END_HEADERS
    sock.settimeout(5)
    data = b""
    while True:
        while len(data) >= 9 and len(data) >= 9 + int.from_bytes(data[:3], "big"):
            length, kind, stream = int.from_bytes(data[:3], "big"), data[3], int.from_bytes(data[5:9], "big")
            payload, data = data[9:9 + length], data[9 + length:]
            if kind == 1 and stream == 1:
                assert payload[:1] == b"\x88", payload  # :status 200, static-table index 8
                return
        chunk = sock.recv(65536)
        assert chunk, "closed before the answer"
        data += chunk


def test_http2_over_tls_idle_and_half_sent_connections_are_closed(guarded_tls):
    """The timeouts hold on the HTTPS listener for HTTP/2 as for HTTP/1.1: the same accept loop
    serves both, and these would stay open forever without it."""
    # Answered, then idle: closed at the idle timeout (hyper sends GOAWAY first).
    s = h2_connect(guarded_tls)
    h2_healthz(s)
    took, _ = until_closed(s, 10)
    assert IDLE_TIMEOUT_S * 0.9 <= took <= IDLE_TIMEOUT_S * 1.25 + 1.5, took

    # A preface and nothing more: the connection is reading its first request; closed at the header
    # timeout, which is shorter than the idle one.
    s = h2_connect(guarded_tls)
    t0 = time.monotonic()
    s.sendall(H2_PREFACE[:10])
    until_closed(s, 10)
    took = time.monotonic() - t0
    assert HEADER_TIMEOUT_S * 0.9 <= took <= HEADER_TIMEOUT_S * 1.25 + 1.0, took


def test_http2_cleartext_idle_and_half_sent_connections_are_closed(guarded):
    """The same for HTTP/2 with prior knowledge on the plain listener (h2c, as curl
    --http2-prior-knowledge and gRPC-style clients speak it)."""
    s = connect(guarded)
    h2_healthz(s, scheme=b"\x86")
    took, _ = until_closed(s, 10)
    assert IDLE_TIMEOUT_S * 0.9 <= took <= IDLE_TIMEOUT_S * 1.25 + 1.5, took

    s = connect(guarded)
    t0 = time.monotonic()
    s.sendall(H2_PREFACE)
    until_closed(s, 10)
    took = time.monotonic() - t0
    assert HEADER_TIMEOUT_S * 0.9 <= took <= HEADER_TIMEOUT_S * 1.25 + 1.0, took


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# The attacker of the slowloris test, in a process of its own: as a thread it shared the GIL with
# the requests being timed, and its connect loop delayed them (a 1.05 s "answer" once in CI).
SLOWLORIS = """
import socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
held, opened, end = [], 0, time.monotonic() + seconds
while time.monotonic() < end:
    s = socket.socket()
    try:
        s.settimeout(0.5)
        s.connect(("127.0.0.1", port))
        s.send(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n")
        held.append(s)
        opened += 1
    except OSError:
        s.close()
        time.sleep(0.005)
    while len(held) > 3000:
        held.pop(0).close()
print(opened)
"""


# The slowloris test's bounds (see its docstring): the 1 s for nine answers in ten, and
# 5 s for every one (a single SYN retransmission on a loaded VM takes 1 s by itself).
ANSWERED_WITHIN = 5.0
USUALLY_WITHIN = 1.0


def test_slowloris_and_fd_exhaustion_do_not_keep_others_out(guarded):
    """One unauthenticated client opens connection after connection and sends half a head on
    each, far more than the server's file descriptors (ulimit -n 256). /healthz and signed
    requests keep being answered throughout: without the cap and the head timeout they are not
    answered at all (accept fails with EMFILE). The issue's bound, 1 s, holds for nine answers in
    ten (worst 4-60 ms here); every answer within 5 s, because on a loaded 2-core VM one SYN
    retransmission takes 1 s by itself. The times are printed."""
    attack_s = 8.0
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    attacker = subprocess.Popen(
        [sys.executable, "-c", SLOWLORIS, str(guarded.port), str(attack_s)], stdout=subprocess.PIPE, text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard)),
    )
    raw = guarded.raw_client()
    raw.timeout = ANSWERED_WITHIN
    worst = {"healthz": 0.0, "signed": 0.0}
    took = []
    max_fds = 0
    checks = 0
    try:
        time.sleep(1.0)
        deadline = time.monotonic() + attack_s - 2
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            with urllib.request.urlopen(f"http://{guarded.endpoint}/healthz", timeout=ANSWERED_WITHIN) as r:
                assert r.status == 200
            took.append(time.monotonic() - t0)
            worst["healthz"] = max(worst["healthz"], took[-1])
            t0 = time.monotonic()
            resp = raw.v1("DescribeRegions", {})
            assert resp.status == 200, resp.body
            took.append(time.monotonic() - t0)
            worst["signed"] = max(worst["signed"], took[-1])
            max_fds = max(max_fds, fd_count(guarded.proc.pid))
            checks += 1
            time.sleep(0.2)
    finally:
        out, _ = attacker.communicate(timeout=attack_s + 30)
    opened = [int(out.strip() or 0)]
    print(f"\n[security] {opened[0]} attacking connections; worst /healthz {worst['healthz']*1000:.0f} ms, "
          f"signed {worst['signed']*1000:.0f} ms over {checks} checks; server fds at most {max_fds}")
    assert opened[0] > 2 * FD_LIMIT, opened[0]
    assert worst["healthz"] < ANSWERED_WITHIN and worst["signed"] < ANSWERED_WITHIN, worst
    slow = [t for t in took if t >= USUALLY_WITHIN]
    assert checks >= 5 and len(slow) * 10 <= len(took), (slow, len(took))
    assert max_fds <= FD_LIMIT
    log = stderr_of(guarded)
    assert "Too many open files" not in log
    assert "open connections at the cap" in log
    guarded.assert_alive()


# ------------------------------------------------------------ 3. replays across a restart


def test_a_request_accepted_before_a_restart_is_refused_after_it(own_server):
    """The issue's attack: capture a signed rename, let an admin rename again, restart the server,
    replay within the timestamp window. Refused after a clean stop and after SIGKILL alike."""
    client = own_server.tea_client()
    gw = create_gateway(client)
    cgw = create_customer_gateway(client)
    vco = create_connection(client, gw, cgw)
    raw = own_server.raw_client()
    for stop in (own_server.stop, own_server.kill):
        captured = dict(nonce=new_nonce(), timestamp=utc_timestamp())
        params = {"RegionId": REGION, "VpnConnectionId": vco, "Name": "attacker-name"}
        assert raw.v1("ModifyVpnConnectionAttribute", params, **captured).status == 200
        client.modify_vpn_connection_attribute(
            m.ModifyVpnConnectionAttributeRequest(region_id=REGION, vpn_connection_id=vco, name="admin-name")
        )
        stop()
        own_server.start()
        replay = raw.v1("ModifyVpnConnectionAttribute", params, **captured)
        assert replay.status == 400, replay.body
        assert replay.json()["Code"] == "SignatureNonceUsed"
        client = own_server.tea_client()
        assert describe_connection(client, vco)["Name"] == "admin-name"
    if own_server.database_url:
        return  # PostgreSQL: nonces are rows of the shared database
    # The journal is the owner's only.
    journal = own_server.data_dir / "nonces"
    assert stat.S_IMODE(journal.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in journal.iterdir())


# ------------------------------------------------------------ 4. nonces are bounded


def test_past_its_nonce_bound_a_key_is_throttled_and_nothing_is_forgotten(make_server):
    """Nonce memory is bounded by settings: one key past its share gets Throttling.User, the
    whole window past its bound Throttling (the cloud's throttling codes, HTTP 400), and a nonce
    is never forgotten to make room (that would let its request be replayed)."""
    srv = make_server(env={"VPNGW_NONCE_LIMIT": "400", "VPNGW_NONCE_LIMIT_PER_KEY": "150"})
    if srv.database_url:
        pytest.skip("the bound is the embedded store's (PostgreSQL keeps nonces as rows)")
    root = ram(srv)
    users = [create_user_with_key(root) for _ in range(3)]
    for name, _ in users:
        attach_user(root, name, "AliyunVPNGatewayReadOnlyAccess")
    raw = srv.raw_client()
    first = dict(nonce=new_nonce(), timestamp=utc_timestamp())
    assert raw.v1("DescribeRegions", {}, **first).status == 200
    codes = [raw.v1("DescribeRegions", {}).json().get("Code") for _ in range(150)]
    admitted = codes.index("Throttling.User")
    assert admitted > 100 and codes[:admitted] == [None] * admitted, codes
    assert set(codes[admitted:]) == {"Throttling.User"}, codes
    err = raw.v1("DescribeRegions", {})
    assert err.status == 400 and err.json()["Message"] == "Request was denied due to user flow control."
    # A replay is still a replay: the first nonce was not forgotten to make room.
    replay = raw.v1("DescribeRegions", {}, **first)
    assert replay.json()["Code"] == "SignatureNonceUsed"
    # Other keys are not held up by this one, until the whole window is full.
    others = [RawClient("127.0.0.1", srv.port, key.key_id, key.secret) for _, key in users]
    answers = [c.v1("DescribeVpnGateways", {"RegionId": REGION}).json().get("Code") for c in others for _ in range(150)]
    assert answers[:150] == [None] * 150, answers[:150]
    assert answers.count(None) == 400 - 150, answers
    assert set(answers[250:]) == {"Throttling"}, answers[250:]
    assert raw.v1("DescribeRegions", {}).json()["Code"] == "Throttling.User"


# ---------------------------------------------------------------- 5. control characters


def test_audit_entries_cannot_forge_or_hide_lines(own_server):
    """A RAM user without policies sends an id carrying CR LF, a fake entry and ESC[8m (hidden
    text). `vpngw audit` prints it escaped: one line per entry, no control character."""
    root = ram(own_server)
    user, key = create_user_with_key(root)
    forged = ("vpn-z\r\n2026-01-01T00:00:00Z     1234567890123456   root (LTAIfake)  "
              "Vpc:DeleteVpnGateway         vpn-all                          OK\x1b[8m")
    err = capture_error(vpc(own_server, key).delete_vpn_gateway,
                        m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=forged))
    assert err.code == "Forbidden.RAM", err
    r = vpngw("audit", "--data-dir", str(own_server.data_dir), *own_server.store_args())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert not any(c in r.stdout for c in "\r\x1b"), repr(r.stdout)
    entry = [l for l in lines if "Forbidden.RAM" in l]
    assert len(entry) == 1 and "vpn-z\\r\\n2026-01-01" in entry[0] and "\\x1b[8m" in entry[0], lines
    assert not any(l.startswith("2026-01-01T00:00:00Z") for l in lines), lines
    # JSON output keeps the value exactly.
    r = vpngw("audit", "--output", "json", "--data-dir", str(own_server.data_dir), *own_server.store_args())
    events = [json.loads(l) for l in r.stdout.splitlines()]
    assert any(forged in e["ResourceIds"] for e in events)


def test_text_logs_escape_what_a_request_carries(make_server):
    srv = make_server()
    # An unknown action is logged with its name (on the request's answered line).
    srv.raw_client().v1("Describe\r\nINFO forged\x1b[2J", {})
    log = stderr_of(srv)
    assert "\x1b" not in log, "ANSI escapes in a log that is not a terminal"
    assert not any(line.startswith("INFO forged") for line in log.splitlines())


# ------------------------------------------------------------------- 6. smaller holes


@pytest.mark.parametrize(
    "ip",
    ["100.64.0.1", "100.127.255.254", "127.0.0.2", "169.254.169.254", "224.0.0.5", "239.1.2.3",
     "255.1.2.3", "255.255.255.255", "0.0.0.0"],
)
def test_customer_gateway_addresses_the_cloud_refuses(vpc, ip):
    expect_error(vpc.create_customer_gateway, "InvalidIpAddress.WrongFormat", 400,
                 m.CreateCustomerGatewayRequest(region_id=REGION, ip_address=ip),
                 message_contains="IpAddress")


def test_private_and_lab_customer_gateway_addresses_are_accepted(vpc3):
    # RFC 1918, the labs' benchmarking range, and the neighbours of the shared address space.
    for ip in ("10.200.1.2", "192.168.77.1", "172.16.250.3", "198.18.200.7", "100.63.255.1", "100.128.0.1"):
        create_customer_gateway(vpc3, ip=ip)


def v3_request(server, *, headers_signed: dict, extra_headers: dict, body: bytes):
    import hashlib
    import http.client

    headers = {
        "host": server.endpoint,
        "accept": "application/json",
        "x-acs-action": "DescribeRegions",
        "x-acs-version": "2016-04-28",
        "x-acs-date": utc_timestamp(),
        "x-acs-signature-nonce": new_nonce(),
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        **headers_signed,
    }
    signed, sig = v3_sign("POST", {}, headers, body, server.access_key_secret)
    headers["authorization"] = f"ACS3-HMAC-SHA256 Credential={server.access_key_id},SignedHeaders={signed},Signature={sig}"
    headers.update(extra_headers)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/", body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def test_v3_content_type_must_be_signed(server):
    body = b"RegionId=cn-hangzhou"
    # What the SDKs send: signed.
    form = {"content-type": "application/x-www-form-urlencoded"}
    status, answer = v3_request(server, headers_signed=form, extra_headers={}, body=body)
    assert status == 200, answer
    # Added after signing (it decides whether the signed body bytes are parameters): refused.
    status, answer = v3_request(server, headers_signed={}, extra_headers={"Content-Type": form["content-type"]},
                                body=body)
    assert (status, answer["Code"]) == (400, "IncompleteSignature"), answer
    assert "content-type" in answer["Message"]


def test_key_states_are_told_only_to_signed_requests(server):
    root = ram(server)
    user, key = create_user_with_key(root)
    attach_user(root, user, "AliyunVPNGatewayReadOnlyAccess")
    root.update_access_key(rm.UpdateAccessKeyRequest(user_name=user, user_access_key_id=key.key_id, status="Inactive"))
    unsigned = RawClient("127.0.0.1", server.port, key.key_id, "not-the-secret")
    r = unsigned.v1("DescribeRegions", {})
    assert r.json()["Code"] == "SignatureDoesNotMatch", r.json()
    r = unsigned.v3("DescribeRegions", {})
    assert r.json()["Code"] == "SignatureDoesNotMatch", r.json()
    signed = RawClient("127.0.0.1", server.port, key.key_id, key.secret)
    assert signed.v1("DescribeRegions", {}).json()["Code"] == "InvalidAccessKeyId.Inactive"


def test_sts_token_states_are_told_only_to_signed_requests(server):
    root = ram(server)
    acct = account_id(server, Cred.root(server))
    user, key = create_user_with_key(root)
    attach_user(root, user, "AliyunSTSAssumeRoleAccess")
    name = new_name("role")
    arn = root.create_role(
        rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust_user(acct, user))
    ).body.role.arn
    session = assume(server, key, arn)
    wrong_secret = RawClient("127.0.0.1", server.port, session.key_id, "not-the-secret")
    for token in (session.token[:-4] + "AAAA", "not-a-token", None):
        params = {"SecurityToken": token} if token else {}
        assert wrong_secret.v1("DescribeRegions", params).json()["Code"] == "SignatureDoesNotMatch"
    right_secret = RawClient("127.0.0.1", server.port, session.key_id, session.secret)
    assert right_secret.v1("DescribeRegions", {}).json()["Code"] == "MissingSecurityToken"
    mismatch = right_secret.v1("DescribeRegions", {"SecurityToken": "CAIS" + "x" * 40}).json()["Code"]
    assert mismatch == "InvalidSecurityToken.MismatchWithAccessKey"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_is_the_owners_only(make_server, tmp_path):
    # A data directory the server creates itself, and one made beforehand with the usual umask.
    fresh = make_server(data_dir=tmp_path / "new" / "data")
    client = fresh.tea_client()
    create_customer_gateway(client)
    for srv in (fresh, make_server()):
        d = srv.data_dir
        assert mode(d) == 0o700, oct(mode(d))
        sqlite = () if srv.database_url else ("vpngw.db", "vpngw.db-wal", "vpngw.db-shm")
        for name in (*sqlite, "master.key"):
            assert (d / name).exists(), name
            assert mode(d / name) == 0o600, (name, oct(mode(d / name)))


# ------------------------------------------------------------------------ 8. first start


def test_a_busy_port_fails_before_anything_is_created(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        data = tmp_path / "data"
        r = vpngw("serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data), env={"RUST_BACKTRACE": "1"})
    assert r.returncode != 0
    assert f"listening on 127.0.0.1:{port}" in r.stderr, r.stderr
    assert not data.exists(), list(data.iterdir())
    assert "AccessKeySecret" not in r.stdout
    assert "backtrace" not in r.stderr.lower()


def test_first_start_banner_then_a_changed_env_key_is_warned_about(make_server):
    srv = make_server(env={"VPNGW_ROOT_ACCESS_KEY_ID": None, "VPNGW_ROOT_ACCESS_KEY_SECRET": None})
    out = stdout_of(srv)
    assert "shown this once" in out, out
    key_id = re.search(r"export ALIBABA_CLOUD_ACCESS_KEY_ID=(\S+)", out).group(1)
    secret = re.search(r"export ALIBABA_CLOUD_ACCESS_KEY_SECRET=(\S+)", out).group(1)
    assert f"Console: http://{srv.endpoint}/console/" in out
    client = srv.tea_client(access_key_id=key_id, secret=secret)
    client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    # Text logs on a pipe: no colours. One line when it stops.
    srv.stop()
    log = stderr_of(srv)
    assert "\x1b[" not in log
    assert len([l for l in log.splitlines() if "vpngw stopped" in l]) == 1, log
    # Restarted with other VPNGW_ROOT_ACCESS_KEY_*: ignored, with a warning; the key stays.
    srv.extra_env = {"VPNGW_ROOT_ACCESS_KEY_ID": "LTAIother0000000000000",
                     "VPNGW_ROOT_ACCESS_KEY_SECRET": "other-secret"}
    srv.start()
    assert "shown this once" not in stdout_of(srv)
    assert "differ from the root key this data directory already has" in stderr_of(srv)
    client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    # The same key as on first start: no warning.
    srv.stop()
    srv.extra_env = {"VPNGW_ROOT_ACCESS_KEY_ID": key_id, "VPNGW_ROOT_ACCESS_KEY_SECRET": secret}
    srv.start()
    assert "differ from the root key" not in stderr_of(srv)


def test_a_lost_root_key_is_replaced_offline_and_audited(make_server):
    srv = make_server()
    data = ["--data-dir", str(srv.data_dir), *srv.store_args()]
    other = json.loads(vpngw("account", "create", "--name", "second", *data).stdout)
    listed = vpngw("account", "list", *data)
    assert listed.returncode == 0, listed.stderr
    assert srv.access_key_id in listed.stdout and other["AccountId"] in listed.stdout
    assert srv.access_key_secret not in listed.stdout and other["AccessKeySecret"] not in listed.stdout
    root_account = account_id(srv, Cred.root(srv))
    if not srv.database_url:
        # Not beside a running server: it caches keys as the only writer of its data directory.
        busy = vpngw("account", "root-key", "--account", root_account, "--rotate", *data)
        assert busy.returncode == 1 and "in use by another vpngw process" in busy.stderr, busy.stderr
    # Two accounts: name one.
    srv.stop()
    vague = vpngw("account", "root-key", "--rotate", *data)
    assert vague.returncode == 1 and "--account" in vague.stderr
    rotated = vpngw("account", "root-key", "--account", root_account, "--rotate", *data)
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)
    assert set(new) == {"AccountId", "AccessKeyId", "AccessKeySecret"} and new["AccountId"] == root_account
    assert srv.access_key_id in rotated.stderr
    srv.start()
    err = capture_error(srv.tea_client().describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "InvalidAccessKeyId.NotFound", 404)
    srv.tea_client(access_key_id=new["AccessKeyId"], secret=new["AccessKeySecret"]).describe_vpn_gateways(
        m.DescribeVpnGatewaysRequest(region_id=REGION))
    events = [json.loads(l) for l in vpngw("audit", "--output", "json", *data).stdout.splitlines()]
    event = next(e for e in events if e["Action"] == "RotateRootAccessKey")
    assert event["AccountId"] == root_account and event["Principal"] == "vpngw account (local)"
    assert srv.access_key_id in event["ResourceIds"] and new["AccessKeyId"] in event["ResourceIds"]


def test_errors_never_print_a_backtrace(tmp_path):
    env = {"RUST_BACKTRACE": "1"}
    for args in (
        ["audit", "--output", "xml", "--data-dir", str(tmp_path)],
        ["account", "list", "--data-dir", str(tmp_path / "missing")],
        ["serve", "--config", str(tmp_path / "missing.toml")],
    ):
        r = vpngw(*args, env=env)
        assert r.returncode == 1, (args, r.stderr)
        assert r.stderr.startswith("Error: "), r.stderr
        assert "backtrace" not in r.stderr.lower() and "\n  0:" not in r.stderr, r.stderr
    # clap's own usage errors: exit 2, no backtrace either.
    r = vpngw("serve", "--no-such-flag", env=env)
    assert r.returncode == 2 and "backtrace" not in r.stderr.lower()
