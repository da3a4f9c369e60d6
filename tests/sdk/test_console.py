"""Issue 19, a console that manages: tests/console/e2e.mjs drives /console/ in headless
Chromium (playwright-core with Debian's chromium) through every page, the create, modify and
delete flows with the API's messages inline, the peer configuration downloads, live updates,
the bugs of issue 19 as regression checks, and a layout check (no element wider than its
container) at 760 px and at desktop width. This side prepares the resources and checks the
findings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import (
    REGION,
    retrying,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    new_peer_ip,
    new_vpc_id,
    psk,
)
from test_dual_tunnel import create_dual, create_dual_gateway
from test_ssl_vpn import cert, create_cert, create_server, ssl_gateway

SSL_POOL = "10.200.0.0/24"

REPO = Path(__file__).resolve().parents[2]


def chromium_and_node():
    node = shutil.which("node")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    modules = REPO / "tests" / "console" / "node_modules" / "playwright-core"
    return [what for what, ok in [("node", node), ("chromium", Path(chromium).exists()), ("playwright-core", modules.exists())] if not ok]


def test_console_in_headless_chromium(own_server, tmp_path):
    missing = chromium_and_node()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"missing for the browser test: {missing} (scripts/test installs them)")
        pytest.skip(f"missing for the browser test: {missing}")
    # The page and its modules are served from the binary, with a strict CSP.
    with urllib.request.urlopen(f"http://{own_server.endpoint}/console/", timeout=5) as resp:
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert b'<script type="module" src="app.js">' in resp.read()
    client = own_server.tea_client()
    gw = create_gateway(client, name="console-gateway")
    cgw = create_customer_gateway(client, name="a-customer-gateway-with-a-remarkably-long-name-that-must-stay-in-its-box")
    key = psk()
    vco = create_connection(client, gw, cgw, ike_config=json.dumps({"Psk": key}), name="console-vco",
                            health_check_config=json.dumps({"enable": True, "dip": "10.10.0.1", "sip": "192.168.10.1"}))
    dual_gw = create_dual_gateway(client)
    dual = create_dual(client, dual_gw, [create_customer_gateway(client, asn=str(a)) for a in (65001, 65002)])
    ssl_gw = ssl_gateway(client)
    vss = create_server(client, ssl_gw, name="console-ssl", client_ip_pool=SSL_POOL)
    vsc = create_cert(client, vss, name="first-cert")
    iss = retrying(client.create_ipsec_server, m.CreateIpsecServerRequest(
        region_id=REGION, vpn_gateway_id=ssl_gw, client_ip_pool="10.100.0.0/24", local_subnet="10.0.0.0/24",
        ip_sec_server_name="console-iss")).body.ipsec_server_id
    other_region = "cn-shanghai"
    other_gw = create_gateway(client, region=other_region, name="console-shanghai", wait_active=False)
    new_vpc = new_vpc_id()
    status = describe_connection(client, vco)["Status"]
    rename = tmp_path / "rename.txt"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    shots = Path(os.environ.get("VPNGW_SCREENSHOTS") or tmp_path)
    env = {
        **os.environ,
        "VPNGW_URL": f"http://{own_server.endpoint}",
        "VPNGW_AK_ID": own_server.access_key_id,
        "VPNGW_AK_SECRET": own_server.access_key_secret,
        "VPNGW_VCO": vco,
        "VPNGW_VCO_STATUS": status,
        "VPNGW_GW": gw,
        "VPNGW_CGW": cgw,
        "VPNGW_DUAL": dual,
        "VPNGW_DUAL_GW": dual_gw,
        "VPNGW_CGW_IP": new_peer_ip(),
        "VPNGW_SSL_SERVER": vss,
        "VPNGW_SSL_CERT": vsc,
        "VPNGW_SSL_POOL": SSL_POOL,
        "VPNGW_IPSEC_SERVER": iss,
        "VPNGW_IPSEC_GW": ssl_gw,
        "VPNGW_SCREENSHOTS": str(shots),
        "VPNGW_RENAME_FILE": str(rename),
        "VPNGW_DOWNLOADS": str(downloads),
        "VPNGW_NEW_VPC": new_vpc,
        "VPNGW_OTHER_REGION": other_region,
        "VPNGW_OTHER_GW": other_gw,
    }
    proc = subprocess.Popen(["node", str(REPO / "tests" / "console" / "e2e.mjs")], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO / "tests" / "console")
    try:
        ready = proc.stdout.readline().strip()
        if ready != "READY":
            proc.kill()
            out, err = proc.communicate(timeout=30)
            pytest.fail(f"browser test failed before READY ({ready!r}):\n{out}\n{err}")
        # Changed through the SDK while the page is open: the console shows it without a reload.
        client.modify_vpn_connection_attribute(m.ModifyVpnConnectionAttributeRequest(
            region_id=REGION, vpn_connection_id=vco, name="renamed-live"))
        rename.write_text("renamed-live")
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, f"browser test failed:\n{err}"
    found = json.loads(out.strip().splitlines()[-1])
    # Sign-in: nothing but the form before it; plain words for a wrong secret and a dead server.
    assert found["navBeforeSignIn"] is False
    assert "SignatureDoesNotMatch" in found["badLogin"] and "does not match" in found["badLogin"]
    assert "Cannot reach the vpngw server" in found["serverDown"]
    # Overview and topology.
    assert found["rowStatus"] == status and found["rowState"] == "active"
    assert found["edgeStatus"] == status and found["edgeColor"].startswith("#")
    assert found["edgeLabel"].startswith("console-vco") and "10.10.0.0/16" in found["edgeLabel"]
    assert sorted(e["role"] for e in found["dualEdges"]) == ["master", "slave"]
    assert all(e["label"].startswith("dual (") for e in found["dualEdges"]), found["dualEdges"]
    nodes = {n["id"]: n for n in found["nodes"]}
    assert nodes[gw]["name"] == "console-gateway" and gw in nodes[gw]["sub"], "names first, ids second"
    assert nodes[cgw]["name"].endswith("…"), "a long name is cut to its box"
    assert "no data plane" in found["legend"]
    # Pages.
    assert all(n >= 1 for k, n in found["pages"].items() if k.startswith("#/")), found["pages"]
    # Remote access: SSL-VPN servers and certificates; a certificate made, its client
    # configuration downloaded (one .ovpn with the CA, certificate and key inline), deleted.
    assert "console-ssl" in found["pages"]["remoteAccess"] and "first-cert" in found["pages"]["remoteAccess"]
    # IPsec servers: the list and the detail (the key masked, clients counted against the
    # gateway's SslConnections), a refused modify with the API's message next to its field, a
    # rename, a delete, and a server made in the form (refused first: the SSL server's pool).
    assert "console-iss" in found["ipsecRow"] and "10.100.0.0/24" in found["ipsecRow"] and "0 / 5" in found["ipsecRow"]
    detail = found["ipsecDetail"]
    assert iss in detail["title"] and detail["online"].startswith("0 / 5") and detail["ike"] == "ikev2"
    assert "••••" in detail["psk"]
    assert found["ipsecEditError"].startswith("IllegalParam.ClientIpPool"), found["ipsecEditError"]
    assert found["ipsecGone"] and found["ipsecGateways"] == [ssl_gw]
    assert found["ipsecCreateError"].startswith("IllegalParam.ClientIpPool") and vss in found["ipsecCreateError"], found["ipsecCreateError"]
    isss = client.list_ipsec_servers(m.ListIpsecServersRequest(region_id=REGION, vpn_gateway_id=ssl_gw)).body.to_map()["IpsecServers"]
    assert [(s["IpsecServerId"], s["IpsecServerName"], s["ClientIpPool"], s["Psk"]) for s in isss] == [
        (found["createdIss"]["id"], "console-made-iss", "10.101.0.0/24", "console-made-key")]
    assert "console-made-iss" in found["createdIss"]["title"]
    assert "SslVpnServerId" in found["sslCertError"], found["sslCertError"]
    assert found["sslServerGateways"] == [ssl_gw]
    ovpn = found["ovpn"]["text"]
    assert found["ovpn"]["name"] == f"{found['sslCert']}.ovpn"
    first = cert(client, vsc)
    assert ovpn.startswith("client\n") and f"<ca>\n{first['CaCert'].strip()}\n</ca>" in ovpn, ovpn
    assert "<cert>\n-----BEGIN CERTIFICATE-----" in ovpn and "<key>\n-----BEGIN" in ovpn and "PRIVATE KEY-----\n</key>" in ovpn
    assert not any(line in ovpn.splitlines() for line in ("ca ca.crt", "cert client.crt", "key client.key"))
    server_ip = client.describe_ssl_vpn_servers(m.DescribeSslVpnServersRequest(region_id=REGION, ssl_vpn_server_id=vss)).body.ssl_vpn_servers.ssl_vpn_server[0].internet_ip
    assert f"remote {server_ip} 1194" in ovpn, ovpn
    assert found["sslCertGone"]
    left = client.describe_ssl_vpn_client_certs(m.DescribeSslVpnClientCertsRequest(region_id=REGION, ssl_vpn_server_id=vss)).body.to_map()
    assert [c["SslVpnClientCertId"] for c in left["SslVpnClientCertKeys"]["SslVpnClientCertKey"]] == [vsc]
    assert gw in found["pages"]["gateway"] and cgw in found["pages"]["customerGateway"]
    # The connection detail, live.
    assert vco in found["detailTitle"]
    assert found["detailStatus"] == status
    assert "Health check" in found["state"] and "BGP" in found["state"]
    assert key not in found["pskMasked"] and found["pskShown"] == key and found["pskStillShown"] == key
    assert found["liveName"] == "renamed-live"
    assert vco in found["logsBefore"]
    assert len(found["dualNarrow"]) == 2 and found["dualNarrow"][0]["x"] == found["dualNarrow"][1]["x"], "one column at 760 px"
    # Downloads: the API's peer configuration, and its swanctl.conf from the data plane's renderer.
    peer = json.loads(found["peerJson"]["text"])
    assert found["peerJson"]["name"] == f"{vco}-peer-config.json"
    assert peer["IkeConfig"]["Psk"] == key and peer["LocalSubnet"] == "192.168.10.0/24"
    conf = found["swanctl"]["text"]
    assert found["swanctl"]["name"] == f"{vco}-swanctl.conf"
    gw_ip = client.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.internet_ip
    assert f"remote_addrs = {gw_ip}" in conf and f'secret = "{key}"' in conf and "local_ts = 192.168.10.0/24" in conf, conf
    # Regression: a missing connection shows its error alone.
    assert "NotFound" in found["missing"]["error"] and found["missing"]["details"] == 0
    # Create, modify, delete, with the API's messages next to the field.
    assert "IpAddress" in found["cgwInlineError"], found["cgwInlineError"]
    assert "LocalSubnet" in found["vcoInlineError"], found["vcoInlineError"]
    assert found["createdVco"]["name"] == "console-made"
    assert found["vcoGone"] and found["cgwGone"]
    assert found["singleFormShown"] and found["dualFormShown"]
    # A VPN gateway made and deleted in the browser, the API's message inline first.
    assert "MissingParameter" in found["gwInlineError"] and "VpcId" in found["gwInlineError"], found["gwInlineError"]
    assert found["createdGw"]["name"] == "console-gateway-made" and found["gwGone"]
    made = client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION, vpc_id=new_vpc)).body
    assert made.total_count == 0, "deleted through the API, not just hidden"
    # The region switch: the other region's gateways only, kept across a reload, and back.
    assert other_region in found["regions"] and "cn-hangzhou" in found["regions"]
    assert found["otherRegionRows"] == [other_gw] and found["otherOverviewRows"] == [other_gw]
    assert found["regionAfterReload"] == other_region
    assert gw in found["backRows"] and other_gw not in found["backRows"]
    # Layout: nothing wider than its container, at 760 px and at desktop width, on every page.
    assert all(not bad for bad in found["overflow"].values()), found["overflow"]
    assert len(found["overflow"]) >= 30
    assert found["storedAfterLogout"] is None and found["navAfterLogout"] is False
    assert found["consoleErrors"] == []
