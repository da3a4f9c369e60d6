"""Transit-router attachments: Create/Describe/Modify/DeleteVpnAttachment, read through
DescribeVpnConnection(s) like the seed page shows, and DescribeVpnCrossAccountAuthorizations."""

from __future__ import annotations

import json
import re

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import (
    REGION,
    check_response,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    expect_error,
    psk,
)

VCO_ID = re.compile(r"^vco-[a-z0-9]+$")
NOT_FOUND = "InvalidVpnConnectionInstanceId.NotFound"
SEED_ATTACHMENT_FIELDS = {
    "AttachType": str,
    "NetworkType": str,
    "AttachInstanceId": str,
    "Spec": str,
    "State": str,
    "ZoneNo": str,
    "InternetIp": str,
    "TransitRouterId": str,
    "TransitRouterName": str,
    "CrossAccountAuthorized": bool,
}


def create_attachment(client, cgw: str | None, **extra) -> dict:
    req = m.CreateVpnAttachmentRequest(
        region_id=REGION,
        customer_gateway_id=cgw,
        local_subnet=extra.pop("local_subnet", "10.20.0.0/16"),
        remote_subnet=extra.pop("remote_subnet", "192.168.20.0/24"),
        **extra,
    )
    body = client.create_vpn_attachment(req).body.to_map()
    check_response("CreateVpnAttachment", body)
    return body


def list_attachments(client, **kw) -> dict:
    body = client.describe_vpn_attachments(m.DescribeVpnAttachmentsRequest(region_id=REGION, **kw)).body.to_map()
    check_response("DescribeVpnAttachments", body)
    return body


def modify_attachment(client, vco: str, **kw) -> dict:
    req = m.ModifyVpnAttachmentAttributeRequest(region_id=REGION, vpn_connection_id=vco, **kw)
    body = client.modify_vpn_attachment_attribute(req).body.to_map()
    check_response("ModifyVpnAttachmentAttribute", body)
    return body


def delete_attachment(client, vco: str) -> dict:
    req = m.DeleteVpnAttachmentRequest(region_id=REGION, vpn_connection_id=vco)
    body = client.delete_vpn_attachment(req).body.to_map()
    check_response("DeleteVpnAttachment", body)
    return body


def test_create_describe_modify_delete(vpc):
    cgw = create_customer_gateway(vpc, asn="65020")
    key = psk()
    body = create_attachment(
        vpc,
        cgw,
        name="att-1",
        network_type="public",
        tunnel_bandwidth="Standard",
        remote_ca_cert="-----BEGIN CERTIFICATE----- MIIB7zCCAZW****",
        resource_group_id="rg-acfmattach0001",
        tags=[m.CreateVpnAttachmentRequestTags(key="For", value="VpnAttachment")],
        ike_config=json.dumps({"IkeVersion": "ikev2", "Psk": key, "IkeEncAlg": "aes256"}),
        ipsec_config=json.dumps({"IpsecPfs": "group14"}),
        bgp_config=json.dumps(
            {"EnableBgp": "true", "LocalAsn": 65001, "TunnelCidr": "169.254.30.0/30", "LocalBgpIp": "169.254.30.1"}
        ),
        health_check_config=json.dumps(
            {"enable": True, "dip": "10.20.0.1", "sip": "192.168.20.1", "interval": 3, "retry": 3}
        ),
    )
    assert body["Success"] is True and body["Code"] == "200"
    vco = body["VpnConnectionId"]
    assert VCO_ID.match(vco), vco
    assert body["Name"] == "att-1"

    desc = describe_connection(vpc, vco)
    check_response("DescribeVpnConnection", desc)
    for field, typ in SEED_ATTACHMENT_FIELDS.items():
        assert isinstance(desc[field], typ), (field, desc.get(field))
    assert desc["AttachType"] == "CEN"
    assert desc["State"] == "init"  # bound to no transit router
    assert desc["Spec"] == "1000M"
    assert desc["TunnelBandwidth"] == "Standard"
    assert desc["CrossAccountAuthorized"] is False
    assert desc["ZoneNo"].startswith(REGION + "-")
    assert desc["CustomerGatewayId"] == cgw
    assert desc["ResourceGroupId"] == "rg-acfmattach0001"
    assert desc["RemoteCaCertificate"] == "-----BEGIN CERTIFICATE----- MIIB7zCCAZW****"
    assert desc["IkeConfig"]["Psk"] == key and desc["IkeConfig"]["IkeVersion"] == "ikev2"
    assert desc["IpsecConfig"]["IpsecPfs"] == "group14"
    assert desc["VpnBgpConfig"]["EnableBgp"] == "true"
    assert desc["VpnBgpConfig"]["PeerAsn"] == 65020
    assert desc["VcoHealthCheck"]["Enable"] == "true"
    assert {t["Key"]: t["Value"] for t in desc["Tags"]["Tag"]} == {"For": "VpnAttachment"}

    listed = vpc.describe_vpn_connections(
        m.DescribeVpnConnectionsRequest(region_id=REGION, vpn_connection_id=vco)
    ).body.to_map()
    check_response("DescribeVpnConnections", listed)
    item = listed["VpnConnections"]["VpnConnection"][0]
    assert item["AttachType"] == "CEN" and item["InternetIp"] == desc["InternetIp"]

    atts = list_attachments(vpc, vpn_connection_id=vco)
    assert atts["TotalCount"] == 1
    att = atts["VpnAttachments"][0]
    assert (att["InstanceId"], att["AttachType"], att["Name"]) == (vco, "CEN", "att-1")
    assert att["Tags"] == [{"Key": "For", "Value": "VpnAttachment"}]

    cgw2 = create_customer_gateway(vpc)
    mod = modify_attachment(
        vpc,
        vco,
        name="att-1b",
        customer_gateway_id=cgw2,
        local_subnet="10.21.0.0/16",
        remote_subnet="192.168.20.0/24",
        enable_nat_traversal=False,
    )
    assert mod["VpnConnectionId"] == vco
    assert (mod["Name"], mod["CustomerGatewayId"], mod["LocalSubnet"]) == ("att-1b", cgw2, "10.21.0.0/16")
    assert mod["EnableNatTraversal"] is False
    assert mod["Spec"] == "1000M"
    assert mod["IkeConfig"]["Psk"] == key
    desc = describe_connection(vpc, vco)
    assert desc["Name"] == "att-1b" and desc["State"] == "init"

    auth = vpc.describe_vpn_cross_account_authorizations(
        m.DescribeVpnCrossAccountAuthorizationsRequest(region_id=REGION, vpn_connection_id=vco)
    ).body.to_map()
    check_response("DescribeVpnCrossAccountAuthorizations", auth)
    assert auth["TotalCount"] == 0 and auth.get("CrossAccountAuthorizations", []) == []

    deleted = delete_attachment(vpc, vco)
    assert deleted["Success"] is True
    expect_error(describe_connection, NOT_FOUND, 404, vpc, vco)
    expect_error(delete_attachment, NOT_FOUND, 404, vpc, vco)


def test_large_tunnel_bandwidth(vpc3):
    cgw = create_customer_gateway(vpc3)
    vco = create_attachment(vpc3, cgw, tunnel_bandwidth="Large")["VpnConnectionId"]
    desc = describe_connection(vpc3, vco)
    assert (desc["TunnelBandwidth"], desc["Spec"]) == ("Large", "3000M")
    delete_attachment(vpc3, vco)


def test_client_token_and_dry_run(vpc3):
    cgw = create_customer_gateway(vpc3)
    token = "att-" + psk()
    first = create_attachment(vpc3, cgw, name="idem", client_token=token)
    again = create_attachment(vpc3, cgw, name="idem", client_token=token)
    assert again["VpnConnectionId"] == first["VpnConnectionId"]
    expect_error(create_attachment, "IdempotentParameterMismatch", 400, vpc3, cgw, name="other", client_token=token)
    before = list_attachments(vpc3)["TotalCount"]
    expect_error(create_attachment, "DryRunOperation", 400, vpc3, cgw, dry_run=True)
    assert list_attachments(vpc3)["TotalCount"] == before


def test_errors(vpc):
    cgw = create_customer_gateway(vpc)
    gw = create_gateway(vpc)
    gw_vco = create_connection(vpc, gw, create_customer_gateway(vpc))
    before = list_attachments(vpc)["TotalCount"]
    expect_error(create_attachment, "InvalidCustomerGatewayInstanceId.NotFound", 404, vpc, "cgw-nope")
    expect_error(create_attachment, "InvalidParameter", 400, vpc, cgw, network_type="internet")
    expect_error(create_attachment, "IllegalParam.LocalSubnet", 400, vpc, cgw, local_subnet="10.0.0.1/8")
    expect_error(create_attachment, "InvalidParameter", 400, vpc, cgw, ike_config='{"IkeEncAlg":"rot13"}')
    expect_error(create_attachment, "InvalidTagKey.Malformed", 400, vpc, cgw,
                 tags=[m.CreateVpnAttachmentRequestTags(key="aliyun-x", value="v")])
    assert list_attachments(vpc)["TotalCount"] == before
    # The gateway's own connection is not an attachment.
    expect_error(modify_attachment, "InvalidParameter", 400, vpc, gw_vco, name="x")
    expect_error(delete_attachment, "InvalidParameter", 400, vpc, gw_vco)
    assert describe_connection(vpc, gw_vco)["VpnConnectionId"] == gw_vco
    expect_error(modify_attachment, NOT_FOUND, 404, vpc, "vco-nope", name="x")


@pytest.mark.parametrize("rtype", ["VPNATTACHMENT", "VpnAttachment"])
def test_tags_and_group_of_an_attachment(vpc3, rtype):
    cgw = create_customer_gateway(vpc3)
    vco = create_attachment(vpc3, cgw)["VpnConnectionId"]
    vpc3.tag_resources(
        m.TagResourcesRequest(
            region_id=REGION,
            resource_type=rtype,
            resource_id=[vco],
            tag=[m.TagResourcesRequestTag(key="Created", value="TF")],
        )
    )
    body = vpc3.list_tag_resources(
        m.ListTagResourcesRequest(region_id=REGION, resource_type=rtype, resource_id=[vco])
    ).body.to_map()
    assert [(e["ResourceType"], e["TagKey"]) for e in body["TagResources"]["TagResource"]] == [
        ("VPNATTACHMENT", "Created")
    ]
    vpc3.move_vpn_resource_group(
        m.MoveVpnResourceGroupRequest(
            region_id=REGION, instance_id=vco, resource_type=rtype, new_resource_group_id="rg-acfmattach0002"
        )
    )
    desc = describe_connection(vpc3, vco)
    assert desc["ResourceGroupId"] == "rg-acfmattach0002"
    assert {t["Key"] for t in desc["Tags"]["Tag"]} == {"Created"}


def test_dual_tunnel_attachment(vpc):
    cgw1, cgw2 = create_customer_gateway(vpc, asn="65031"), create_customer_gateway(vpc, asn="65032")
    key = psk()
    Tos = m.CreateVpnAttachmentRequestTunnelOptionsSpecification
    body = create_attachment(
        vpc,
        None,
        enable_tunnels_bgp=True,
        tunnel_options_specification=[
            Tos(
                tunnel_index=1,
                customer_gateway_id=cgw1,
                tunnel_ike_config=m.CreateVpnAttachmentRequestTunnelOptionsSpecificationTunnelIkeConfig(
                    psk=key, ike_version="ikev2"
                ),
                tunnel_bgp_config=m.CreateVpnAttachmentRequestTunnelOptionsSpecificationTunnelBgpConfig(
                    tunnel_cidr="169.254.50.0/30", local_bgp_ip="169.254.50.1"
                ),
            ),
            Tos(
                tunnel_index=2,
                customer_gateway_id=cgw2,
                enable_dpd=False,
                tunnel_bgp_config=m.CreateVpnAttachmentRequestTunnelOptionsSpecificationTunnelBgpConfig(
                    tunnel_cidr="169.254.51.0/30", local_bgp_ip="169.254.51.1"
                ),
            ),
        ],
    )
    vco = body["VpnConnectionId"]
    desc = describe_connection(vpc, vco)
    check_response("DescribeVpnConnection", desc)
    t1, t2 = desc["TunnelOptionsSpecification"]["TunnelOptions"]
    assert (t1["Role"], t1["TunnelIndex"], t1["CustomerGatewayId"]) == ("master", 1, cgw1)
    assert (t2["Role"], t2["TunnelIndex"], t2["CustomerGatewayId"]) == ("slave", 2, cgw2)
    assert t1["TunnelIkeConfig"]["Psk"] == key and t1["TunnelIkeConfig"]["IkeVersion"] == "ikev2"
    assert t2["EnableDpd"] == "false" and t2["TunnelBgpConfig"]["PeerAsn"] == "65032"
    assert t1["InternetIp"] == desc["InternetIp"] != t2["InternetIp"]
    assert desc["EnableTunnelsBgp"] is True and desc["State"] == "init"

    mod = modify_attachment(
        vpc,
        vco,
        tunnel_options_specification=[
            m.ModifyVpnAttachmentAttributeRequestTunnelOptionsSpecification(
                tunnel_index=2,
                tunnel_ipsec_config=m.ModifyVpnAttachmentAttributeRequestTunnelOptionsSpecificationTunnelIpsecConfig(
                    ipsec_enc_alg="aes256"
                ),
            )
        ],
    )
    assert [t["TunnelIndex"] for t in mod["TunnelOptionsSpecification"]] == [1, 2]
    assert mod["TunnelOptionsSpecification"][1]["TunnelIpsecConfig"]["IpsecEncAlg"] == "aes256"
    assert isinstance(mod["TunnelOptionsSpecification"][1]["TunnelIpsecConfig"]["IpsecLifetime"], int)
    t2 = describe_connection(vpc, vco)["TunnelOptionsSpecification"]["TunnelOptions"][1]
    assert t2["TunnelIpsecConfig"]["IpsecEncAlg"] == "aes256"
    delete_attachment(vpc, vco)
