"""Single-tunnel IPsec connections: Create / Describe / DescribeVpnConnections / Modify / Delete.

DescribeVpnConnection must have the shape of shared/seed/DescribeVpnConnection.txt (its JSON
example and names/types; the dual-tunnel descriptions in that page are shifted)."""

from __future__ import annotations

import json
import re
import time

import pytest
from alibabacloud_vpc20160428 import models as m
from aliyunsdkvpc.request.v20160428.CreateVpnConnectionRequest import CreateVpnConnectionRequest as LegacyCreate
from aliyunsdkvpc.request.v20160428.DescribeVpnConnectionRequest import DescribeVpnConnectionRequest as LegacyDescribe

from helpers import (
    REGION,
    SPEC,
    capture_error,
    check_error,
    check_response,
    check_shape,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    describe_customer_gateway,
    describe_gateway,
    expect_error,
    new_peer_ip,
    psk,
    retrying,
    wait_connection_settled,
    without_request_id,
)

VCO_ID = re.compile(r"^vco-[a-z0-9]+$")
NOT_FOUND = "InvalidVpnConnectionInstanceId.NotFound"
BAD_VALUE = re.compile(r"(InvalidParameter|Invalid\w+|IllegalParam)(\.\w+)*")

# Defaults for a connection created without IkeConfig/IpsecConfig. The issue fixes sha1 for
# the auth algorithms (terraform's default, and the seed's example); note that the SDK's doc
# comments for the international site say md5.
DEFAULT_IKE = {
    "IkeVersion": "ikev1",
    "IkeMode": "main",
    "IkeEncAlg": "aes",
    "IkeAuthAlg": "sha1",
    "IkePfs": "group2",
    "IkeLifetime": 86400,
}
DEFAULT_IPSEC = {"IpsecEncAlg": "aes", "IpsecAuthAlg": "sha1", "IpsecPfs": "group2", "IpsecLifetime": 86400}
IKE_KEYS = {"IkeVersion", "IkeMode", "IkeEncAlg", "IkeAuthAlg", "IkePfs", "IkeLifetime", "Psk", "LocalId", "RemoteId"}
IPSEC_KEYS = set(DEFAULT_IPSEC)

# Fields a single-tunnel DescribeVpnConnection must always carry (terraform reads them all).
REQUIRED_FIELDS = {
    "RequestId", "VpnConnectionId", "VpnGatewayId", "CustomerGatewayId", "Name", "LocalSubnet",
    "RemoteSubnet", "CreateTime", "EffectImmediately", "Status", "State", "EnableDpd",
    "EnableNatTraversal", "IkeConfig", "IpsecConfig", "VcoHealthCheck", "VpnBgpConfig",
}  # fmt: skip


@pytest.fixture
def pair(vpc):
    """A fresh active VPN gateway and a customer gateway."""
    return create_gateway(vpc), create_customer_gateway(vpc)


def list_connections(client, **kw) -> dict:
    body = client.describe_vpn_connections(m.DescribeVpnConnectionsRequest(region_id=REGION, **kw)).body.to_map()
    check_response("DescribeVpnConnections", body)
    return body


def assert_seed_types(body: dict) -> None:
    """The type quirks the seed pins down, spelled out (check_response covers every field)."""
    check_response("DescribeVpnConnection", body)
    missing = REQUIRED_FIELDS - set(body)
    assert not missing, f"missing {missing}"
    assert isinstance(body["CreateTime"], int) and body["CreateTime"] > 10**12  # epoch milliseconds
    for key in ("EffectImmediately", "EnableDpd", "EnableNatTraversal"):
        assert isinstance(body[key], bool), key
    assert set(body["IkeConfig"]) == IKE_KEYS
    assert type(body["IkeConfig"]["IkeLifetime"]) is int
    assert set(body["IpsecConfig"]) == IPSEC_KEYS
    assert type(body["IpsecConfig"]["IpsecLifetime"]) is int
    health, bgp = body["VcoHealthCheck"], body["VpnBgpConfig"]
    if "Enable" in health:
        assert health["Enable"] in ("true", "false")  # a STRING, not a boolean
    for key in ("Interval", "Retry"):
        if key in health:
            assert type(health[key]) is int
    if "EnableBgp" in bgp:
        assert bgp["EnableBgp"] in ("true", "false")  # a STRING, not a boolean
    for key in ("LocalAsn", "PeerAsn"):
        if key in bgp:
            assert type(bgp[key]) is int
    if "Tags" in body:
        assert isinstance(body["Tags"]["Tag"], list)


def test_create_with_configs(vpc, pair):
    gw, cgw = pair
    ike = {
        "IkeVersion": "ikev2",
        "IkeMode": "main",
        "IkeEncAlg": "aes256",
        "IkeAuthAlg": "sha256",
        "IkePfs": "group14",
        "IkeLifetime": 3600,
        "Psk": psk(),
        "LocalId": "vpngw.example",
        "RemoteId": "peer.example",
    }
    ipsec = {"IpsecEncAlg": "aes192", "IpsecAuthAlg": "sha512", "IpsecPfs": "disabled", "IpsecLifetime": 1800}
    before_ms = int(time.time() * 1000)
    req = m.CreateVpnConnectionRequest(
        region_id=REGION,
        vpn_gateway_id=gw,
        customer_gateway_id=cgw,
        local_subnet="10.1.0.0/16,10.2.0.0/24",
        remote_subnet="192.168.1.0/24",
        name="vco one",
        ike_config=json.dumps(ike),
        ipsec_config=json.dumps(ipsec),
        effect_immediately=True,
        enable_dpd=False,
        enable_nat_traversal=False,
    )
    body = retrying(vpc.create_vpn_connection, req).body.to_map()
    check_response("CreateVpnConnection", body)
    vco = body["VpnConnectionId"]
    assert VCO_ID.match(vco), vco
    assert body["Name"] == "vco one"
    assert before_ms - 5000 <= body["CreateTime"] <= time.time() * 1000 + 5000

    desc = wait_connection_settled(vpc, vco, gw)
    assert_seed_types(desc)
    assert desc["VpnConnectionId"] == vco
    assert (desc["VpnGatewayId"], desc["CustomerGatewayId"]) == (gw, cgw)
    assert desc["Name"] == "vco one"
    assert desc["LocalSubnet"] == "10.1.0.0/16,10.2.0.0/24"
    assert desc["RemoteSubnet"] == "192.168.1.0/24"
    assert desc["IkeConfig"] == ike
    assert desc["IpsecConfig"] == ipsec
    assert (desc["EffectImmediately"], desc["EnableDpd"], desc["EnableNatTraversal"]) == (True, False, False)
    assert desc["CreateTime"] == body["CreateTime"]
    assert desc["State"] == "active"
    # No peer is answering, so IKE cannot be up.
    assert desc["Status"] == "ike_sa_not_established"


def test_defaults(vpc, pair):
    gw, cgw = pair
    vco = create_connection(vpc, gw, cgw)
    desc = describe_connection(vpc, vco)
    assert_seed_types(desc)
    ike = desc["IkeConfig"]
    assert {k: ike[k] for k in DEFAULT_IKE} == DEFAULT_IKE
    assert isinstance(ike["Psk"], str) and ike["Psk"] and " " not in ike["Psk"]  # generated
    assert ike["LocalId"] == describe_gateway(vpc, gw)["InternetIp"]
    assert ike["RemoteId"] == describe_customer_gateway(vpc, cgw)["IpAddress"]
    assert desc["IpsecConfig"] == DEFAULT_IPSEC
    # Documented defaults: EnableDpd true, EnableNatTraversal true, EffectImmediately false.
    assert (desc["EnableDpd"], desc["EnableNatTraversal"], desc["EffectImmediately"]) == (True, True, False)
    assert desc["State"] == "active"
    assert desc["Status"] == "ike_sa_not_established"


def test_generated_psks_differ(vpc3):
    gw = create_gateway(vpc3)
    a = create_connection(vpc3, gw, create_customer_gateway(vpc3))
    b = create_connection(vpc3, gw, create_customer_gateway(vpc3))
    assert describe_connection(vpc3, a)["IkeConfig"]["Psk"] != describe_connection(vpc3, b)["IkeConfig"]["Psk"]


def test_raw_json_matches_seed_and_sdk(vpc3, raw):
    """The wire body itself: no undocumented keys (the SDK model would silently drop them) and
    exactly the keys the SDK model round-trips."""
    gw, cgw = create_gateway(vpc3), create_customer_gateway(vpc3)
    vco = create_connection(vpc3, gw, cgw, ike_config=json.dumps({"Psk": psk()}))
    resp = raw.v1("DescribeVpnConnection", {"RegionId": REGION, "VpnConnectionId": vco})
    assert resp.status == 200, resp.body
    assert resp.content_type.startswith("application/json")
    wire = resp.json()
    check_shape(wire, SPEC["operations"]["DescribeVpnConnection"]["response"])
    assert_seed_types(wire)
    sdk = describe_connection(vpc3, vco)
    assert without_request_id(wire) == without_request_id(sdk)


def test_describe_unknown(vpc):
    req = m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id="vco-doesnotexist000000")
    expect_error(vpc.describe_vpn_connection, NOT_FOUND, 404, req)


def test_list_paging_and_filters(vpc):
    gw = create_gateway(vpc)
    cgws = [create_customer_gateway(vpc) for _ in range(3)]
    vcos = [create_connection(vpc, gw, c) for c in cgws]
    other_gw = create_gateway(vpc)
    other = create_connection(vpc, other_gw, create_customer_gateway(vpc))

    by_gw = list_connections(vpc, vpn_gateway_id=gw)
    assert by_gw["TotalCount"] == 3
    assert (by_gw["PageNumber"], by_gw["PageSize"]) == (1, 10)
    assert {c["VpnConnectionId"] for c in by_gw["VpnConnections"]["VpnConnection"]} == set(vcos)

    seen = []
    for page in (1, 2, 3):
        body = list_connections(vpc, vpn_gateway_id=gw, page_number=page, page_size=2)
        assert (body["PageNumber"], body["PageSize"], body["TotalCount"]) == (page, 2, 3)
        seen += [c["VpnConnectionId"] for c in body["VpnConnections"]["VpnConnection"]]
    assert sorted(seen) == sorted(vcos), "pages must neither repeat nor skip connections"

    [item] = list_connections(vpc, vpn_connection_id=vcos[1])["VpnConnections"]["VpnConnection"]
    assert item["VpnConnectionId"] == vcos[1] and item["CustomerGatewayId"] == cgws[1]
    desc = without_request_id(describe_connection(vpc, vcos[1]))
    for key in ("VpnGatewayId", "LocalSubnet", "RemoteSubnet", "IkeConfig", "IpsecConfig", "State", "Status", "CreateTime"):
        assert item[key] == desc[key], key

    by_cgw = list_connections(vpc, customer_gateway_id=cgws[2])
    assert [c["VpnConnectionId"] for c in by_cgw["VpnConnections"]["VpnConnection"]] == [vcos[2]]

    assert list_connections(vpc, vpn_gateway_id=gw, customer_gateway_id=cgws[0])["TotalCount"] == 1
    assert list_connections(vpc, vpn_gateway_id=gw, vpn_connection_id=other)["TotalCount"] == 0
    assert list_connections(vpc, vpn_connection_id="vco-doesnotexist000000")["TotalCount"] == 0


def modify(client, vco: str, gw: str, **kw) -> dict:
    req = m.ModifyVpnConnectionAttributeRequest(region_id=REGION, vpn_connection_id=vco, **kw)
    body = retrying(client.modify_vpn_connection_attribute, req).body.to_map()
    check_response("ModifyVpnConnectionAttribute", body)
    assert body["VpnConnectionId"] == vco
    wait_connection_settled(client, vco, gw)
    return body


def test_modify_name_and_subnets(vpc, pair):
    gw, cgw = pair
    vco = create_connection(vpc, gw, cgw, name="before")
    before = without_request_id(describe_connection(vpc, vco))
    body = modify(vpc, vco, gw, name="after", local_subnet="10.9.0.0/16", remote_subnet="172.16.0.0/12,192.168.9.0/24")
    assert (body["Name"], body["LocalSubnet"], body["RemoteSubnet"]) == (
        "after",
        "10.9.0.0/16",
        "172.16.0.0/12,192.168.9.0/24",
    )
    after = without_request_id(describe_connection(vpc, vco))
    changed = {"Name": "after", "LocalSubnet": "10.9.0.0/16", "RemoteSubnet": "172.16.0.0/12,192.168.9.0/24"}
    assert {k: after[k] for k in changed} == changed
    assert {k: v for k, v in after.items() if k not in changed} == {k: v for k, v in before.items() if k not in changed}


def test_modify_partial_ike_config_keeps_other_fields(vpc, pair):
    gw, cgw = pair
    secret = psk()
    vco = create_connection(vpc, gw, cgw, ike_config=json.dumps({"Psk": secret, "IkeVersion": "ikev2"}))
    before = describe_connection(vpc, vco)
    body = modify(vpc, vco, gw, ike_config=json.dumps({"IkeEncAlg": "aes256", "IkeLifetime": 7200}))
    assert body["IkeConfig"]["IkeEncAlg"] == "aes256"
    after = describe_connection(vpc, vco)
    expected = dict(before["IkeConfig"], IkeEncAlg="aes256", IkeLifetime=7200)
    assert after["IkeConfig"] == expected
    assert after["IkeConfig"]["Psk"] == secret and after["IkeConfig"]["IkeVersion"] == "ikev2"
    assert after["IpsecConfig"] == before["IpsecConfig"]
    assert (after["Name"], after["LocalSubnet"]) == (before["Name"], before["LocalSubnet"])

    modify(vpc, vco, gw, ipsec_config=json.dumps({"IpsecPfs": "group5"}))
    again = describe_connection(vpc, vco)
    assert again["IpsecConfig"] == dict(before["IpsecConfig"], IpsecPfs="group5")
    assert again["IkeConfig"] == expected


def test_modify_unknown(vpc):
    req = m.ModifyVpnConnectionAttributeRequest(region_id=REGION, vpn_connection_id="vco-doesnotexist000000", name="x")
    expect_error(vpc.modify_vpn_connection_attribute, NOT_FOUND, 404, req)


def test_delete(vpc, pair):
    gw, cgw = pair
    vco = create_connection(vpc, gw, cgw)
    resp = retrying(vpc.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    check_response("DeleteVpnConnection", resp.body.to_map())
    req = m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco)
    expect_error(vpc.describe_vpn_connection, NOT_FOUND, 404, req)
    assert list_connections(vpc, vpn_gateway_id=gw)["TotalCount"] == 0
    expect_error(
        vpc.delete_vpn_connection, NOT_FOUND, 404, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco)
    )


def test_create_with_unknown_gateways(vpc, pair):
    gw, cgw = pair
    base = dict(region_id=REGION, local_subnet="10.0.0.0/16", remote_subnet="192.168.0.0/24")
    expect_error(
        vpc.create_vpn_connection,
        "InvalidVpnGatewayInstanceId.NotFound",
        404,
        m.CreateVpnConnectionRequest(vpn_gateway_id="vpn-doesnotexist000000", customer_gateway_id=cgw, **base),
    )
    expect_error(
        vpc.create_vpn_connection,
        "InvalidCustomerGatewayInstanceId.NotFound",
        404,
        m.CreateVpnConnectionRequest(vpn_gateway_id=gw, customer_gateway_id="cgw-doesnotexist000000", **base),
    )
    assert list_connections(vpc, vpn_gateway_id=gw)["TotalCount"] == 0


BAD_SUBNETS = ["10.0.0.0/33", "10.0.0/24", "not-a-cidr", "10.0.0.0/16,,", "300.0.0.0/8"]


@pytest.mark.parametrize("bad", BAD_SUBNETS)
@pytest.mark.parametrize("field", ["LocalSubnet", "RemoteSubnet"])
def test_invalid_subnet_on_create(vpc, pair, field, bad):
    gw, cgw = pair
    subnets = {"local_subnet": "10.0.0.0/16", "remote_subnet": "192.168.0.0/24"}
    subnets["local_subnet" if field == "LocalSubnet" else "remote_subnet"] = bad
    req = m.CreateVpnConnectionRequest(region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=cgw, **subnets)
    expect_error(vpc.create_vpn_connection, f"IllegalParam.{field}", 400, req)
    assert list_connections(vpc, vpn_gateway_id=gw)["TotalCount"] == 0


@pytest.mark.parametrize("field", ["LocalSubnet", "RemoteSubnet"])
def test_invalid_subnet_on_modify_changes_nothing(vpc, pair, field):
    gw, cgw = pair
    vco = create_connection(vpc, gw, cgw)
    before = without_request_id(describe_connection(vpc, vco))
    kw = {"local_subnet" if field == "LocalSubnet" else "remote_subnet": "10.0.0.0/40", "name": "should-not-stick"}
    req = m.ModifyVpnConnectionAttributeRequest(region_id=REGION, vpn_connection_id=vco, **kw)
    expect_error(vpc.modify_vpn_connection_attribute, f"IllegalParam.{field}", 400, req)
    assert without_request_id(describe_connection(vpc, vco)) == before


BAD_CONFIGS = [
    ("ike_config", {"IkeEncAlg": "rot13"}),
    ("ike_config", {"IkeAuthAlg": "crc32"}),
    ("ike_config", {"IkePfs": "group99"}),
    ("ike_config", {"IkeVersion": "ikev3"}),
    ("ike_config", {"IkeMode": "sneaky"}),
    ("ike_config", {"IkeLifetime": 86401}),
    ("ike_config", {"IkeLifetime": -1}),
    ("ike_config", {"IkeLifetime": "soon"}),
    ("ike_config", "{not json"),
    ("ipsec_config", {"IpsecEncAlg": "rot13"}),
    ("ipsec_config", {"IpsecAuthAlg": "crc32"}),
    ("ipsec_config", {"IpsecPfs": "group99"}),
    ("ipsec_config", {"IpsecLifetime": 86401}),
    ("ipsec_config", {"IpsecLifetime": -5}),
]
BAD_IDS = [f"{f}-{v if isinstance(v, str) else next(iter(v.items()))}" for f, v in BAD_CONFIGS]


@pytest.mark.parametrize("field, value", BAD_CONFIGS, ids=BAD_IDS)
def test_invalid_config_on_create(vpc3, field, value):
    gw, cgw = create_gateway(vpc3), create_customer_gateway(vpc3)
    text = value if isinstance(value, str) else json.dumps(value)
    req = m.CreateVpnConnectionRequest(
        region_id=REGION,
        vpn_gateway_id=gw,
        customer_gateway_id=cgw,
        local_subnet="10.0.0.0/16",
        remote_subnet="192.168.0.0/24",
        **{field: text},
    )
    expect_error(vpc3.create_vpn_connection, BAD_VALUE, 400, req)
    assert list_connections(vpc3, vpn_gateway_id=gw)["TotalCount"] == 0


@pytest.mark.parametrize("field, value", BAD_CONFIGS[::3], ids=BAD_IDS[::3])
def test_invalid_config_on_modify_changes_nothing(vpc, pair, field, value):
    gw, cgw = pair
    vco = create_connection(vpc, gw, cgw)
    before = without_request_id(describe_connection(vpc, vco))
    text = value if isinstance(value, str) else json.dumps(value)
    req = m.ModifyVpnConnectionAttributeRequest(region_id=REGION, vpn_connection_id=vco, name="no", **{field: text})
    expect_error(vpc.modify_vpn_connection_attribute, BAD_VALUE, 400, req)
    assert without_request_id(describe_connection(vpc, vco)) == before


def test_legacy_create_and_describe(vpc3, legacy):
    gw, cgw = create_gateway(vpc3), create_customer_gateway(vpc3)
    req = LegacyCreate()
    req.set_VpnGatewayId(gw)
    req.set_CustomerGatewayId(cgw)
    req.set_LocalSubnet("10.20.0.0/16")
    req.set_RemoteSubnet("192.168.20.0/24")
    req.set_Name("legacy-vco")
    req.set_IkeConfig(json.dumps({"Psk": "legacy-psk-1", "IkeLifetime": 28800}))
    body = json.loads(legacy.do(req))
    check_response("CreateVpnConnection", body)
    vco = body["VpnConnectionId"]
    wait_connection_settled(vpc3, vco, gw)

    d = LegacyDescribe()
    d.set_VpnConnectionId(vco)
    desc = json.loads(legacy.do(d))
    assert_seed_types(desc)
    assert desc["IkeConfig"]["Psk"] == "legacy-psk-1" and desc["IkeConfig"]["IkeLifetime"] == 28800
    assert desc["Name"] == "legacy-vco"

    d = LegacyDescribe()
    d.set_VpnConnectionId("vco-doesnotexist000000")
    check_error(capture_error(legacy.do, d), NOT_FOUND, 404)


def test_same_peer_twice_on_one_gateway(vpc3):
    """One customer gateway per VPN gateway (spec: InvalidVpnConnection.AlreadyExists)."""
    gw, cgw = create_gateway(vpc3), create_customer_gateway(vpc3)
    create_connection(vpc3, gw, cgw)
    req = m.CreateVpnConnectionRequest(
        region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=cgw, local_subnet="10.3.0.0/16", remote_subnet="192.168.3.0/24"
    )
    expect_error(vpc3.create_vpn_connection, "InvalidVpnConnection.AlreadyExists", 400, req)
    assert list_connections(vpc3, vpn_gateway_id=gw)["TotalCount"] == 1


def test_customer_ip_is_remote_id_for_each_connection(vpc3):
    gw = create_gateway(vpc3)
    ip = new_peer_ip()
    vco = create_connection(vpc3, gw, create_customer_gateway(vpc3, ip=ip))
    assert describe_connection(vpc3, vco)["IkeConfig"]["RemoteId"] == ip
