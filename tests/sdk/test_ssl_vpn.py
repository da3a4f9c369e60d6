"""SSL-VPN through the official SDK: the gateway's EnableSsl side, the SSL server and its client
certificates (every operation, its defaults, its errors, and that a refused call changes nothing),
DescribeSslVpnClients / DescribeVpnSslServerLogs before any data plane, and that private keys are
neither logged nor stored in clear. The data plane (a stock OpenVPN client connecting with what
DescribeSslVpnClientCert hands out) is tests/sdk/test_ssl_vpn_e2e.py."""

from __future__ import annotations

import re
import time

import pytest
from alibabacloud_vpc20160428 import models as m
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from helpers import REGION, capture_error, check_error, create_gateway, describe_gateway, expect_error

VSS_ID = re.compile(r"^vss-[a-z0-9]+$")
VSC_ID = re.compile(r"^vsc-[a-z0-9]+$")
SERVER_NOT_FOUND = "InvalidSslVpnServerId.NotFound"


def ssl_gateway(client, connections: int = 5) -> str:
    return create_gateway(client, enable_ssl=True, ssl_connections=connections)


def create_server(client, gw: str, **kw) -> str:
    kw.setdefault("client_ip_pool", "10.200.0.0/24")
    kw.setdefault("local_subnet", "10.0.0.0/24")
    body = client.create_ssl_vpn_server(m.CreateSslVpnServerRequest(region_id=REGION, vpn_gateway_id=gw, **kw)).body
    assert VSS_ID.match(body.ssl_vpn_server_id), body.ssl_vpn_server_id
    return body.ssl_vpn_server_id


def servers(client, **kw) -> list[dict]:
    body = client.describe_ssl_vpn_servers(m.DescribeSslVpnServersRequest(region_id=REGION, **kw)).body.to_map()
    assert body["TotalCount"] == len(body["SslVpnServers"]["SslVpnServer"]) or "PageSize" in kw
    return body["SslVpnServers"]["SslVpnServer"]


def server(client, vss: str) -> dict:
    (s,) = servers(client, ssl_vpn_server_id=vss)
    return s


def create_cert(client, vss: str, **kw) -> str:
    body = client.create_ssl_vpn_client_cert(
        m.CreateSslVpnClientCertRequest(region_id=REGION, ssl_vpn_server_id=vss, **kw)
    ).body
    assert VSC_ID.match(body.ssl_vpn_client_cert_id), body.ssl_vpn_client_cert_id
    return body.ssl_vpn_client_cert_id


def cert(client, vsc: str) -> dict:
    return client.describe_ssl_vpn_client_cert(
        m.DescribeSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=vsc)
    ).body.to_map()


def certs(client, **kw) -> dict:
    return client.describe_ssl_vpn_client_certs(
        m.DescribeSslVpnClientCertsRequest(region_id=REGION, **kw)
    ).body.to_map()


# ----------------------------------------------------------------------------- gateway side


def test_gateway_with_ssl_has_its_address_and_quota(vpc3):
    gw = ssl_gateway(vpc3, connections=10)
    g = describe_gateway(vpc3, gw)
    assert (g["SslVpn"], g["SslMaxConnections"]) == ("enable", 10)
    assert g["SslVpnInternetIp"] == g["InternetIp"]
    dual = create_gateway(vpc3, enable_ssl=True, disaster_recovery_vswitch_id="vsw-dr1")
    d = describe_gateway(vpc3, dual)
    assert d["SslVpnInternetIp"] not in ("", d["InternetIp"], d["DisasterRecoveryInternetIp"])
    plain = describe_gateway(vpc3, create_gateway(vpc3))
    assert plain["SslVpn"] == "disable" and not plain.get("SslVpnInternetIp")


def test_ssl_connections_without_enable_ssl_is_refused(vpc3):
    req = m.CreateVpnGatewayRequest(region_id=REGION, vpc_id="vpc-x", bandwidth=10, ssl_connections=10)
    expect_error(vpc3.create_vpn_gateway, "UnnecessarySslConnection", 400, req)


def test_no_server_on_a_gateway_without_ssl(vpc3):
    gw = create_gateway(vpc3)
    req = m.CreateSslVpnServerRequest(
        region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.200.0.0/24", local_subnet="10.0.0.0/24"
    )
    expect_error(vpc3.create_ssl_vpn_server, "OperationFailed.SslVpnDisabled", 400, req)
    assert servers(vpc3, vpn_gateway_id=gw) == []


# ------------------------------------------------------------------------------- the server


def test_create_with_defaults_then_describe(vpc):
    gw = ssl_gateway(vpc)
    before = int(time.time() * 1000)
    vss = create_server(vpc, gw, name="office")
    s = server(vpc, vss)
    g = describe_gateway(vpc, gw)
    assert s["VpnGatewayId"] == gw and s["RegionId"] == REGION and s["Name"] == "office"
    # The SDK's defaults: TCP, 1194, AES-128-CBC, no compression.
    assert (s["Proto"], s["Port"], s["Cipher"], s["Compress"]) == ("TCP", 1194, "AES-128-CBC", False)
    assert (s["ClientIpPool"], s["LocalSubnet"]) == ("10.200.0.0/24", "10.0.0.0/24")
    assert s["MaxConnections"] == 5 and s["Connections"] == 0
    assert s["InternetIp"] == g["SslVpnInternetIp"]
    assert s["ResourceGroupId"] == g["ResourceGroupId"]
    assert s["EnableMultiFactorAuth"] is False
    assert before - 5000 <= s["CreateTime"] <= time.time() * 1000 + 5000
    # The answer goes through the SDK's model unchanged.
    body = vpc.describe_ssl_vpn_servers(m.DescribeSslVpnServersRequest(region_id=REGION, vpn_gateway_id=gw)).body
    assert body.ssl_vpn_servers.ssl_vpn_server[0].ssl_vpn_server_id == vss
    # Filters: by gateway, by name, by id list.
    assert [x["SslVpnServerId"] for x in servers(vpc, name="office", vpn_gateway_id=gw)] == [vss]
    assert servers(vpc, name="other", vpn_gateway_id=gw) == []


def test_one_server_per_gateway(vpc3):
    gw = ssl_gateway(vpc3)
    create_server(vpc3, gw)
    req = m.CreateSslVpnServerRequest(
        region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.201.0.0/24", local_subnet="10.1.0.0/24"
    )
    expect_error(vpc3.create_ssl_vpn_server, "QuotaExceeded.SslVpnServer", 400, req)
    assert len(servers(vpc3, vpn_gateway_id=gw)) == 1


@pytest.mark.parametrize(
    "bad, code",
    [
        ({"client_ip_pool": "10.200.0.0/30"}, "IllegalParam.ClientIpPool"),
        ({"client_ip_pool": "100.64.0.0/24"}, "IllegalParam.ClientIpPool"),
        ({"client_ip_pool": "10.200.0.1/24"}, "IllegalParam.ClientIpPool"),
        # 5 connections × 4 addresses do not fit in a /28.
        ({"client_ip_pool": "10.200.0.0/28"}, "IllegalParam.ClientIpPool"),
        ({"local_subnet": "10.200.0.0/16"}, "InvalidParameter.ClientIpPoolOverlapLocalSubnet"),
        ({"local_subnet": "127.0.0.0/8"}, "IllegalParam.LocalSubnet"),
        ({"local_subnet": "10.0.0.0/7"}, "IllegalParam.LocalSubnet"),
        ({"port": 22}, "IllegalParam.Port"),
        ({"port": 70000}, "IllegalParam.Port"),
        ({"proto": "udp"}, "IllegalParam.Proto"),
        ({"cipher": "AES-256-GCM"}, "IllegalParam.Cipher"),
        ({"dns_servers": "8.8.8.8,x"}, "IllegalParam.DnsServers"),
        ({"name": "http://x"}, "InvalidName"),
        ({"enable_multi_factor_auth": True}, "MissingParameter"),
    ],
)
def test_create_refusals_change_nothing(vpc3, bad, code):
    gw = ssl_gateway(vpc3)
    kw = {"client_ip_pool": "10.200.0.0/24", "local_subnet": "10.0.0.0/24", **bad}
    req = m.CreateSslVpnServerRequest(region_id=REGION, vpn_gateway_id=gw, **kw)
    err = capture_error(vpc3.create_ssl_vpn_server, req)
    check_error(err, code, 400)
    assert servers(vpc3, vpn_gateway_id=gw) == []


def test_dry_run_creates_nothing(vpc3):
    gw = ssl_gateway(vpc3)
    req = m.CreateSslVpnServerRequest(
        region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.200.0.0/24", local_subnet="10.0.0.0/24", dry_run=True
    )
    expect_error(vpc3.create_ssl_vpn_server, "DryRunOperation", 400, req)
    assert servers(vpc3, vpn_gateway_id=gw) == []


def test_client_token_is_idempotent(vpc3):
    gw = ssl_gateway(vpc3)
    kw = dict(client_token="tok-ssl-1", client_ip_pool="10.200.0.0/24", local_subnet="10.0.0.0/24")
    assert create_server(vpc3, gw, **kw) == create_server(vpc3, gw, **kw)
    assert len(servers(vpc3, vpn_gateway_id=gw)) == 1


def test_modify_and_its_refusals(vpc3):
    gw = ssl_gateway(vpc3)
    vss = create_server(vpc3, gw, idaa_sinstance_id="idaas-cn-x", idaa_sregion_id=REGION)
    body = vpc3.modify_ssl_vpn_server(
        m.ModifySslVpnServerRequest(
            region_id=REGION,
            ssl_vpn_server_id=vss,
            proto="UDP",
            port=1195,
            cipher="AES-256-CBC",
            compress=True,
            local_subnet="10.0.0.0/24,192.168.7.0/24",
            name="renamed",
            enable_multi_factor_auth=True,
            idaa_sapplication_id="app_1",
            dns_servers="223.5.5.5,8.8.8.8",
        )
    ).body.to_map()
    assert (body["Proto"], body["Port"], body["Cipher"], body["Compress"]) == ("UDP", 1195, "AES-256-CBC", True)
    assert body["LocalSubnet"] == "10.0.0.0/24,192.168.7.0/24" and body["Name"] == "renamed"
    # The SDK's ModifySslVpnServerResponseBody has neither; DescribeSslVpnServers shows both.
    assert "DnsServers" not in body and "IDaaSRegionId" not in body, body
    s = server(vpc3, vss)
    assert s["DnsServers"] == "223.5.5.5,8.8.8.8", s
    assert (s["Proto"], s["Port"], s["IDaaSInstanceId"], s["IDaaSInstanceVersion"]) == (
        "UDP",
        1195,
        "idaas-cn-x",
        "EIAM 2.0",
    )
    for bad, code in [({"port": 443}, "IllegalParam.Port"), ({"client_ip_pool": "10.0.0.0/16"}, "InvalidParameter.ClientIpPoolOverlapLocalSubnet")]:
        req = m.ModifySslVpnServerRequest(region_id=REGION, ssl_vpn_server_id=vss, **bad)
        expect_error(vpc3.modify_ssl_vpn_server, code, 400, req)
    assert server(vpc3, vss) == s
    missing = m.ModifySslVpnServerRequest(region_id=REGION, ssl_vpn_server_id="vss-none", port=1196)
    expect_error(vpc3.modify_ssl_vpn_server, SERVER_NOT_FOUND, 404, missing)


def test_not_found(vpc3):
    expect_error(
        vpc3.delete_ssl_vpn_server,
        SERVER_NOT_FOUND,
        404,
        m.DeleteSslVpnServerRequest(region_id=REGION, ssl_vpn_server_id="vss-none"),
    )
    expect_error(
        vpc3.create_ssl_vpn_client_cert,
        SERVER_NOT_FOUND,
        404,
        m.CreateSslVpnClientCertRequest(region_id=REGION, ssl_vpn_server_id="vss-none"),
    )
    expect_error(
        vpc3.describe_ssl_vpn_client_cert,
        "InvalidInstanceId.NotFound",
        404,
        m.DescribeSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id="vsc-none"),
    )
    for call, req in [
        (vpc3.modify_ssl_vpn_client_cert, m.ModifySslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id="vsc-none", name="x")),
        (vpc3.delete_ssl_vpn_client_cert, m.DeleteSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id="vsc-none")),
    ]:
        expect_error(call, "InvalidSslVpnClientCertId.NotFound", 404, req)
    expect_error(
        vpc3.describe_ssl_vpn_clients,
        "InvalidVpnGatewayInstanceId.NotFound",
        404,
        m.DescribeSslVpnClientsRequest(region_id=REGION, vpn_gateway_id="vpn-none"),
    )
    expect_error(
        vpc3.describe_vpn_ssl_server_logs,
        SERVER_NOT_FOUND,
        404,
        m.DescribeVpnSslServerLogsRequest(region_id=REGION, vpn_ssl_server_id="vss-none", minute_period=5),
    )


# ---------------------------------------------------------------------- client certificates


def test_client_certificate_is_an_openvpn_client_of_the_server(vpc):
    gw = ssl_gateway(vpc)
    vss = create_server(vpc, gw, proto="UDP", port=1195)
    vsc = create_cert(vpc, vss, name="alice")
    c = cert(vpc, vsc)
    g = describe_gateway(vpc, gw)
    assert (c["SslVpnClientCertId"], c["SslVpnServerId"], c["Name"], c["Status"]) == (vsc, vss, "alice", "normal")
    # Three years, as the cloud's client certificates.
    assert abs(c["EndTime"] - c["CreateTime"] - 3 * 365 * 24 * 3600 * 1000) < 1000
    ca = x509.load_pem_x509_certificate(c["CaCert"].encode())
    leaf = x509.load_pem_x509_certificate(c["ClientCert"].encode())
    leaf.verify_directly_issued_by(ca)
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == vsc
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(c["ClientKey"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()
    lines = c["ClientConfig"].splitlines()
    for line in ["client", "dev tun", "proto udp", f"remote {g['SslVpnInternetIp']} 1195", "ca ca.crt", "cert client.crt", "key client.key"]:
        assert line in lines, (line, c["ClientConfig"])
    # Through the SDK model too.
    body = vpc.describe_ssl_vpn_client_cert(
        m.DescribeSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=vsc)
    ).body
    assert body.client_key == c["ClientKey"]


def test_certificates_list_modify_delete(vpc3):
    gw = ssl_gateway(vpc3)
    vss = create_server(vpc3, gw)
    a, b = create_cert(vpc3, vss, name="a"), create_cert(vpc3, vss, name="b")
    listed = certs(vpc3, ssl_vpn_server_id=vss)
    assert listed["TotalCount"] == 2
    keys = listed["SslVpnClientCertKeys"]["SslVpnClientCertKey"]
    assert {k["SslVpnClientCertId"] for k in keys} == {a, b}
    assert all(k["Status"] == "normal" and "ClientKey" not in k for k in keys)
    assert [k["SslVpnClientCertId"] for k in certs(vpc3, ssl_vpn_server_id=vss, name="b")["SslVpnClientCertKeys"]["SslVpnClientCertKey"]] == [b]
    body = vpc3.modify_ssl_vpn_client_cert(
        m.ModifySslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=a, name="renamed")
    ).body.to_map()
    assert (body["SslVpnClientCertId"], body["Name"]) == (a, "renamed")
    expect_error(
        vpc3.modify_ssl_vpn_client_cert,
        "InvalidName",
        400,
        m.ModifySslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=a, name="https://x"),
    )
    assert cert(vpc3, a)["Name"] == "renamed"
    # Distinct serial numbers.
    sa = x509.load_pem_x509_certificate(cert(vpc3, a)["ClientCert"].encode()).serial_number
    sb = x509.load_pem_x509_certificate(cert(vpc3, b)["ClientCert"].encode()).serial_number
    assert sa != sb
    vpc3.delete_ssl_vpn_client_cert(m.DeleteSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=a))
    expect_error(
        vpc3.describe_ssl_vpn_client_cert,
        "InvalidInstanceId.NotFound",
        404,
        m.DescribeSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=a),
    )
    assert certs(vpc3, ssl_vpn_server_id=vss)["TotalCount"] == 1


def test_deletes_gateway_refused_server_cascades(vpc3):
    gw = ssl_gateway(vpc3)
    vss = create_server(vpc3, gw)
    vsc = create_cert(vpc3, vss)
    expect_error(
        vpc3.delete_vpn_gateway,
        "DependencyViolation.SslVpnServer",
        400,
        m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw),
    )
    vpc3.delete_ssl_vpn_server(m.DeleteSslVpnServerRequest(region_id=REGION, ssl_vpn_server_id=vss))
    assert servers(vpc3, vpn_gateway_id=gw) == []
    # The server's certificates went with it (the cloud's reference).
    assert certs(vpc3, ssl_vpn_client_cert_id=vsc)["TotalCount"] == 0
    vpc3.delete_vpn_gateway(m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))


def test_clients_and_logs_before_any_data_plane(vpc3):
    gw = ssl_gateway(vpc3)
    body = vpc3.describe_ssl_vpn_clients(m.DescribeSslVpnClientsRequest(region_id=REGION, vpn_gateway_id=gw)).body.to_map()
    assert (body["VpnGatewayId"], body["TotalCount"], body.get("ClientInfoList", [])) == (gw, 0, [])
    vss = create_server(vpc3, gw)
    logs = vpc3.describe_vpn_ssl_server_logs(
        m.DescribeVpnSslServerLogsRequest(region_id=REGION, vpn_ssl_server_id=vss, minute_period=5)
    ).body.to_map()
    assert logs["Count"] == 0 and logs["IsCompleted"] is True


def test_private_keys_are_neither_logged_nor_stored_in_clear(server, vpc3):
    gw = ssl_gateway(vpc3)
    vss = create_server(vpc3, gw)
    key = cert(vpc3, create_cert(vpc3, vss))["ClientKey"]
    body = key.splitlines()[1]
    assert "PRIVATE KEY" in key and len(body) > 20
    assert body not in server.log_tail(100000)
    for f in server.data_dir.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"PRIVATE KEY" not in data and body.encode() not in data, f
