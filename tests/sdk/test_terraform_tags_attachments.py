"""Terraform's tag and resource-group steps across resources (the replays of terraform.py; the
per-resource lifecycles, the attachment's included, are in test_terraform.py):

- a resource group given to a VPN gateway moves its connections along, and the connection's
  `resource_group_id` (Computed only) follows without a plan diff;
- tags added by hand show in the next plan, and the apply takes them away again with Terraform's
  UnTagResources + TagResources, whatever the resource type's spelling (VpnGateWay,
  CUSTOMERGATEWAY, VPNCONNECTION, VPNATTACHMENT).
"""

from __future__ import annotations

from helpers import REGION, new_peer_ip, new_vpc_id
from terraform import CustomerGateway, Provider, VpnAttachment, VpnConnection, VpnGateway


def test_gateway_group_move_takes_its_connections_along(raw):
    tf = Provider(raw)
    gw = VpnGateway(tf)
    gw_config = {"vpc_id": new_vpc_id(), "bandwidth": 10, "payment_type": "PayAsYouGo",
                 "resource_group_id": "rg-acfmtfgw0001", "tags": {"Name": "gw", "Env": "test"}}
    gw.apply(gw_config)
    cgw = CustomerGateway(tf)
    cgw.apply({"ip_address": new_peer_ip(), "customer_gateway_name": "tf-cgw"})
    vco = VpnConnection(tf)
    vco.apply({"vpn_gateway_id": gw.id, "customer_gateway_id": cgw.id, "local_subnet": ["10.50.0.0/16"],
               "remote_subnet": ["192.168.50.0/24"], "tags": {"A": "1"}})
    # CreateVpnConnection takes no ResourceGroupId: a connection is in its gateway's group.
    assert vco.state["resource_group_id"] == "rg-acfmtfgw0001"

    mark = tf.mark()
    gw.apply({**gw_config, "resource_group_id": "rg-acfmtfgw0002", "tags": {"Name": "gw", "Env": "prod"}})
    assert tf.actions(mark) == ["DescribeVpnGateway", "MoveVpnResourceGroup", "UnTagResources", "TagResources",
                                "DescribeVpnGateway"]
    assert gw.state["resource_group_id"] == "rg-acfmtfgw0002"
    assert gw.state["tags"] == {"Name": "gw", "Env": "prod"}
    assert vco.plan() == {} and vco.state["resource_group_id"] == "rg-acfmtfgw0002"
    assert gw.plan() == {}

    vco.destroy()
    gw.destroy()
    cgw.destroy()


def hand_tag(tf: Provider, rid: str, rtype: str, key: str, value: str) -> None:
    """Someone tags the resource by hand (TagResources with the documented upper-case type)."""
    tf.rpc_post("TagResources", {}, {"RegionId": REGION, "ResourceId.1": rid, "ResourceType": rtype,
                                     "Tag.1.Key": key, "Tag.1.Value": value})


def test_tags_added_by_hand_are_drift_and_the_next_apply_removes_them(raw):
    tf = Provider(raw)
    gw = VpnGateway(tf)
    gw.apply({"vpc_id": new_vpc_id(), "bandwidth": 10, "tags": {"Created": "TF"}})
    cgw = CustomerGateway(tf)
    cgw.apply({"ip_address": new_peer_ip(), "asn": "65050", "tags": {"Created": "TF"}})
    vco = VpnConnection(tf)
    vco.apply({"vpn_gateway_id": gw.id, "customer_gateway_id": cgw.id, "local_subnet": ["10.60.0.0/16"],
               "remote_subnet": ["192.168.60.0/24"], "tags": {"Created": "TF"}})
    att = VpnAttachment(tf)
    att.apply({"customer_gateway_id": cgw.id, "local_subnet": "10.61.0.0/16", "remote_subnet": "192.168.61.0/24",
               "tags": {"Created": "TF"}})

    for resource, rtype, terraform_spelling in (
        (gw, "VPNGATEWAY", "VpnGateWay"),
        (cgw, "CUSTOMERGATEWAY", "CUSTOMERGATEWAY"),
        (vco, "VPNCONNECTION", "VPNCONNECTION"),
        (att, "VPNATTACHMENT", "VPNATTACHMENT"),
    ):
        hand_tag(tf, resource.id, rtype, "Owner", "ops")
        hand_tag(tf, resource.id, rtype, "Created", "by-hand")
        assert resource.plan() == {"tags": ({"Created": "TF"}, {"Created": "by-hand", "Owner": "ops"})}, resource.TYPE
        mark = tf.mark()
        resource.apply(resource.config)
        calls = [c for c in tf.since(mark) if c.action.endswith("TagResources")]
        assert [(c.action, c.body["ResourceType"]) for c in calls] == [
            ("UnTagResources", terraform_spelling), ("TagResources", terraform_spelling)], resource.TYPE
        assert {v for k, v in calls[0].body.items() if k.startswith("TagKey.")} == {"Created", "Owner"}
        assert resource.state["tags"] == {"Created": "TF"}
        assert resource.plan() == {}

    att.destroy()
    vco.destroy()
    gw.destroy()
    cgw.destroy()
