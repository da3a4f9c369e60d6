"""IPsec server (client-to-site, #15) through the official SDK: CreateIpsecServer,
UpdateIpsecServer, DeleteIpsecServer, ListIpsecServers, ListIpsecServerLogs — defaults, every
parameter echoed, every refusal with its code and HTTP status and nothing changed after it,
ClientToken, DryRun, the blocks the SSL server of the same gateway uses, the Terraform form of
ListIpsecServers' `IpsecServerId` (authorized like the SDK's), and the PSK sealed at rest. The
data plane (road warriors dialling in) is tests/sdk/test_ipsec_server_e2e.py."""

from __future__ import annotations

import json
import re

import pytest
from alibabacloud_vpc20160428 import models as m

import ram_helpers as rh
from signing import RawClient
from helpers import REGION, capture_error, check_error, create_gateway, describe_gateway, expect_error

ISS_ID = re.compile(r"^iss-[a-z0-9]+$")
NOT_FOUND = "InvalidIpsecServerId.NotFound"


def ssl_gateway(client, connections: int = 5) -> str:
    return create_gateway(client, enable_ssl=True, ssl_connections=connections)


def create(client, gw: str, **kw) -> str:
    kw.setdefault("client_ip_pool", "10.100.0.0/24")
    kw.setdefault("local_subnet", "10.0.0.0/24")
    body = client.create_ipsec_server(m.CreateIpsecServerRequest(region_id=REGION, vpn_gateway_id=gw, **kw)).body
    assert ISS_ID.match(body.ipsec_server_id), body.ipsec_server_id
    return body.ipsec_server_id


def listed(client, **kw) -> list[dict]:
    body = client.list_ipsec_servers(m.ListIpsecServersRequest(region_id=REGION, **kw)).body.to_map()
    return body.get("IpsecServers", [])


def server(client, iss: str) -> dict:
    (s,) = listed(client, ipsec_server_id=[iss])
    return s


def update(client, iss: str, **kw):
    return client.update_ipsec_server(m.UpdateIpsecServerRequest(region_id=REGION, ipsec_server_id=iss, **kw))


# ------------------------------------------------------------------------------------ create


def test_create_with_defaults_then_list(vpc):
    gw = ssl_gateway(vpc, connections=10)
    body = vpc.create_ipsec_server(
        m.CreateIpsecServerRequest(
            region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.100.0.0/24", local_subnet="10.0.0.0/24"
        )
    ).body.to_map()
    iss = body["IpsecServerId"]
    assert (body["VpnGatewayId"], body["RegionId"]) == (gw, REGION)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["CreationTime"]), body
    s = server(vpc, iss)
    g = describe_gateway(vpc, gw)
    assert (s["ClientIpPool"], s["LocalSubnet"], s["VpnGatewayId"], s["RegionId"]) == (
        "10.100.0.0/24",
        "10.0.0.0/24",
        gw,
        REGION,
    )
    assert s["CreationTime"] == body["CreationTime"]
    # The server's documented defaults: IKEv2, main, aes, sha1, group2, 86400 s, LocalId the
    # gateway's public address, RemoteId empty (any client), a generated 16-character key.
    assert s["IkeConfig"] == {
        "IkeVersion": "ikev2",
        "IkeMode": "main",
        "IkeEncAlg": "aes",
        "IkeAuthAlg": "sha1",
        "IkePfs": "group2",
        "IkeLifetime": 86400,
        "LocalId": g["InternetIp"],
        "RemoteId": "",
    }
    assert s["IpsecConfig"] == {
        "IpsecEncAlg": "aes",
        "IpsecAuthAlg": "sha1",
        "IpsecPfs": "group2",
        "IpsecLifetime": 86400,
    }
    assert re.fullmatch(r"[A-Za-z0-9]{16}", s["Psk"]) and s["PskEnabled"] is True
    # MaxConnections is the gateway's SslMaxConnections (shared with the SSL server).
    assert s["MaxConnections"] == g["SslMaxConnections"] == 10
    assert s["InternetIp"] == g["InternetIp"] and s["OnlineClientCount"] == 0
    assert s["EffectImmediately"] is False and s["IpsecServerName"] == ""
    assert s["MultiFactorAuthEnabled"] is False and s["IDaaSInstanceId"] == ""
    assert s["ResourceGroupId"] == g["ResourceGroupId"]
    # Filters: gateway, name, ids; an unknown id lists nothing (what Terraform's read expects).
    assert [x["IpsecServerId"] for x in listed(vpc, vpn_gateway_id=gw)] == [iss]
    assert listed(vpc, ipsec_server_id=["iss-doesnotexist0000"]) == []


def test_every_parameter_is_kept(vpc3):
    gw = ssl_gateway(vpc3)
    ike = {"IkeVersion": "ikev1", "IkeMode": "aggressive", "IkeEncAlg": "aes256", "IkeAuthAlg": "sha256",
           "IkePfs": "group14", "IkeLifetime": 3600, "LocalId": "vpn.example.com", "RemoteId": "laptops@example"}
    ipsec = {"IpsecEncAlg": "aes192", "IpsecAuthAlg": "sha512", "IpsecPfs": "disabled", "IpsecLifetime": 1800}
    iss = create(
        vpc3,
        gw,
        ip_sec_server_name="road-warriors",
        client_ip_pool="10.100.8.0/22",
        local_subnet="10.0.0.0/24,192.168.10.0/24",
        ike_config=json.dumps(ike),
        ipsec_config=json.dumps(ipsec),
        psk="s3cret+/=Key",
        psk_enabled=True,
        effect_immediately=True,
    )
    s = server(vpc3, iss)
    assert s["IpsecServerName"] == "road-warriors"
    assert (s["ClientIpPool"], s["LocalSubnet"]) == ("10.100.8.0/22", "10.0.0.0/24,192.168.10.0/24")
    assert s["IkeConfig"] == ike and s["IpsecConfig"] == ipsec
    assert (s["Psk"], s["PskEnabled"], s["EffectImmediately"]) == ("s3cret+/=Key", True, True)
    assert [x["IpsecServerId"] for x in listed(vpc3, ipsec_server_name="road-warriors", vpn_gateway_id=gw)] == [iss]
    assert listed(vpc3, ipsec_server_name="other", vpn_gateway_id=gw) == []


def test_terraforms_null_and_empty_values_take_the_defaults(vpc3):
    """alicloud_vpn_ipsec_server builds IpsecConfig from keys its schema lacks (all null) and an
    ike_config block sends "" / 0 for the fields it leaves out."""
    gw = ssl_gateway(vpc3)
    ike = {"IkeVersion": "", "IkeMode": "", "IkeEncAlg": "aes256", "IkeAuthAlg": "", "IkePfs": "",
           "IkeLifetime": 0, "LocalId": "", "RemoteId": ""}
    ipsec = {"IpsecEncAlg": None, "IpsecAuthAlg": None, "IpsecPfs": None, "IpsecLifetime": None}
    iss = create(vpc3, gw, ike_config=json.dumps(ike), ipsec_config=json.dumps(ipsec))
    s = server(vpc3, iss)
    assert (s["IkeConfig"]["IkeVersion"], s["IkeConfig"]["IkeEncAlg"], s["IkeConfig"]["IkeLifetime"]) == (
        "ikev2",
        "aes256",
        86400,
    )
    assert s["IpsecConfig"]["IpsecEncAlg"] == "aes" and s["IpsecConfig"]["IpsecLifetime"] == 86400


def test_no_server_on_a_gateway_without_ssl(vpc3):
    gw = create_gateway(vpc3)
    req = m.CreateIpsecServerRequest(
        region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.100.0.0/24", local_subnet="10.0.0.0/24"
    )
    expect_error(vpc3.create_ipsec_server, "OperationFailed.SslVpnDisabled", 400, req)
    assert listed(vpc3, vpn_gateway_id=gw) == []


def test_unknown_gateway_is_not_found(vpc3):
    req = m.CreateIpsecServerRequest(
        region_id=REGION, vpn_gateway_id="vpn-doesnotexist000", client_ip_pool="10.100.0.0/24", local_subnet="10.0.0.0/24"
    )
    expect_error(vpc3.create_ipsec_server, "InvalidVpnGatewayInstanceId.NotFound", 404, req)


def test_one_server_per_gateway(vpc3):
    gw = ssl_gateway(vpc3)
    create(vpc3, gw)
    req = m.CreateIpsecServerRequest(
        region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.101.0.0/24", local_subnet="10.1.0.0/24"
    )
    expect_error(vpc3.create_ipsec_server, "QuotaExceeded.IpsecServer", 400, req)
    assert len(listed(vpc3, vpn_gateway_id=gw)) == 1


BAD_CREATES = [
    ({"client_ip_pool": "10.100.0.0/30"}, "IllegalParam.ClientIpPool"),
    ({"client_ip_pool": "10.100.0.0/15"}, "IllegalParam.ClientIpPool"),
    ({"client_ip_pool": "100.64.0.0/24"}, "IllegalParam.ClientIpPool"),
    ({"client_ip_pool": "10.100.0.1/24"}, "IllegalParam.ClientIpPool"),
    ({"client_ip_pool": "not-a-cidr"}, "IllegalParam.ClientIpPool"),
    ({"local_subnet": "10.100.0.0/16"}, "InvalidParameter.ClientIpPoolOverlapLocalSubnet"),
    ({"local_subnet": "127.0.0.0/8"}, "IllegalParam.LocalSubnet"),
    ({"local_subnet": "10.0.0.0/7"}, "IllegalParam.LocalSubnet"),
    ({"local_subnet": ",".join(f"10.{i}.0.0/24" for i in range(6))}, "InvalidParameter"),
    ({"ip_sec_server_name": "http://x"}, "InvalidName"),
    ({"ip_sec_server_name": "x" * 101}, "InvalidName"),
    ({"psk": "with space"}, "InvalidParameter"),
    ({"psk": "k" * 101}, "InvalidParameter"),
    ({"psk_enabled": False}, "IllegalParam.PskEnabled"),
    ({"ike_config": "not json"}, "InvalidParameter"),
    ({"ike_config": '{"IkeVersion":"ikev3"}'}, "InvalidParameter"),
    ({"ike_config": '{"IkeLifetime":86401}'}, "InvalidParameter"),
    ({"ipsec_config": '{"IpsecPfs":"group99"}'}, "InvalidParameter"),
    ({"dry_run": "maybe"}, "InvalidParameter"),
]


@pytest.mark.parametrize("bad, code", BAD_CREATES, ids=[f"{next(iter(b))}-{i}" for i, (b, _) in enumerate(BAD_CREATES)])
def test_create_refusals_change_nothing(vpc3, bad, code):
    gw = ssl_gateway(vpc3)
    kw = {"client_ip_pool": "10.100.0.0/24", "local_subnet": "10.0.0.0/24", **bad}
    req = m.CreateIpsecServerRequest(region_id=REGION, vpn_gateway_id=gw, **kw)
    check_error(capture_error(vpc3.create_ipsec_server, req), code, 400)
    assert listed(vpc3, vpn_gateway_id=gw) == []


def test_required_parameters(raw):
    gw = ssl_gateway_raw(raw)
    for missing in ("ClientIpPool", "LocalSubnet", "VpnGatewayId"):
        params = {"RegionId": REGION, "VpnGatewayId": gw, "ClientIpPool": "10.100.0.0/24", "LocalSubnet": "10.0.0.0/24"}
        del params[missing]
        resp = raw.v1("CreateIpsecServer", params)
        assert resp.status == 400 and resp.json()["Code"] == "MissingParameter", (missing, resp.json())
        assert missing in resp.json()["Message"]


def ssl_gateway_raw(raw) -> str:
    resp = raw.v1(
        "CreateVpnGateway",
        {"RegionId": REGION, "VpcId": "vpc-ipsecraw", "Bandwidth": "10", "EnableSsl": "true", "SslConnections": "5"},
    )
    assert resp.status == 200, resp.json()
    return resp.json()["VpnGatewayId"]


def test_the_ssl_servers_blocks_are_refused(vpc3):
    gw = ssl_gateway(vpc3)
    vpc3.create_ssl_vpn_server(
        m.CreateSslVpnServerRequest(
            region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.200.0.0/24", local_subnet="192.168.0.0/16"
        )
    )
    for kw, code, block in [
        ({"client_ip_pool": "10.200.0.0/25"}, "IllegalParam.ClientIpPool", "10.200.0.0/24"),
        ({"client_ip_pool": "192.168.7.0/24"}, "IllegalParam.ClientIpPool", "192.168.0.0/16"),
        ({"local_subnet": "10.0.0.0/24,10.200.0.128/25"}, "IllegalParam.LocalSubnet", "10.200.0.0/24"),
    ]:
        args = {"client_ip_pool": "10.100.0.0/24", "local_subnet": "10.0.0.0/24", **kw}
        req = m.CreateIpsecServerRequest(region_id=REGION, vpn_gateway_id=gw, **args)
        expect_error(vpc3.create_ipsec_server, code, 400, req, message_contains=block)
    assert listed(vpc3, vpn_gateway_id=gw) == []
    # Sharing the SSL server's local networks is fine.
    iss = create(vpc3, gw, local_subnet="192.168.1.0/24")
    # And an update into the SSL server's pool is refused, changing nothing.
    before = server(vpc3, iss)
    expect_error(update, "IllegalParam.ClientIpPool", 400, vpc3, iss, client_ip_pool="10.200.0.0/24")
    assert server(vpc3, iss) == before


def test_dry_run_changes_nothing(vpc3):
    gw = ssl_gateway(vpc3)
    req = m.CreateIpsecServerRequest(
        region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.100.0.0/24", local_subnet="10.0.0.0/24", dry_run="true"
    )
    expect_error(vpc3.create_ipsec_server, "DryRunOperation", 400, req)
    assert listed(vpc3, vpn_gateway_id=gw) == []
    iss = create(vpc3, gw, dry_run="false")
    before = server(vpc3, iss)
    expect_error(update, "DryRunOperation", 400, vpc3, iss, ipsec_server_name="dry", dry_run="true")
    # A dry run still checks: a bad value is its own error, not DryRunOperation.
    expect_error(update, "IllegalParam.ClientIpPool", 400, vpc3, iss, client_ip_pool="x", dry_run="true")
    delete = m.DeleteIpsecServerRequest(region_id=REGION, ipsec_server_id=iss, dry_run="true")
    expect_error(vpc3.delete_ipsec_server, "DryRunOperation", 400, delete)
    assert server(vpc3, iss) == before


def test_client_token_is_idempotent(vpc3):
    gw = ssl_gateway(vpc3)
    kw = dict(client_token="tok-iss-1", client_ip_pool="10.100.0.0/24", local_subnet="10.0.0.0/24")
    first = create(vpc3, gw, **kw)
    assert create(vpc3, gw, **kw) == first
    assert len(listed(vpc3, vpn_gateway_id=gw)) == 1
    other = m.CreateIpsecServerRequest(
        region_id=REGION, vpn_gateway_id=gw, client_token="tok-iss-1", client_ip_pool="10.101.0.0/24",
        local_subnet="10.0.0.0/24",
    )
    expect_error(vpc3.create_ipsec_server, "IdempotentParameterMismatch", 400, other)


# ------------------------------------------------------------------------------------ update


def test_update_changes_what_it_is_given_and_keeps_the_rest(vpc3):
    gw = ssl_gateway(vpc3)
    iss = create(vpc3, gw, psk="first-key", ike_config=json.dumps({"IkeEncAlg": "aes256", "RemoteId": "rw@lab"}))
    update(vpc3, iss, ipsec_server_name="renamed")
    s = server(vpc3, iss)
    assert s["IpsecServerName"] == "renamed" and s["Psk"] == "first-key"
    update(
        vpc3,
        iss,
        client_ip_pool="10.102.0.0/23",
        local_subnet="172.16.0.0/16",
        ike_config=json.dumps({"IkeAuthAlg": "sha256"}),
        ipsec_config=json.dumps({"IpsecPfs": "group5"}),
        psk="second-key",
        psk_enabled=True,
        effect_immediately=True,
    )
    s = server(vpc3, iss)
    assert (s["ClientIpPool"], s["LocalSubnet"], s["Psk"], s["EffectImmediately"]) == (
        "10.102.0.0/23",
        "172.16.0.0/16",
        "second-key",
        True,
    )
    # One IkeConfig key changes; the others stay as they were.
    assert (s["IkeConfig"]["IkeAuthAlg"], s["IkeConfig"]["IkeEncAlg"], s["IkeConfig"]["RemoteId"]) == (
        "sha256",
        "aes256",
        "rw@lab",
    )
    assert s["IpsecConfig"]["IpsecPfs"] == "group5" and s["IpsecServerName"] == "renamed"


BAD_UPDATES = [
    ({"client_ip_pool": "10.100.0.0/30"}, "IllegalParam.ClientIpPool"),
    ({"local_subnet": "10.100.0.0/25"}, "InvalidParameter.ClientIpPoolOverlapLocalSubnet"),
    ({"local_subnet": "224.0.0.0/8"}, "IllegalParam.LocalSubnet"),
    ({"ipsec_server_name": "https://x"}, "InvalidName"),
    ({"psk": "k" * 101}, "InvalidParameter"),
    ({"psk_enabled": False}, "IllegalParam.PskEnabled"),
    ({"ike_config": "[]"}, "InvalidParameter"),
    ({"ipsec_config": '{"IpsecLifetime":-1}'}, "InvalidParameter"),
]


def test_update_refusals_change_nothing(vpc3):
    gw = ssl_gateway(vpc3)
    iss = create(vpc3, gw)
    before = server(vpc3, iss)
    for kw, code in BAD_UPDATES:
        err = capture_error(update, vpc3, iss, **kw)
        check_error(err, code, 400)
        assert server(vpc3, iss) == before, kw


def test_unknown_server_is_not_found_everywhere(vpc3):
    missing = "iss-doesnotexist0000"
    expect_error(update, NOT_FOUND, 404, vpc3, missing, ipsec_server_name="x")
    delete = m.DeleteIpsecServerRequest(region_id=REGION, ipsec_server_id=missing)
    expect_error(vpc3.delete_ipsec_server, NOT_FOUND, 404, delete)
    logs = m.ListIpsecServerLogsRequest(region_id=REGION, ipsec_server_id=missing, minute_period=5)
    expect_error(vpc3.list_ipsec_server_logs, NOT_FOUND, 404, logs)


# ------------------------------------------------------------------------------------ delete


def test_delete_and_the_gateway_that_holds_it(vpc3):
    gw = ssl_gateway(vpc3)
    iss = create(vpc3, gw)
    # The gateway cannot go while its server exists.
    err = capture_error(vpc3.delete_vpn_gateway, m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    assert err.status == 400, err
    assert server(vpc3, iss)["IpsecServerId"] == iss
    vpc3.delete_ipsec_server(m.DeleteIpsecServerRequest(region_id=REGION, ipsec_server_id=iss))
    assert listed(vpc3, vpn_gateway_id=gw) == []
    # A new one may be created once the old one is gone.
    create(vpc3, gw)


# ------------------------------------------------------------------------------------ list


def test_pages_of_list(vpc3):
    ids = []
    gws = []
    for _ in range(3):
        gw = ssl_gateway(vpc3)
        gws.append(gw)
        ids.append(create(vpc3, gw, ip_sec_server_name="paged-ipsec"))
    seen, token = [], None
    while True:
        body = vpc3.list_ipsec_servers(
            m.ListIpsecServersRequest(region_id=REGION, ipsec_server_name="paged-ipsec", max_results=2, next_token=token)
        ).body.to_map()
        assert body["MaxResults"] == 2 and len(body["IpsecServers"]) <= 2
        seen += [s["IpsecServerId"] for s in body["IpsecServers"]]
        token = body.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(ids) and body["TotalCount"] >= 3
    for bad in (0, -1):
        req = m.ListIpsecServersRequest(region_id=REGION, max_results=bad)
        expect_error(vpc3.list_ipsec_servers, "InvalidParameter", 400, req, message_contains="MaxResults")
    # More than the documented 20 (Terraform's data source sends 50) is served as pages of 20.
    body = vpc3.list_ipsec_servers(m.ListIpsecServersRequest(region_id=REGION, max_results=50)).body.to_map()
    assert body["MaxResults"] == 20 and len(body["IpsecServers"]) <= 20
    req = m.ListIpsecServersRequest(region_id=REGION, next_token="not-a-token")
    expect_error(vpc3.list_ipsec_servers, "InvalidParameter", 400, req, message_contains="NextToken")


def test_terraforms_json_list_form_of_the_id(server, raw, vpc3):
    """terraform-provider-alicloud's read sends IpsecServerId as a JSON list string."""
    gw = ssl_gateway(vpc3)
    iss = create(vpc3, gw)
    resp = raw.v1("ListIpsecServers", {"RegionId": REGION, "IpsecServerId": json.dumps([iss])})
    assert resp.status == 200, resp.json()
    assert [s["IpsecServerId"] for s in resp.json()["IpsecServers"]] == [iss]
    resp = raw.v1("ListIpsecServers", {"RegionId": REGION, "IpsecServerId": '["iss-doesnotexist0000"]'})
    assert resp.json()["IpsecServers"] == []
    resp = raw.v1("ListIpsecServers", {"RegionId": REGION, "IpsecServerId": "[1]"})
    assert (resp.status, resp.json()["Code"]) == (400, "InvalidParameter")
    # The ids in that form are authorized like IpsecServerId.N: a user denied this server is
    # refused in either form.
    root = rh.ram(server)
    user, cred = rh.create_user_with_key(root)
    account = rh.account_id(server, rh.Cred.root(server))
    policy = rh.create_policy(
        root,
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "vpc:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "vpc:*", "Resource": f"acs:vpc:{REGION}:{account}:ipsecserver/{iss}"},
            ],
        },
    )
    rh.attach_user(root, user, policy, "Custom")
    as_user = RawClient(raw.host, raw.port, cred.key_id, cred.secret)
    for params in ({"IpsecServerId": json.dumps([iss])}, {"IpsecServerId.1": iss}):
        resp = as_user.v1("ListIpsecServers", {"RegionId": REGION, **params})
        assert (resp.status, resp.json()["Code"]) == (403, "Forbidden.RAM"), params
    ok = as_user.v1("ListIpsecServers", {"RegionId": REGION, "VpnGatewayId": gw})
    assert ok.status == 200, ok.json()


# ------------------------------------------------------------------------------------ logs


def test_logs_before_any_data_plane_and_their_window(vpc3):
    gw = ssl_gateway(vpc3)
    iss = create(vpc3, gw)
    body = vpc3.list_ipsec_server_logs(
        m.ListIpsecServerLogsRequest(region_id=REGION, ipsec_server_id=iss, minute_period=5)
    ).body.to_map()
    assert (body["Count"], body["IsCompleted"], body["PageNumber"], body["PageSize"]) == (0, True, 1, 10)
    assert body.get("Data", []) == []
    for kw, code in [
        ({"minute_period": 11}, "InvalidParameter"),
        ({"from_": 1671003744}, "MissingParameter"),
        ({}, "MissingParameter"),
        ({"minute_period": 5, "page_size": 51}, "InvalidParameter"),
    ]:
        req = m.ListIpsecServerLogsRequest(region_id=REGION, ipsec_server_id=iss, **kw)
        expect_error(vpc3.list_ipsec_server_logs, code, 400, req)


# ------------------------------------------------------------------------------------ secrets


def test_the_psk_is_neither_logged_nor_stored_in_clear(server, vpc3):
    gw = ssl_gateway(vpc3)
    key = "Ipsec-Server-Key-" + "Q7x9Lw2pZ"
    iss = create(vpc3, gw, psk=key)
    update(vpc3, iss, ipsec_server_name="sealed")
    assert server_psk(vpc3, iss) == key
    assert key not in server.log_tail(100000)
    for f in server.data_dir.rglob("*"):
        if f.is_file():
            assert key.encode() not in f.read_bytes(), f


def server_psk(client, iss: str) -> str:
    return server(client, iss)["Psk"]
