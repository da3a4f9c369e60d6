"""Every operation of the product, through the official SDK (issue 12, issue 11 item 4).

- Every operation of alibabacloud-vpc20160428's Client (its `*_with_options` methods) is either
  served by vpngw (the operations spec/declarations.json declares) or refused with the one
  documented answer: HTTP 400 `UnsupportedOperation`, a message saying vpngw does not serve it and
  nothing Terraform reads as "not found".
- Every served operation's answer round-trips through the SDK's own response model:
  `XResponseBody().from_map(body).to_map()` keeps every key the server sent, with its value
  (a key the model lacks, or a nested shape it reads differently, would be lost).
"""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path

from alibabacloud_tea_util.models import RuntimeOptions
from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client as VpcClient

from helpers import REGION, RETRYABLE_CODES, capture_error, new_peer_ip, new_vpc_id, rand_suffix

DECLARATIONS = json.loads((Path(__file__).resolve().parents[2] / "spec" / "declarations.json").read_text())
SERVED = {op for ops in DECLARATIONS["families"]["Vpc"].values() for op in ops}


def sdk_operations() -> list[tuple[str, str]]:
    """(method, action) of every operation of the SDK's client, from its source."""
    out = []
    for name, fn in inspect.getmembers(VpcClient, inspect.isfunction):
        if not name.endswith("_with_options") or inspect.iscoroutinefunction(fn):
            continue
        source = inspect.getsource(fn)
        action = source.split("action = '", 1)[1].split("'", 1)[0]
        out.append((name, action))
    return out


def test_every_sdk_operation_is_served_or_refused(server):
    client = server.tea_client("v3")
    runtime = RuntimeOptions(autoretry=False, max_attempts=0)
    ops = sdk_operations()
    assert len(ops) > 390
    refused = []
    for method, action in ops:
        fn = getattr(client, method)
        params = list(inspect.signature(fn).parameters.values())
        args = []
        for p in params:
            if p.name == "runtime":
                args.append(runtime)
            else:
                model = p.annotation.split(".")[-1] if isinstance(p.annotation, str) else p.annotation.__name__
                args.append(getattr(m, model)())
        try:
            fn(*args)
            answered = None
        except Exception:  # noqa: BLE001 — classified below
            answered = capture_error(fn, *args)
        if action in SERVED:
            # Served: whatever it answers (often MissingParameter here), it is not a refusal.
            assert answered is None or answered.code not in ("UnsupportedOperation", "InvalidAction.NotFound"), (
                action,
                answered,
            )
        else:
            assert answered is not None, f"{action} answered 200"
            assert (answered.status, answered.code) == (400, "UnsupportedOperation"), (action, answered)
            assert "not served by vpngw" in answered.message, answered
            assert "NotFound" not in answered.message, answered
            refused.append(action)
    assert set(SERVED) <= {a for _, a in ops}
    assert len(refused) == len(ops) - len(SERVED)


# ------------------------------------------------------------------------------ round trip


def kept(sent, model_map, path="") -> list[str]:
    """The keys and values of `sent` that `model_map` lost or changed."""
    lost = []
    if isinstance(sent, dict):
        if not isinstance(model_map, dict):
            return [f"{path or '.'}: an object became {model_map!r}"]
        for k, v in sent.items():
            if k not in model_map:
                lost.append(f"{path}{k}: dropped by the SDK model")
            else:
                lost += kept(v, model_map[k], f"{path}{k}.")
    elif isinstance(sent, list):
        if not isinstance(model_map, list) or len(model_map) != len(sent):
            return [f"{path}: a list became {model_map!r}"]
        for i, (a, b) in enumerate(zip(sent, model_map)):
            lost += kept(a, b, f"{path}[{i}].")
    elif sent != model_map:
        lost.append(f"{path}: {sent!r} became {model_map!r}")
    return lost


class Recorder:
    """Calls operations with the raw V1 client and keeps each success's body."""

    def __init__(self, server):
        self.raw = server.raw_client()
        self.bodies: dict[str, dict] = {}

    def __call__(self, action: str, **params) -> dict:
        params = {"RegionId": REGION, **{k: v for k, v in params.items() if v is not None}}
        deadline = time.monotonic() + 15
        while True:
            resp = self.raw.v1(action, {k: str(v) for k, v in params.items()})
            body = resp.json()
            if resp.status == 200:
                self.bodies.setdefault(action, body)
                return body
            if body.get("Code") in RETRYABLE_CODES and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise AssertionError(f"{action} {params}: HTTP {resp.status} {body}")

    def wait_active(self, gw: str) -> None:
        deadline = time.monotonic() + 15
        while self("DescribeVpnGateway", VpnGatewayId=gw)["Status"] != "active":
            assert time.monotonic() < deadline, f"{gw} not active"
            time.sleep(0.05)


def test_every_answer_round_trips_through_the_sdk_model(server):
    call = Recorder(server)
    vpc_id = new_vpc_id()
    gw = call("CreateVpnGateway", VpcId=vpc_id, Bandwidth=10, Name="rt-" + rand_suffix(6))["VpnGatewayId"]
    call.wait_active(gw)
    call("DescribeVpnGateways", VpnGatewayId=gw)
    call("ModifyVpnGatewayAttribute", VpnGatewayId=gw, Name="renamed")
    call("CheckVpnBgpEnabled")
    call("DescribeVpnGatewayAvailableZones", Spec="10M")
    cgw = call("CreateCustomerGateway", IpAddress=new_peer_ip(), Asn=65010, AuthKey="bgp-key")["CustomerGatewayId"]
    cgw2 = call("CreateCustomerGateway", IpAddress=new_peer_ip())["CustomerGatewayId"]
    call("DescribeCustomerGateway", CustomerGatewayId=cgw)
    call("DescribeCustomerGateways", CustomerGatewayId=cgw)
    call("ModifyCustomerGatewayAttribute", CustomerGatewayId=cgw, Description="peer")
    vco = call(
        "CreateVpnConnection",
        VpnGatewayId=gw,
        CustomerGatewayId=cgw,
        LocalSubnet="10.10.0.0/16",
        RemoteSubnet="192.168.10.0/24",
        HealthCheckConfig=json.dumps({"enable": True, "dip": "192.168.10.1", "sip": "10.10.0.1", "interval": 3, "retry": 3}),
    )["VpnConnectionId"]
    call.wait_active(gw)
    call("DescribeVpnConnection", VpnConnectionId=vco)
    call("DescribeVpnConnections", VpnGatewayId=gw)
    call("ModifyVpnConnectionAttribute", VpnConnectionId=vco, Name="renamed")
    call.wait_active(gw)
    call("DownloadVpnConnectionConfig", VpnConnectionId=vco)
    call("DescribeVpnConnectionLogs", VpnConnectionId=vco, MinutePeriod=10)
    # Dual tunnels.
    dgw = call(
        "CreateVpnGateway",
        VpcId=vpc_id,
        Bandwidth=10,
        VSwitchId="vsw-" + rand_suffix(10),
        DisasterRecoveryVSwitchId="vsw-" + rand_suffix(10),
    )["VpnGatewayId"]
    call.wait_active(dgw)
    t = "TunnelOptionsSpecification"
    dvco = call(
        "CreateVpnConnection",
        VpnGatewayId=dgw,
        LocalSubnet="10.20.0.0/16",
        RemoteSubnet="192.168.20.0/24",
        **{f"{t}.1.Role": "master", f"{t}.1.CustomerGatewayId": cgw, f"{t}.2.Role": "slave", f"{t}.2.CustomerGatewayId": cgw2},
    )["VpnConnectionId"]
    call.wait_active(dgw)
    tunnel = call("DescribeVpnConnection", VpnConnectionId=dvco)[t]["TunnelOptions"][0]["TunnelId"]
    call("ModifyTunnelAttribute", VpnConnectionId=dvco, TunnelId=tunnel, **{f"{t}.TunnelIkeConfig.Psk": "new-psk"})
    call.wait_active(dgw)
    # Enhanced gateways: dual tunnel only, in two vSwitches of the VPC.
    egw = call(
        "CreateEnhancedVpnGateway",
        VpcId=vpc_id,
        GatewayType="Enhanced.SiteToSite",
        VSwitchId="vsw-" + rand_suffix(10),
        DisasterRecoveryVSwitchId="vsw-" + rand_suffix(10),
    )["VpnGatewayId"]
    call.wait_active(egw)
    call("UpdateEnhancedVpnGateway", VpnGatewayId=egw, Description="enhanced")
    call.wait_active(egw)
    call("DeleteEnhancedVpnGateway", VpnGatewayId=egw)
    # Attachments.
    att = call(
        "CreateVpnAttachment", CustomerGatewayId=cgw2, LocalSubnet="10.30.0.0/16", RemoteSubnet="192.168.30.0/24"
    )["VpnConnectionId"]
    call("DescribeVpnAttachments", VpnConnectionId=att)
    call("ModifyVpnAttachmentAttribute", VpnConnectionId=att, Name="renamed")
    call("DescribeVpnCrossAccountAuthorizations", VpnConnectionId=att)
    call("DeleteVpnAttachment", VpnConnectionId=att)
    # Routes.
    route = dict(VpnConnectionId=vco, RouteDest="192.168.40.0/24", NextHop=vco, Weight=100)
    call("CreateVcoRouteEntry", **route)
    call("DescribeVcoRouteEntries", VpnConnectionId=vco)
    call("ModifyVcoRouteEntryWeight", **route, NewWeight=0)
    call("DeleteVcoRouteEntry", **{**route, "Weight": 0})
    dbr = dict(VpnGatewayId=gw, RouteDest="10.50.0.0/24", NextHop=vco, Weight=0)
    call("CreateVpnRouteEntry", **dbr, PublishVpc=False)
    call.wait_active(gw)
    call("DescribeVpnRouteEntries", VpnGatewayId=gw)
    call("ModifyVpnRouteEntryWeight", **dbr, NewWeight=100)
    call.wait_active(gw)
    call("PublishVpnRouteEntry", VpnGatewayId=gw, RouteDest="10.50.0.0/24", NextHop=vco, RouteType="dbr", PublishVpc=True)
    call.wait_active(gw)
    call("DeleteVpnRouteEntry", **{**dbr, "Weight": 100})
    call.wait_active(gw)
    pbr = dict(VpnGatewayId=gw, RouteSource="192.168.1.0/24", RouteDest="10.60.0.0/24", NextHop=vco, Weight=100)
    call("CreateVpnPbrRouteEntry", **pbr, PublishVpc=False, Priority=1)
    call.wait_active(gw)
    call("DescribeVpnPbrRouteEntries", VpnGatewayId=gw)
    call("ModifyVpnPbrRouteEntryWeight", **pbr, Priority=1, NewWeight=0)
    call.wait_active(gw)
    pbr["Weight"] = 0
    call("ModifyVpnPbrRouteEntryPriority", **pbr, Priority=1, NewPriority=2)
    call.wait_active(gw)
    call("ModifyVpnPbrRouteEntryAttribute", **pbr, Priority=2, NewPriority=3, NewWeight=100)
    call.wait_active(gw)
    call("DeleteVpnPbrRouteEntry", **{**pbr, "Weight": 100})
    call.wait_active(gw)
    # Diagnosis.
    call("DiagnoseVpnConnections", VpnGatewayId=gw)
    diag = call("DiagnoseVpnGateway", VpnGatewayId=gw, ResourceType="IPsec", ResourceId=vco)["DiagnoseId"]
    call("GetVpnGatewayDiagnoseResult", VpnGatewayId=gw, DiagnoseId=diag)
    # Tags and resource groups.
    call("TagResources", ResourceType="VpnGateway", **{"ResourceId.1": gw, "Tag.1.Key": "env", "Tag.1.Value": "rt"})
    call("ListTagResources", ResourceType="VpnGateway", **{"ResourceId.1": gw})
    call("UnTagResources", ResourceType="VpnGateway", **{"ResourceId.1": gw, "TagKey.1": "env"})
    call("MoveVpnResourceGroup", ResourceType="VpnGateway", InstanceId=gw, NewResourceGroupId="rg-aek2roundtrip")
    call("MoveResourceGroup", ResourceType="CustomerGateway", ResourceId=cgw2, NewResourceGroupId="rg-aek2roundtrip")
    call("DescribeRegions")
    call("DescribeZones")
    # SSL-VPN.
    sgw = call("CreateVpnGateway", VpcId=vpc_id, Bandwidth=10, EnableSsl=True, SslConnections=5)["VpnGatewayId"]
    call.wait_active(sgw)
    vss = call("CreateSslVpnServer", VpnGatewayId=sgw, ClientIpPool="10.200.0.0/24", LocalSubnet="10.10.0.0/16")[
        "SslVpnServerId"
    ]
    call.wait_active(sgw)
    call("DescribeSslVpnServers", SslVpnServerId=vss)
    call("ModifySslVpnServer", SslVpnServerId=vss, Name="renamed")
    call.wait_active(sgw)
    vsc = call("CreateSslVpnClientCert", SslVpnServerId=vss, Name="alice")["SslVpnClientCertId"]
    call("DescribeSslVpnClientCert", SslVpnClientCertId=vsc)
    call("DescribeSslVpnClientCerts", SslVpnServerId=vss)
    call("ModifySslVpnClientCert", SslVpnClientCertId=vsc, Name="bob")
    call("DescribeSslVpnClients", VpnGatewayId=sgw)
    call("DescribeVpnSslServerLogs", VpnSslServerId=vss, SslVpnClientCertId=vsc, MinutePeriod=10)
    call("DeleteSslVpnClientCert", SslVpnClientCertId=vsc)
    call.wait_active(sgw)
    # IPsec server (#15), beside the SSL server on the same gateway.
    iss = call("CreateIpsecServer", VpnGatewayId=sgw, ClientIpPool="10.201.0.0/24", LocalSubnet="10.10.0.0/16")[
        "IpsecServerId"
    ]
    call.wait_active(sgw)
    call("ListIpsecServers", VpnGatewayId=sgw)
    call("UpdateIpsecServer", IpsecServerId=iss, IpsecServerName="renamed")
    call("ListIpsecServerLogs", IpsecServerId=iss, MinutePeriod=10)
    call("DeleteIpsecServer", IpsecServerId=iss)
    call.wait_active(sgw)
    call("DeleteSslVpnServer", SslVpnServerId=vss)
    call.wait_active(sgw)
    # VPCs and vSwitches.
    net = call("CreateVpc", CidrBlock="10.0.0.0/8", VpcName="rt-net", **{"Tag.1.Key": "env", "Tag.1.Value": "rt"})
    while call("DescribeVpcAttribute", VpcId=net["VpcId"])["Status"] != "Available":
        time.sleep(0.05)
    call("DescribeVpcs", VpcId=net["VpcId"])
    call("ModifyVpcAttribute", VpcId=net["VpcId"], Description="round trip")
    vsw = call("CreateVSwitch", VpcId=net["VpcId"], ZoneId="cn-hangzhou-k", CidrBlock="10.1.0.0/24")["VSwitchId"]
    call("DescribeVSwitches", VpcId=net["VpcId"])
    call("DescribeVSwitchAttributes", VSwitchId=vsw)
    call("ModifyVSwitchAttribute", VSwitchId=vsw, VSwitchName="rt-vsw")
    call("DescribeRouteTableList", VpcId=net["VpcId"])
    call("DescribeRouteEntryList", RouteTableId=net["RouteTableId"])
    while call("DescribeVSwitchAttributes", VSwitchId=vsw)["Status"] != "Available":
        time.sleep(0.05)
    call("DeleteVSwitch", VSwitchId=vsw)
    call("DeleteVpc", VpcId=net["VpcId"])
    # Deletes last.
    call("DeleteVpnConnection", VpnConnectionId=vco)
    call.wait_active(gw)
    call("DescribeVpnGateway", VpnGatewayId=gw)
    call("DeleteVpnGateway", VpnGatewayId=gw)
    spare = call("CreateCustomerGateway", IpAddress=new_peer_ip())["CustomerGatewayId"]
    call("DeleteCustomerGateway", CustomerGatewayId=spare)

    assert set(call.bodies) == SERVED, sorted(SERVED ^ set(call.bodies))
    failures = []
    for action, body in sorted(call.bodies.items()):
        model = getattr(m, f"{action}ResponseBody")()
        failures += [f"{action}: {lost}" for lost in kept(body, model.from_map(body).to_map())]
    assert failures == [], "\n".join(failures)
