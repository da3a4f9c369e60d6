"""Cloud Enterprise Network (Cbn 2017-09-12) through its official SDK (alibabacloud-cbn20170912):
the CEN instance, the transit router and its CIDR blocks, the zones a transit router offers, and the
transit router's attachment of an IPsec-VPN connection (made with the VPC SDK's CreateVpnAttachment)
— what Terraform's vpn_gateway_vco_route example builds. Errors, and RAM's cen:* actions on
acs:cen:*:<account>:… resources."""

from __future__ import annotations

import pytest
from alibabacloud_cbn20170912 import models as cbn
from alibabacloud_cbn20170912.client import Client as CbnClient
from alibabacloud_vpc20160428 import models as m

from helpers import (
    OTHER_REGION,
    REGION,
    create_connection,
    create_customer_gateway,
    create_gateway,
    expect_error,
    wait_for,
)
from ram_helpers import Cred, _config, account_id, attach_user, create_policy, create_user_with_key, ram

HOST = "cbn.aliyuncs.com"


def cbn_client(server, cred=None, signature: str = "v3") -> CbnClient:
    return CbnClient(_config(server, cred or Cred.root(server), signature))


@pytest.fixture(params=["v3", "v1"], ids=["teaV3", "teaV1"])
def cen(request, server) -> CbnClient:
    return cbn_client(server, signature=request.param)


def describe_cen(client, cen_id: str) -> dict | None:
    body = client.describe_cens(cbn.DescribeCensRequest(
        filter=[cbn.DescribeCensRequestFilter(key="CenId", value=[cen_id])])).body.to_map()
    cens = body["Cens"]["Cen"]
    return cens[0] if cens else None


def router(client, tr_id: str, region: str = REGION) -> dict | None:
    body = client.list_transit_routers(cbn.ListTransitRoutersRequest(region_id=region, transit_router_id=tr_id))
    items = body.body.to_map()["TransitRouters"]
    return items[0] if items else None


def active_cen(client, **kw) -> str:
    cen_id = client.create_cen(cbn.CreateCenRequest(**kw)).body.cen_id
    wait_for(lambda: describe_cen(client, cen_id)["Status"] == "Active", what="CEN Active")
    return cen_id


def active_router(client, cen_id: str, **kw) -> str:
    tr_id = client.create_transit_router(cbn.CreateTransitRouterRequest(region_id=REGION, cen_id=cen_id, **kw)).body \
        .transit_router_id
    wait_for(lambda: router(client, tr_id)["Status"] == "Active", what="transit router Active")
    return tr_id


def vpn_attachment(vpc) -> str:
    cgw = create_customer_gateway(vpc)
    return vpc.create_vpn_attachment(m.CreateVpnAttachmentRequest(
        region_id=REGION, customer_gateway_id=cgw, local_subnet="0.0.0.0/0", remote_subnet="0.0.0.0/0",
        effect_immediately=False)).body.vpn_connection_id


def test_cen_instance_lifecycle(cen, server):
    cen_id = cen.create_cen(cbn.CreateCenRequest(name="tf-example", description="a CEN",
                                                 tag=[cbn.CreateCenRequestTag(key="env", value="test")])).body.cen_id
    assert cen_id.startswith("cen-")
    got = describe_cen(cen, cen_id)
    assert got["Status"] in ("Creating", "Active")
    wait_for(lambda: describe_cen(cen, cen_id)["Status"] == "Active", what="Active")
    got = describe_cen(cen, cen_id)
    assert (got["Name"], got["Description"], got["ProtectionLevel"]) == ("tf-example", "a CEN", "REDUCED")
    assert got["Tags"]["Tag"] == [{"Key": "env", "Value": "test"}]
    assert got["ResourceGroupId"] == "rg-default" and got["CreationTime"].endswith("Z")
    # Filters: by name, by tag; a filter key that is none is InvalidParameter.
    by_name = cen.describe_cens(cbn.DescribeCensRequest(
        filter=[cbn.DescribeCensRequestFilter(key="Name", value=["tf-example"])], page_size=50)).body
    assert cen_id in [c.cen_id for c in by_name.cens.cen]
    by_tag = cen.describe_cens(cbn.DescribeCensRequest(tag=[cbn.DescribeCensRequestTag(key="env", value="other")],
                                                       page_size=50)).body
    assert cen_id not in [c.cen_id for c in by_tag.cens.cen]
    expect_error(cen.describe_cens, "InvalidParameter", 400, cbn.DescribeCensRequest(
        filter=[cbn.DescribeCensRequestFilter(key="Color", value=["red"])]), host_id=HOST)

    cen.modify_cen_attribute(cbn.ModifyCenAttributeRequest(cen_id=cen_id, name="renamed", protection_level="FULL"))
    got = describe_cen(cen, cen_id)
    assert (got["Name"], got["ProtectionLevel"], got["Description"]) == ("renamed", "FULL", "a CEN")
    expect_error(cen.modify_cen_attribute, "InvalidParameter", 400,
                 cbn.ModifyCenAttributeRequest(cen_id=cen_id, protection_level="MAXIMUM"), host_id=HOST)
    assert describe_cen(cen, cen_id)["ProtectionLevel"] == "FULL"

    cen.delete_cen(cbn.DeleteCenRequest(cen_id=cen_id))
    assert describe_cen(cen, cen_id) is None
    expect_error(cen.delete_cen, "ParameterCenInstanceId", 400, cbn.DeleteCenRequest(cen_id=cen_id), host_id=HOST)
    expect_error(cen.modify_cen_attribute, "ParameterCenInstanceId", 400,
                 cbn.ModifyCenAttributeRequest(cen_id=cen_id, name="x"), host_id=HOST)


def test_transit_router_and_cidrs(cen, server):
    cen_id = active_cen(cen, name="tr-test")
    tr_id = cen.create_transit_router(cbn.CreateTransitRouterRequest(
        region_id=REGION, cen_id=cen_id, transit_router_name="tf-example", transit_router_description="desc",
        tag=[cbn.CreateTransitRouterRequestTag(key="k", value="v")])).body.transit_router_id
    assert tr_id.startswith("tr-")
    wait_for(lambda: router(cen, tr_id)["Status"] == "Active", what="Active")
    got = router(cen, tr_id)
    assert (got["CenId"], got["RegionId"], got["Type"], got["TransitRouterName"], got["TransitRouterDescription"]) == \
        (cen_id, REGION, "Enterprise", "tf-example", "desc")
    assert got["Tags"] == [{"Key": "k", "Value": "v"}] and got["AliUid"] == int(account_id(server, Cred.root(server)))
    # One transit router per region and CEN instance.
    expect_error(cen.create_transit_router, "InvalidOperation.TransitRouterExist", 400,
                 cbn.CreateTransitRouterRequest(region_id=REGION, cen_id=cen_id), host_id=HOST)
    listed = cen.list_transit_routers(cbn.ListTransitRoutersRequest(region_id=REGION, cen_id=cen_id)).body
    assert [t.transit_router_id for t in listed.transit_routers] == [tr_id] and listed.total_count == 1
    # Another region's list does not show it.
    assert cen.list_transit_routers(cbn.ListTransitRoutersRequest(region_id=OTHER_REGION, cen_id=cen_id)) \
        .body.transit_routers == []
    cen.update_transit_router(cbn.UpdateTransitRouterRequest(region_id=REGION, transit_router_id=tr_id,
                                                             transit_router_name="renamed"))
    assert router(cen, tr_id)["TransitRouterName"] == "renamed"

    # CIDR blocks.
    cidr_id = cen.create_transit_router_cidr(cbn.CreateTransitRouterCidrRequest(
        region_id=REGION, transit_router_id=tr_id, cidr="192.168.0.0/16", name="n", description="d",
        publish_cidr_route=True)).body.transit_router_cidr_id
    listed = cen.list_transit_router_cidr(cbn.ListTransitRouterCidrRequest(
        region_id=REGION, transit_router_id=tr_id, transit_router_cidr_id=cidr_id)).body.to_map()["CidrLists"]
    assert listed == [{"Cidr": "192.168.0.0/16", "Description": "d", "Family": "IPv4", "Name": "n",
                       "PublishCidrRoute": True, "TransitRouterCidrId": cidr_id, "TransitRouterId": tr_id}]
    for bad in ("192.168.0.1/16", "10.0.0.0/8", "10.0.0.0/25", "169.254.0.0/16", "nonsense"):
        expect_error(cen.create_transit_router_cidr, "InvalidParameter", 400, cbn.CreateTransitRouterCidrRequest(
            region_id=REGION, transit_router_id=tr_id, cidr=bad), host_id=HOST)
    expect_error(cen.create_transit_router_cidr, "InvalidCidr.Overlap", 400, cbn.CreateTransitRouterCidrRequest(
        region_id=REGION, transit_router_id=tr_id, cidr="192.168.10.0/24"), host_id=HOST)
    cen.modify_transit_router_cidr(cbn.ModifyTransitRouterCidrRequest(
        region_id=REGION, transit_router_id=tr_id, transit_router_cidr_id=cidr_id, cidr="192.168.0.0/16",
        publish_cidr_route=False, name="m"))
    assert router(cen, tr_id)["TransitRouterCidrList"] == [
        {"Cidr": "192.168.0.0/16", "Description": "d", "Name": "m", "PublishCidrRoute": False,
         "TransitRouterCidrId": cidr_id}]
    # The CEN instance cannot go while it has the router.
    expect_error(cen.delete_cen, "InvalidOperation.AttachedChildInstanceExist", 400,
                 cbn.DeleteCenRequest(cen_id=cen_id), host_id=HOST)
    cen.delete_transit_router_cidr(cbn.DeleteTransitRouterCidrRequest(
        region_id=REGION, transit_router_id=tr_id, transit_router_cidr_id=cidr_id))
    expect_error(cen.delete_transit_router_cidr, "OperationFailed.CidrNotExist", 400,
                 cbn.DeleteTransitRouterCidrRequest(region_id=REGION, transit_router_id=tr_id,
                                                    transit_router_cidr_id=cidr_id), host_id=HOST)
    cen.delete_transit_router(cbn.DeleteTransitRouterRequest(transit_router_id=tr_id))
    assert router(cen, tr_id) is None
    expect_error(cen.delete_transit_router, "ParameterInstanceId", 400,
                 cbn.DeleteTransitRouterRequest(transit_router_id=tr_id), host_id=HOST)
    cen.delete_cen(cbn.DeleteCenRequest(cen_id=cen_id))


def test_transit_router_needs_an_active_cen(server):
    client = cbn_client(server)
    expect_error(client.create_transit_router, "ParameterCenInstanceId", 400,
                 cbn.CreateTransitRouterRequest(region_id=REGION, cen_id="cen-nosuchinstance0001"), host_id=HOST)
    expect_error(client.create_transit_router, "MissingParameter", 400,
                 cbn.CreateTransitRouterRequest(region_id=REGION), host_id=HOST)
    expect_error(client.create_transit_router, "InvalidRegionId.NotFound", 404,
                 cbn.CreateTransitRouterRequest(region_id="xx-nowhere-1", cen_id="cen-x"), host_id=HOST)


def test_available_resource(cen):
    body = cen.list_transit_router_available_resource(
        cbn.ListTransitRouterAvailableResourceRequest(region_id=REGION)).body.to_map()
    assert body["MasterZones"] and body["MasterZones"] == body["SlaveZones"] == body["AvailableZones"]
    assert all(z.startswith(REGION + "-") for z in body["MasterZones"]) and body["SupportMulticast"] is False


def test_vpn_attachment_lifecycle(cen, server):
    vpc = server.tea_client("v3")
    vco = vpn_attachment(vpc)
    cen_id = active_cen(cen)
    tr_id = active_router(cen, cen_id, transit_router_name="trname")
    zone = cen.list_transit_router_available_resource(
        cbn.ListTransitRouterAvailableResourceRequest(region_id=REGION)).body.master_zones[0]
    create = cbn.CreateTransitRouterVpnAttachmentRequest(
        region_id=REGION, cen_id=cen_id, transit_router_id=tr_id, vpn_id=vco, auto_publish_route_enabled=False,
        transit_router_attachment_name="att", transit_router_attachment_description="d",
        zone=[cbn.CreateTransitRouterVpnAttachmentRequestZone(zone_id=zone)])
    # No CIDR block on the router yet: no address to give (Terraform retries this code).
    expect_error(cen.create_transit_router_vpn_attachment, "OperationFailed.AllocateCidrFailed", 400, create,
                 host_id=HOST)
    cidr_id = cen.create_transit_router_cidr(cbn.CreateTransitRouterCidrRequest(
        region_id=REGION, transit_router_id=tr_id, cidr="192.168.0.0/16")).body.transit_router_cidr_id
    att = cen.create_transit_router_vpn_attachment(create).body.transit_router_attachment_id
    assert att.startswith("tr-attach-")

    def listed():
        items = cen.list_transit_router_vpn_attachments(cbn.ListTransitRouterVpnAttachmentsRequest(
            region_id=REGION, transit_router_attachment_id=att)).body.to_map()["TransitRouterAttachments"]
        return items[0] if items else None

    wait_for(lambda: listed()["Status"] == "Attached", what="Attached")
    got = listed()
    assert (got["VpnId"], got["TransitRouterId"], got["CenId"], got["VpnRegionId"], got["ResourceType"]) == \
        (vco, tr_id, cen_id, REGION, "VPN")
    assert got["Zones"] == [{"ZoneId": zone}] and got["AutoPublishRouteEnabled"] is False
    assert (got["TransitRouterAttachmentName"], got["ChargeType"], got["OrderType"]) == ("att", "POSTPAY",
                                                                                          "PayByCenOwner")
    # The connection shows the router it is bound to.
    conn = vpc.describe_vpn_connection(m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco)).body
    assert (conn.transit_router_id, conn.transit_router_name) == (tr_id, "trname")
    # Attached once only; the connection, the router, the block cannot go under it.
    expect_error(cen.create_transit_router_vpn_attachment, "IncorrectStatus.VpnConnection", 400, create,
                 host_id=HOST)
    expect_error(vpc.delete_vpn_attachment, "InvalidParameter", 400,
                 m.DeleteVpnAttachmentRequest(region_id=REGION, vpn_connection_id=vco))
    expect_error(cen.delete_transit_router, "InvalidOperation.AttachedChildInstanceExist", 400,
                 cbn.DeleteTransitRouterRequest(transit_router_id=tr_id), host_id=HOST)
    expect_error(cen.delete_transit_router_cidr, "OperationFailed.CidrBlockAllocated", 400,
                 cbn.DeleteTransitRouterCidrRequest(region_id=REGION, transit_router_id=tr_id,
                                                    transit_router_cidr_id=cidr_id), host_id=HOST)

    cen.update_transit_router_vpn_attachment_attribute(cbn.UpdateTransitRouterVpnAttachmentAttributeRequest(
        transit_router_attachment_id=att, transit_router_attachment_name="att2", auto_publish_route_enabled=True,
        order_type="PayByResourceOwner"))
    got = listed()
    assert (got["TransitRouterAttachmentName"], got["AutoPublishRouteEnabled"], got["OrderType"]) == \
        ("att2", True, "PayByResourceOwner")
    expect_error(cen.update_transit_router_vpn_attachment_attribute, "InvalidParameter", 400,
                 cbn.UpdateTransitRouterVpnAttachmentAttributeRequest(transit_router_attachment_id=att,
                                                                      order_type="PayBySomeoneElse"), host_id=HOST)

    cen.delete_transit_router_vpn_attachment(cbn.DeleteTransitRouterVpnAttachmentRequest(
        transit_router_attachment_id=att))
    assert listed() is None
    expect_error(cen.delete_transit_router_vpn_attachment, "InvalidTransitRouterAttachmentId.NotFound", 404,
                 cbn.DeleteTransitRouterVpnAttachmentRequest(transit_router_attachment_id=att), host_id=HOST)
    conn = vpc.describe_vpn_connection(m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco)).body
    assert not conn.transit_router_id
    # Everything can go now, in Terraform's destroy order.
    cen.delete_transit_router_cidr(cbn.DeleteTransitRouterCidrRequest(
        region_id=REGION, transit_router_id=tr_id, transit_router_cidr_id=cidr_id))
    cen.delete_transit_router(cbn.DeleteTransitRouterRequest(transit_router_id=tr_id))
    cen.delete_cen(cbn.DeleteCenRequest(cen_id=cen_id))
    vpc.delete_vpn_attachment(m.DeleteVpnAttachmentRequest(region_id=REGION, vpn_connection_id=vco))


def test_vpn_attachment_errors(server):
    client = cbn_client(server)
    vpc = server.tea_client("v3")
    cen_id = active_cen(client)
    tr_id = active_router(client, cen_id)
    client.create_transit_router_cidr(cbn.CreateTransitRouterCidrRequest(
        region_id=REGION, transit_router_id=tr_id, cidr="172.20.0.0/16"))

    def attach(**kw):
        kw.setdefault("transit_router_id", tr_id)
        return client.create_transit_router_vpn_attachment(cbn.CreateTransitRouterVpnAttachmentRequest(
            region_id=REGION, **kw))

    expect_error(attach, "MissingParameter", 400, host_id=HOST)
    expect_error(attach, "InvalidVpnConnectionInstanceId.NotFound", 404, vpn_id="vco-nosuchconnection00001",
                 host_id=HOST)
    # A connection of a VPN gateway is not an attachment.
    gw = create_gateway(vpc)
    conn = create_connection(vpc, gw, create_customer_gateway(vpc), auto_config_route=False)
    expect_error(attach, "InvalidParameter", 400, vpn_id=conn, host_id=HOST)
    vco = vpn_attachment(vpc)
    expect_error(attach, "InvalidParameter", 400, vpn_id=vco,
                 zone=[cbn.CreateTransitRouterVpnAttachmentRequestZone(zone_id="cn-nowhere-z")], host_id=HOST)
    expect_error(attach, "InvalidParameter", 400, vpn_id=vco, vpn_owner_id=1, host_id=HOST)
    expect_error(attach, "ParameterInstanceId", 400, vpn_id=vco, transit_router_id="tr-bp1nosuchrouter000001",
                 host_id=HOST)
    expect_error(attach, "DryRunOperation", 400, vpn_id=vco, dry_run=True, host_id=HOST)
    # Nothing was attached by the refusals.
    assert client.list_transit_router_vpn_attachments(cbn.ListTransitRouterVpnAttachmentsRequest(
        region_id=REGION, transit_router_id=tr_id)).body.transit_router_attachments == []
    # CenId with RegionId finds the region's router.
    att = client.create_transit_router_vpn_attachment(cbn.CreateTransitRouterVpnAttachmentRequest(
        region_id=REGION, cen_id=cen_id, vpn_id=vco)).body.transit_router_attachment_id
    listed = client.list_transit_router_vpn_attachments(cbn.ListTransitRouterVpnAttachmentsRequest(
        region_id=REGION, cen_id=cen_id)).body
    assert [a.transit_router_attachment_id for a in listed.transit_router_attachments] == [att]
    for bad in ({"max_results": 0}, {"max_results": 101}, {"next_token": "x"}):
        expect_error(client.list_transit_router_vpn_attachments, "InvalidParameter", 400,
                     cbn.ListTransitRouterVpnAttachmentsRequest(region_id=REGION, **bad), host_id=HOST)
    # Every other CEN operation is unserved, not unknown.
    resp = server.raw_client().v1("CreateTransitRouterVbrAttachment", {"RegionId": REGION, "VbrId": "vbr-1"},
                                  version="2017-09-12")
    assert (resp.status, resp.json()["Code"], resp.json()["HostId"]) == (400, "UnsupportedOperation", HOST)


def test_cen_authorization(server):
    admin = ram(server)
    root = cbn_client(server)
    cen_id = active_cen(root)
    acct = account_id(server, Cred.root(server))
    user, cred = create_user_with_key(admin)
    policy = create_policy(admin, {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["cen:DescribeCens", "cen:ModifyCenAttribute"],
         "Resource": f"acs:cen:*:{acct}:ceninstance/*"},
        {"Effect": "Deny", "Action": "cen:ModifyCenAttribute", "Resource": f"acs:cen:*:{acct}:ceninstance/{cen_id}"},
    ]})
    attach_user(admin, user, policy, "Custom")
    limited = cbn_client(server, cred)
    assert describe_cen(limited, cen_id) is not None
    expect_error(limited.modify_cen_attribute, "Forbidden.RAM", 403,
                 cbn.ModifyCenAttributeRequest(cen_id=cen_id, name="x"), host_id=HOST)
    expect_error(limited.create_cen, "Forbidden.RAM", 403, cbn.CreateCenRequest(), host_id=HOST)
    expect_error(limited.create_transit_router, "Forbidden.RAM", 403,
                 cbn.CreateTransitRouterRequest(region_id=REGION, cen_id=cen_id), host_id=HOST)
    assert describe_cen(root, cen_id)["Name"] == ""
    root.delete_cen(cbn.DeleteCenRequest(cen_id=cen_id))
