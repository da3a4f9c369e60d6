"""Two `vpngw serve` replicas on one PostgreSQL database serve one deployment.

Both start together on a fresh database with the same master key and root key; the SDK
clients alternate between them. Whatever one replica acknowledges, the other sees at once,
and the guarantees that need a single source of truth (nonce replay detection, ClientToken
idempotency, quotas, optimistic versions) hold across them.
Skipped when PostgreSQL is not available (VPNGW_TEST_DATABASE_URL; scripts/test sets it up).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alibabacloud_vpc20160428 import models as m

import pg
from conftest import PROVISION_DELAY_MS, VpngwServer, server_binary
from helpers import (
    REGION,
    capture_error,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    describe_customer_gateway,
    describe_gateway,
    new_vpc_id,
    without_request_id,
)

QUOTA_CONNECTIONS = 3

pytestmark = pytest.mark.skipif(pg.unavailable() is not None, reason=pg.unavailable() or "")


class Replica(VpngwServer):
    """A server on a given PostgreSQL database with a given master key and root key. Unlike
    the shared harness, it keeps a real connection quota."""

    def __init__(self, workdir: Path, database_url: str, master_key: str, key_id: str, secret: str):
        super().__init__(workdir)
        self.database_url = database_url
        self.master_key = master_key
        self.access_key_id = key_id
        self.access_key_secret = secret

    def start(self) -> None:
        self.starts += 1
        env = dict(os.environ)
        env.update(
            VPNGW_DATABASE_URL=self.database_url,
            VPNGW_MASTER_KEY=self.master_key,
            VPNGW_ROOT_ACCESS_KEY_ID=self.access_key_id,
            VPNGW_ROOT_ACCESS_KEY_SECRET=self.access_key_secret,
            VPNGW_GATEWAY_PROVISION_DELAY_MS=str(PROVISION_DELAY_MS),
            RUST_BACKTRACE="1",
        )
        args = [
            str(server_binary()), "serve",
            "--listen", self.endpoint,
            "--data-dir", str(self.data_dir),
            "--quota-connections-per-gateway", str(QUOTA_CONNECTIONS),
            "--quota-vpn-gateways", "0",
            "--quota-customer-gateways", "0",
        ]  # fmt: skip
        with open(self._log("stdout"), "wb") as out, open(self._log("stderr"), "wb") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        self._wait_healthy()


@pytest.fixture(scope="module")
def replicas():
    database = pg.create_database()
    master_key = secrets.token_hex(32)
    key_id, secret = "testid" + secrets.token_hex(6), secrets.token_urlsafe(24)
    workdirs = [Path(tempfile.mkdtemp(prefix=f"vpngw-replica-{n}-")) for n in "ab"]
    pair = [Replica(w, database, master_key, key_id, secret) for w in workdirs]
    try:
        # Start together: both migrate and bootstrap the same empty database.
        errors: list[BaseException] = []

        def start(r: Replica) -> None:
            try:
                r.start()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=start, args=(r,)) for r in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        yield pair
    finally:
        for r in pair:
            r.stop()
        if not os.environ.get("VPNGW_TEST_KEEP"):
            pg.drop_database(database)
            for w in workdirs:
                shutil.rmtree(w, ignore_errors=True)


def test_replicas_share_one_root_account_and_schema(replicas):
    a, b = replicas
    accounts = pg.query(a.database_url, "SELECT count(*) FROM accounts").strip()
    assert accounts == "1", "both replicas bootstrapped the root account"
    versions = pg.query(a.database_url, "SELECT count(*), count(DISTINCT version) FROM vpngw_schema").strip()
    count, distinct = versions.split("|")
    assert count == distinct and int(count) >= 1
    # The same root key works on both.
    for r in replicas:
        assert r.tea_client("v3").describe_regions(m.DescribeRegionsRequest()).body.regions.region


def test_a_write_on_one_replica_is_read_on_the_other_at_once(replicas):
    a, b = replicas
    a3, b1 = a.tea_client("v3"), b.tea_client("v1")
    b_legacy = b.legacy_client()
    gw = create_gateway(a3, name="replica-gw")
    assert describe_gateway(b1, gw)["Name"] == "replica-gw"
    cgw = create_customer_gateway(b1, name="replica-cgw")
    assert describe_customer_gateway(a3, cgw)["Name"] == "replica-cgw"
    vco = create_connection(a3, gw, cgw, name="replica-vco")
    assert without_request_id(describe_connection(b1, vco)) == without_request_id(describe_connection(a3, vco))
    # Secrets sealed by one replica open on the other (same master key).
    psk = describe_connection(a3, vco)["IkeConfig"]["Psk"]
    assert psk and describe_connection(b1, vco)["IkeConfig"]["Psk"] == psk
    # Modify on B, read on A; delete on A, gone on B.
    b1.modify_vpn_gateway_attribute(
        m.ModifyVpnGatewayAttributeRequest(region_id=REGION, vpn_gateway_id=gw, description="set-on-b")
    )
    assert describe_gateway(a3, gw)["Description"] == "set-on-b"
    from aliyunsdkvpc.request.v20160428.DescribeVpnGatewaysRequest import DescribeVpnGatewaysRequest

    legacy_req = DescribeVpnGatewaysRequest()
    legacy_req.set_VpnGatewayId(gw)
    assert b'"set-on-b"' in b_legacy.do(legacy_req)
    # A gateway with a connection cannot be deleted, on either replica.
    err = capture_error(b1.delete_vpn_gateway, m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    assert err.code.startswith("DependencyViolation"), err.code
    a3.delete_vpn_connection(m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    gone = b1.describe_vpn_connections(m.DescribeVpnConnectionsRequest(region_id=REGION, vpn_connection_id=vco))
    assert gone.body.total_count == 0


def test_a_nonce_used_on_one_replica_is_refused_on_the_other(replicas):
    a, b = replicas
    for version in ("v1", "v3"):
        nonce = f"replica-{version}-" + new_vpc_id()
        first = getattr(a.raw_client(), version)("DescribeRegions", nonce=nonce)
        assert first.status == 200, first.body
        second = getattr(b.raw_client(), version)("DescribeRegions", nonce=nonce)
        assert second.status == 400, second.body
        assert second.json()["Code"] == "SignatureNonceUsed"
        # And back on the first replica too.
        third = getattr(a.raw_client(), version)("DescribeRegions", nonce=nonce)
        assert third.json()["Code"] == "SignatureNonceUsed"
    # Many concurrent uses of one nonce across both replicas: exactly one is answered.
    nonce = "replica-race-" + new_vpc_id()
    clients = [r.raw_client() for r in replicas]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda i: clients[i % 2].v1("DescribeRegions", nonce=nonce).status, range(16)))
    assert statuses.count(200) == 1, statuses


def test_client_token_is_idempotent_across_replicas(replicas):
    a, b = replicas
    a3, b3 = a.tea_client("v3"), b.tea_client("v3")
    token = "replica-" + secrets.token_hex(8)
    vpc_id = new_vpc_id()

    def create(client, **extra):
        req = m.CreateVpnGatewayRequest(region_id=REGION, vpc_id=vpc_id, bandwidth=10, client_token=token, **extra)
        return client.create_vpn_gateway(req).body.vpn_gateway_id

    first = create(a3)
    assert create(b3) == first
    assert create(a3) == first
    err = capture_error(create, b3, name="different")
    assert err.code == "IdempotentParameterMismatch", err.code
    listed = b3.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION, vpc_id=vpc_id))
    assert listed.body.total_count == 1
    # Concurrent first uses of one token across the replicas: one gateway, one id for all.
    token = "replica-race-" + secrets.token_hex(8)
    vpc_id = new_vpc_id()
    clients = [a3, b3]

    def race(i):
        req = m.CreateVpnGatewayRequest(region_id=REGION, vpc_id=vpc_id, bandwidth=10, client_token=token)
        return clients[i % 2].create_vpn_gateway(req).body.vpn_gateway_id

    with ThreadPoolExecutor(max_workers=12) as pool:
        ids = set(pool.map(race, range(12)))
    assert len(ids) == 1, ids
    listed = a3.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION, vpc_id=vpc_id))
    assert listed.body.total_count == 1


def test_concurrent_creates_never_exceed_the_connection_quota(replicas):
    a, b = replicas
    clients = [a.tea_client("v3"), b.tea_client("v1")]
    gw = create_gateway(clients[0])
    attempts = 4 * QUOTA_CONNECTIONS
    cgws = [create_customer_gateway(clients[i % 2]) for i in range(attempts)]

    def create(i):
        req = m.CreateVpnConnectionRequest(
            region_id=REGION,
            vpn_gateway_id=gw,
            customer_gateway_id=cgws[i],
            local_subnet="10.10.0.0/16",
            remote_subnet=f"192.168.{i}.0/24",
        )
        try:
            return clients[i % 2].create_vpn_connection(req).body.vpn_connection_id
        except Exception as e:  # noqa: BLE001 - the error code is checked below
            return getattr(e, "code", repr(e))

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        results = list(pool.map(create, range(attempts)))
    created = [r for r in results if r.startswith("vco-")]
    refused = [r for r in results if not r.startswith("vco-")]
    assert len(created) == QUOTA_CONNECTIONS, results
    assert set(refused) == {"Resource.QuotaFull"}, results
    for client in clients:
        listed = client.describe_vpn_connections(m.DescribeVpnConnectionsRequest(region_id=REGION, vpn_gateway_id=gw))
        assert listed.body.total_count == QUOTA_CONNECTIONS


def test_concurrent_modifies_across_replicas_lose_no_update(replicas):
    a, b = replicas
    clients = [a.tea_client("v3"), b.tea_client("v3")]
    cgw = create_customer_gateway(clients[0], name="start")
    names = [f"writer-{i}" for i in range(12)]

    def modify(i):
        req = m.ModifyCustomerGatewayAttributeRequest(region_id=REGION, customer_gateway_id=cgw, name=names[i])
        try:
            clients[i % 2].modify_customer_gateway_attribute(req)
            return "ok"
        except Exception as e:  # noqa: BLE001 - the error code is checked below
            return getattr(e, "code", repr(e))

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = list(pool.map(modify, range(len(names))))
    # Each call is answered: success, or the cloud's conflict error (never a 5xx).
    assert "ok" in results, results
    assert all(r in {"ok", "VpnTask.CONFLICT"} for r in results), results
    final = describe_customer_gateway(clients[1], cgw)["Name"]
    assert final in names
    assert describe_customer_gateway(clients[0], cgw)["Name"] == final


def test_the_log_names_the_database_without_its_password(replicas):
    a, _ = replicas
    log = re.sub(r"\x1b\[[0-9;]*m", "", (a.workdir / f"stderr.{a.starts}.log").read_text(errors="replace"))
    line = next((l for l in log.splitlines() if "vpngw serving" in l), "")
    assert "database=postgres://" in line, log[-2000:]
    if urllib.parse.urlsplit(a.database_url).password:
        assert ":***@" in line, line
