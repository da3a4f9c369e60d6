"""The operations around a connection, through the official SDK: DownloadVpnConnectionConfig
(the peer's side), DescribeVpnConnectionLogs (the event log), DiagnoseVpnConnections,
DiagnoseVpnGateway + GetVpnGatewayDiagnoseResult (checks of the stored configuration),
CheckVpnBgpEnabled and DescribeVpnGatewayAvailableZones."""

from __future__ import annotations

import json
import re
import time

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import (
    OTHER_REGION,
    REGION,
    check_response,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    describe_customer_gateway,
    describe_gateway,
    expect_error,
    retrying,
    wait_connection_settled,
)
from test_dual_tunnel import create_dual, create_dual_gateway, tunnels_of

NO_CONNECTION = "vco-bp1doesnotexist000000"


@pytest.fixture
def single(vpc):
    gw = create_gateway(vpc)
    cgw = create_customer_gateway(vpc)
    vco = create_connection(
        vpc, gw, cgw, ike_config='{"IkeVersion":"ikev2","IkeEncAlg":"aes256","Psk":"Single-Psk-1"}'
    )
    return gw, cgw, vco


@pytest.fixture
def dual_connection(vpc):
    gw = create_dual_gateway(vpc)
    cgws = [create_customer_gateway(vpc, asn=str(asn)) for asn in (65011, 65012)]
    return gw, cgws, create_dual(vpc, gw, cgws)


def download(client, vco: str) -> dict:
    req = m.DownloadVpnConnectionConfigRequest(region_id=REGION, vpn_connection_id=vco)
    body = client.download_vpn_connection_config(req).body.to_map()
    check_response("DownloadVpnConnectionConfig", body)
    return body["VpnConnectionConfig"]


# ------------------------------------------------------------------ DownloadVpnConnectionConfig


def test_download_single_is_the_peers_view(vpc, single):
    gw, cgw, vco = single
    conn = describe_connection(vpc, vco)
    cfg = download(vpc, vco)
    assert cfg["Local"] == describe_customer_gateway(vpc, cgw)["IpAddress"]
    assert cfg["Remote"] == describe_gateway(vpc, gw)["InternetIp"]
    assert (cfg["LocalSubnet"], cfg["RemoteSubnet"]) == (conn["RemoteSubnet"], conn["LocalSubnet"])
    ike = cfg["IkeConfig"]
    assert (ike["LocalId"], ike["RemoteId"]) == (conn["IkeConfig"]["RemoteId"], conn["IkeConfig"]["LocalId"])
    assert ike["Psk"] == "Single-Psk-1"
    assert (ike["IkeVersion"], ike["IkeEncAlg"], ike["IkeLifetime"]) == ("ikev2", "aes256", 86400)
    assert cfg["IpsecConfig"] == conn["IpsecConfig"]
    assert "TunnelsConfig" not in cfg


def test_download_dual_has_one_config_per_tunnel(vpc, dual_connection):
    gw, cgws, vco = dual_connection
    g = describe_gateway(vpc, gw)
    tunnels = tunnels_of(describe_connection(vpc, vco))
    cfg = download(vpc, vco)
    per_tunnel = cfg["TunnelsConfig"]["TunnelConfig"]
    assert [t["TunnelId"] for t in per_tunnel] == [t["TunnelId"] for t in tunnels]
    assert [t["Remote"] for t in per_tunnel] == [g["InternetIp"], g["DisasterRecoveryInternetIp"]]
    assert [t["Local"] for t in per_tunnel] == [describe_customer_gateway(vpc, c)["IpAddress"] for c in cgws]
    assert [t["IkeConfig"]["Psk"] for t in per_tunnel] == [t["TunnelIkeConfig"]["Psk"] for t in tunnels]
    assert per_tunnel[0]["IkeConfig"]["IkeLifetime"] == 3600  # an integer here
    bgp = cfg["BgpConfigs"]["BgpConfig"]
    assert (bgp[0]["LocalAsn"], bgp[0]["PeerAsn"]) == ("65011", "65100")
    assert (bgp[0]["LocalBgpIp"], bgp[0]["PeerBgpIp"]) == ("169.254.10.2", "169.254.10.1")
    assert bgp[1]["TunnelId"] == tunnels[1]["TunnelId"]
    # The SDK's typed model reads it.
    typed = vpc.download_vpn_connection_config(
        m.DownloadVpnConnectionConfigRequest(region_id=REGION, vpn_connection_id=vco)
    ).body
    assert typed.vpn_connection_config.tunnels_config.tunnel_config[1].remote == g["DisasterRecoveryInternetIp"]


def test_download_unknown_connection(vpc):
    expect_error(
        vpc.download_vpn_connection_config, "InvalidVpnConnectionInstanceId.NotFound", 404,
        m.DownloadVpnConnectionConfigRequest(region_id=REGION, vpn_connection_id=NO_CONNECTION),
    )


# ---------------------------------------------------------------- DescribeVpnConnectionLogs


def logs(client, vco, **kw) -> dict:
    kw.setdefault("minute_period", 10)
    req = m.DescribeVpnConnectionLogsRequest(region_id=REGION, vpn_connection_id=vco, **kw)
    body = client.describe_vpn_connection_logs(req).body.to_map()
    check_response("DescribeVpnConnectionLogs", body)
    return body


LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (vco|tun)-[a-z0-9]+ \[(api|dataplane)\] .+$")


def test_logs_record_changes(vpc, single):
    gw, _, vco = single
    retrying(
        vpc.modify_vpn_connection_attribute,
        m.ModifyVpnConnectionAttributeRequest(
            region_id=REGION, vpn_connection_id=vco, name="renamed", ipsec_config='{"IpsecPfs":"group14"}'
        ),
    )
    wait_connection_settled(vpc, vco, gw)
    body = logs(vpc, vco)
    lines = body["Data"]["Logs"]
    assert body["Count"] == len(lines) == 2, lines
    assert body["IsCompleted"] is True
    assert all(LINE.match(line) for line in lines), lines
    assert "connection created" in lines[0] and vco in lines[0]
    assert "Name (empty) -> renamed" in lines[1], lines[1]
    assert "IpsecConfig.IpsecPfs group2 -> group14" in lines[1]
    assert not any("Single-Psk-1" in line for line in lines), "no secret in a log"
    # Paging and windows.
    second = logs(vpc, vco, page_size=1, page_number=2)
    assert (second["Count"], second["Data"]["Logs"]) == (1, lines[1:])
    now = int(time.time())
    assert logs(vpc, vco, minute_period=None, from_=now - 300, to=now + 60)["Count"] == 2
    assert logs(vpc, vco, minute_period=None, from_=1_000_000_000, to=1_000_000_600)["Count"] == 0
    assert logs(vpc, vco, minute_period=5, to=now + 60)["Count"] == 2


def test_logs_of_one_tunnel(vpc, dual_connection):
    gw, _, vco = dual_connection
    master, slave = tunnels_of(describe_connection(vpc, vco))
    retrying(
        vpc.modify_tunnel_attribute,
        m.ModifyTunnelAttributeRequest(
            region_id=REGION, vpn_connection_id=vco, tunnel_id=slave["TunnelId"],
            tunnel_options_specification=m.ModifyTunnelAttributeRequestTunnelOptionsSpecification(enable_dpd=False),
        ),
    )
    wait_connection_settled(vpc, vco, gw)
    all_lines = logs(vpc, vco)["Data"]["Logs"]
    assert len(all_lines) == 4, all_lines  # connection, two tunnels, one change
    slave_lines = logs(vpc, vco, tunnel_id=slave["TunnelId"])["Data"]["Logs"]
    assert len(slave_lines) == 3, slave_lines
    assert "EnableDpd true -> false" in slave_lines[-1]
    assert not any(master["TunnelId"] in line for line in slave_lines)


def test_logs_errors(vpc, single):
    _, _, vco = single

    def call(**kw):
        return vpc.describe_vpn_connection_logs(
            m.DescribeVpnConnectionLogsRequest(region_id=REGION, vpn_connection_id=vco, **kw)
        )

    expect_error(call, "MissingParameter", 400, message_contains="MinutePeriod")
    expect_error(call, "MissingParameter", 400, from_=1_000_000_000, message_contains="To")
    expect_error(call, "InvalidParameter", 400, minute_period=11, message_contains="MinutePeriod")
    expect_error(call, "InvalidParameter", 400, from_=1_000_000_600, to=1_000_000_000)
    expect_error(call, "InvalidParameter", 400, minute_period=1, page_size=51, message_contains="PageSize")
    expect_error(call, "InvalidTunnelId.NotFound", 404, minute_period=1, tunnel_id="tun-doesnotexist00000")
    expect_error(
        vpc.describe_vpn_connection_logs, "InvalidVpnConnectionInstanceId.NotFound", 404,
        m.DescribeVpnConnectionLogsRequest(region_id=REGION, vpn_connection_id=NO_CONNECTION, minute_period=1),
    )


# ------------------------------------------------------------------------------ diagnoses


def diagnose_connections(client, **kw) -> dict:
    body = client.diagnose_vpn_connections(m.DiagnoseVpnConnectionsRequest(region_id=REGION, **kw)).body.to_map()
    check_response("DiagnoseVpnConnections", body)
    return body


def test_diagnose_connections_finds_problems(vpc):
    gw = create_gateway(vpc)
    cgw = create_customer_gateway(vpc)
    vco = create_connection(
        vpc, gw, cgw, ike_config='{"IkeEncAlg":"sm4","IkeMode":"aggressive"}', ipsec_config='{"IpsecAuthAlg":"sm3"}'
    )
    body = diagnose_connections(vpc, vpn_connection_ids=[vco])
    entries = body["VpnConnections"]
    codes = [e["FailedReasonCode"] for e in entries]
    assert codes.count("UnsupportedAlgorithm") == 2, codes
    assert "AggressiveMode" in codes and "NegotiationNotEstablished" in codes
    # Test peers live in 172.24.0.0/13, which the internet cannot reach.
    assert "CustomerGatewayIpNotPublic" in codes
    assert entries[0]["Severity"] == "Critical"
    assert {e["VpnConnectionId"] for e in entries} == {vco}
    sm4 = next(e for e in entries if e["MismatchLocalParam"] == "IkeEncAlg=sm4")
    assert "strongSwan" in sm4["FailedReason"]
    assert "connection created" in sm4["SourceLog"]
    assert isinstance(sm4["FailedTime"], int)
    assert body["TotalCount"] == len(entries)
    # The same by gateway, and paged.
    page = diagnose_connections(vpc, vpn_gateway_id=gw, page_size=2, page_number=2)
    assert page["TotalCount"] == body["TotalCount"] and len(page["VpnConnections"]) == 2


def test_diagnose_one_tunnel(vpc, dual_connection):
    _, _, vco = dual_connection
    _, slave = tunnels_of(describe_connection(vpc, vco))
    body = diagnose_connections(vpc, tunnel_ids=[slave["TunnelId"]])
    assert {e["TunnelId"] for e in body["VpnConnections"]} == {slave["TunnelId"]}


def test_diagnose_connections_errors(vpc):
    expect_error(vpc.diagnose_vpn_connections, "MissingParameter", 400, m.DiagnoseVpnConnectionsRequest(region_id=REGION))
    expect_error(
        vpc.diagnose_vpn_connections, "InvalidVpnConnectionInstanceId.NotFound", 404,
        m.DiagnoseVpnConnectionsRequest(region_id=REGION, vpn_connection_ids=[NO_CONNECTION]),
    )
    expect_error(
        vpc.diagnose_vpn_connections, "InvalidTunnelId.NotFound", 404,
        m.DiagnoseVpnConnectionsRequest(region_id=REGION, tunnel_ids=["tun-doesnotexist00000"]),
    )


def test_diagnose_gateway_and_read_the_result(vpc, single):
    gw, _, vco = single
    started = vpc.diagnose_vpn_gateway(
        m.DiagnoseVpnGatewayRequest(
            region_id=REGION, vpn_gateway_id=gw, resource_type="IPsec", resource_id=vco,
            ipsec_extend_info=json.dumps({"PrivateSourceIp": "10.10.1.1", "PrivateDestinationIp": "172.16.0.1"}),
        )
    ).body.to_map()
    check_response("DiagnoseVpnGateway", started)
    diagnose_id = started["DiagnoseId"]
    assert diagnose_id.startswith("vpndgn-")
    body = vpc.get_vpn_gateway_diagnose_result(
        m.GetVpnGatewayDiagnoseResultRequest(region_id=REGION, diagnose_id=diagnose_id)
    ).body.to_map()
    check_response("GetVpnGatewayDiagnoseResult", body)
    assert (body["VpnGatewayId"], body["ResourceInstanceId"], body["ResourceType"]) == (gw, vco, "IPsec")
    assert body["TotalCount"] == body["FinishedCount"] == len(body["DiagnoseResult"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["BeginTime"])
    items = {i["DiagnoseName"]: i for i in body["DiagnoseResult"]}
    assert set(items) == {
        "VcoConfigConsistency", "VcoUserInternetIpConnectivity", "RouteEntryConflict", "VpnIPsecQuota",
        "VcoPrivateConnectivity",
    }
    assert items["VcoConfigConsistency"]["DiagnoseResultLevel"] == "normal"
    # The peer address is private (a lab address): a warning, not an error.
    assert items["VcoUserInternetIpConnectivity"]["DiagnoseResultLevel"] == "warning"
    # 172.16.0.1 is not in RemoteSubnet: traffic to it cannot enter the tunnel.
    private = json.loads(items["VcoPrivateConnectivity"]["DiagnoseResultDescription"])
    assert items["VcoPrivateConnectivity"]["DiagnoseResultLevel"] == "error"
    assert "DestinationOutsideRemoteSubnet" in {p["code"] for p in private["problems"]}
    quota = json.loads(items["VpnIPsecQuota"]["DiagnoseResultDescription"])
    assert quota["used"] == 1
    # Without the id: the gateway's newest diagnosis.
    latest = vpc.get_vpn_gateway_diagnose_result(
        m.GetVpnGatewayDiagnoseResultRequest(region_id=REGION, vpn_gateway_id=gw)
    ).body
    assert latest.diagnose_id == diagnose_id


def test_diagnose_gateway_errors(vpc, single):
    gw, _, vco = single

    def start(**kw):
        args = dict(region_id=REGION, vpn_gateway_id=gw, resource_type="IPsec", resource_id=vco) | kw
        return vpc.diagnose_vpn_gateway(m.DiagnoseVpnGatewayRequest(**args))

    expect_error(start, "InvalidParameter", 400, resource_type="SslVpn", message_contains="ResourceType")
    expect_error(start, "InvalidVpnConnectionInstanceId.NotFound", 404, resource_id=NO_CONNECTION)
    expect_error(start, "InvalidVpnGatewayInstanceId.NotFound", 404, vpn_gateway_id="vpn-bp1doesnotexist000000")
    expect_error(start, "InvalidParameter", 400, ipsec_extend_info="not json", message_contains="IPsecExtendInfo")
    other_gw = create_gateway(vpc)
    expect_error(start, "InvalidParameter", 400, vpn_gateway_id=other_gw, message_contains="ResourceId")
    expect_error(
        vpc.get_vpn_gateway_diagnose_result, "InvalidDiagnoseId.NotFound", 404,
        m.GetVpnGatewayDiagnoseResultRequest(region_id=REGION, diagnose_id="vpndgn-doesnotexist0000"),
    )
    expect_error(
        vpc.get_vpn_gateway_diagnose_result, "MissingParameter", 400,
        m.GetVpnGatewayDiagnoseResultRequest(region_id=REGION),
    )


# ------------------------------------------------------------ BGP check and available zones


def test_check_vpn_bgp_enabled(vpc):
    body = vpc.check_vpn_bgp_enabled(m.CheckVpnBgpEnabledRequest(region_id=REGION)).body.to_map()
    check_response("CheckVpnBgpEnabled", body)
    assert body["BgpEnabled"] is True
    expect_error(
        vpc.check_vpn_bgp_enabled, "InvalidRegionId.NotFound", 404, m.CheckVpnBgpEnabledRequest(region_id="mars-1")
    )


def test_available_zones(vpc):
    body = vpc.describe_vpn_gateway_available_zones(
        m.DescribeVpnGatewayAvailableZonesRequest(region_id=REGION, spec="5M")
    ).body.to_map()
    check_response("DescribeVpnGatewayAvailableZones", body)
    assert body["RegionId"] == REGION
    zones = body["AvailableZoneIdList"]
    assert len(zones) >= 2 and all(z["ZoneId"].startswith(REGION + "-") for z in zones)
    assert zones[0]["ZoneName"].startswith("Hangzhou Zone")
    zh = vpc.describe_vpn_gateway_available_zones(
        m.DescribeVpnGatewayAvailableZonesRequest(region_id=OTHER_REGION, spec="1000M", accept_language="zh-CN")
    ).body
    assert zh.available_zone_id_list[0].zone_name.startswith("上海")
    # The zones a dual-tunnel connection's tunnels report are among them.
    call = vpc.describe_vpn_gateway_available_zones
    expect_error(call, "MissingParameter", 400, m.DescribeVpnGatewayAvailableZonesRequest(region_id=REGION))
    expect_error(
        call, "InvalidParameter", 400, m.DescribeVpnGatewayAvailableZonesRequest(region_id=REGION, spec="7M"),
        message_contains="Spec",
    )


def test_tunnel_zones_are_available_zones(vpc, dual_connection):
    _, _, vco = dual_connection
    zones = {
        z.zone_id
        for z in vpc.describe_vpn_gateway_available_zones(
            m.DescribeVpnGatewayAvailableZonesRequest(region_id=REGION, spec="10M")
        ).body.available_zone_id_list
    }
    assert {t["ZoneNo"] for t in tunnels_of(describe_connection(vpc, vco))} <= zones
