"""DescribeRegions and DescribeZones."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from alibabacloud_vpc20160428 import models as m
from aliyunsdkvpc.request.v20160428.DescribeRegionsRequest import DescribeRegionsRequest
from aliyunsdkvpc.request.v20160428.DescribeZonesRequest import DescribeZonesRequest

from helpers import OTHER_REGION, REGION, assert_request_id, check_response, expect_error


def regions_by_id(body: dict) -> dict[str, dict]:
    return {r["RegionId"]: r for r in body["Regions"]["Region"]}


def test_describe_regions(vpc):
    # DescribeRegions has no RegionId parameter in the SDK: the Tea clients send none.
    body = vpc.describe_regions(m.DescribeRegionsRequest()).body.to_map()
    check_response("DescribeRegions", body)
    regions = regions_by_id(body)
    assert REGION in regions and OTHER_REGION in regions  # the suite uses both
    for region in regions.values():
        for key in ("RegionId", "LocalName", "RegionEndpoint"):
            assert isinstance(region.get(key), str) and region[key], region
    assert len(regions) == len(body["Regions"]["Region"]), "no duplicates"


def test_describe_regions_accept_language(vpc3):
    # The RegionId set does not depend on the language (only LocalName may).
    zh = regions_by_id(vpc3.describe_regions(m.DescribeRegionsRequest()).body.to_map())
    en = regions_by_id(vpc3.describe_regions(m.DescribeRegionsRequest(accept_language="en-US")).body.to_map())
    assert set(zh) == set(en)
    assert en[REGION]["LocalName"]


def test_describe_zones(vpc):
    body = vpc.describe_zones(m.DescribeZonesRequest(region_id=REGION)).body.to_map()
    check_response("DescribeZones", body)
    zones = body["Zones"]["Zone"]
    assert zones, "cn-hangzhou has zones"
    for zone in zones:
        assert zone["ZoneId"].startswith(REGION + "-"), zone
        assert isinstance(zone.get("LocalName"), str) and zone["LocalName"], zone
    assert len({z["ZoneId"] for z in zones}) == len(zones)


def test_zones_belong_to_their_region(vpc3):
    zones = vpc3.describe_zones(m.DescribeZonesRequest(region_id=OTHER_REGION)).body.to_map()["Zones"]["Zone"]
    assert zones and all(z["ZoneId"].startswith(OTHER_REGION + "-") for z in zones)


def test_describe_zones_unknown_region(vpc):
    expect_error(vpc.describe_zones, "InvalidRegionId.NotFound", 404, m.DescribeZonesRequest(region_id="xx-nowhere-1"))


def test_legacy_regions_and_zones(legacy):
    body = json.loads(legacy.do(DescribeRegionsRequest()))
    check_response("DescribeRegions", body)
    assert REGION in regions_by_id(body)

    body = json.loads(legacy.do(DescribeZonesRequest()))  # legacy adds RegionId=cn-hangzhou itself
    check_response("DescribeZones", body)
    assert all(z["ZoneId"].startswith(REGION + "-") for z in body["Zones"]["Zone"])


def test_legacy_zones_xml(legacy):
    req = DescribeZonesRequest()
    req.set_accept_format("XML")
    status, _headers, raw = legacy.do_raw(req)
    assert status == 200
    root = ET.fromstring(raw)
    assert root.tag == "DescribeZonesResponse"
    assert_request_id(root.findtext("RequestId"))
    zone_ids = [z.findtext("ZoneId") for z in root.findall("./Zones/Zone")]
    assert zone_ids and all(z.startswith(REGION + "-") for z in zone_ids)


# ------------------------------------------------ ECS 2014-05-26: the zone reads of data "alicloud_zones"


def ecs_client(server, cred=None, signature: str = "v3"):
    """The official ECS SDK (alibabacloud-ecs20140526) against the same endpoint."""
    from alibabacloud_ecs20140526.client import Client as EcsClient
    from ram_helpers import Cred, _config

    return EcsClient(_config(server, cred or Cred.root(server), signature))


def test_ecs_zone_reads(server, vpc3):
    from alibabacloud_ecs20140526 import models as ecs

    catalogue = [z.zone_id for z in vpc3.describe_zones(m.DescribeZonesRequest(region_id=REGION)).body.zones.zone]
    for signature in ("v3", "v1"):
        client = ecs_client(server, signature=signature)
        body = client.describe_available_resource(ecs.DescribeAvailableResourceRequest(
            region_id=REGION, destination_resource="Zone", io_optimized="optimized", instance_charge_type="PostPaid",
            spot_strategy="NoSpot")).body.to_map()
        assert_request_id(body["RequestId"])
        zones = body["AvailableZones"]["AvailableZone"]
        assert [z["ZoneId"] for z in zones] == catalogue
        assert zones[0] == {"RegionId": REGION, "ZoneId": catalogue[0], "Status": "Available",
                            "StatusCategory": "WithStock", "AvailableResources": {"AvailableResource": [
                                {"Type": "Zone", "SupportedResources": {"SupportedResource": [
                                    {"Value": catalogue[0], "Status": "Available", "StatusCategory": "WithStock"}]}}]}}
        listed = client.describe_zones(ecs.DescribeZonesRequest(region_id=REGION, accept_language="en-US")).body
        assert [z.zone_id for z in listed.zones.zone] == catalogue
        zone = listed.zones.zone[0]
        assert zone.available_instance_types.instance_types and zone.available_disk_categories.disk_categories
        assert "VSwitch" in zone.available_resource_creation.resource_types and zone.local_name
        assert zone.available_resources.resources_info[0].io_optimized is True

    # Filters: one zone, disks with their sizes, an instance type not offered finds nothing.
    disks = client.describe_available_resource(ecs.DescribeAvailableResourceRequest(
        region_id=REGION, destination_resource="SystemDisk", zone_id=catalogue[1],
        instance_type="ecs.g7.large")).body.to_map()["AvailableZones"]["AvailableZone"]
    assert [z["ZoneId"] for z in disks] == [catalogue[1]]
    offered = disks[0]["AvailableResources"]["AvailableResource"][0]["SupportedResources"]["SupportedResource"]
    assert {(d["Value"], d["Min"], d["Unit"]) for d in offered} >= {("cloud_essd", 20, "GiB")}
    none = client.describe_available_resource(ecs.DescribeAvailableResourceRequest(
        region_id=REGION, destination_resource="Zone", instance_type="ecs.gn7i-c8g1.2xlarge")).body
    assert none.available_zones.available_zone == []
    brief = client.describe_zones(ecs.DescribeZonesRequest(region_id=REGION, verbose=False)).body.to_map()
    assert brief["Zones"]["Zone"][0]["AvailableResources"] == {"ResourcesInfo": []}


def test_ecs_errors_and_authorization(server, raw):
    from alibabacloud_ecs20140526 import models as ecs
    from ram_helpers import attach_user, create_policy, create_user_with_key, ram

    client = ecs_client(server)
    expect_error(client.describe_available_resource, "InvalidParameter", 400,
                 ecs.DescribeAvailableResourceRequest(region_id=REGION, destination_resource="Zones"),
                 host_id="ecs.aliyuncs.com")
    expect_error(client.describe_zones, "InvalidRegionId.NotFound", 404,
                 ecs.DescribeZonesRequest(region_id="xx-nowhere-1"), host_id="ecs.aliyuncs.com")
    # Every other ECS operation is refused as unserved, not as unknown.
    resp = raw.v1("DescribeInstances", {"RegionId": REGION}, version="2014-05-26")
    assert (resp.status, resp.json()["Code"]) == (400, "UnsupportedOperation")
    assert resp.json()["HostId"] == "ecs.aliyuncs.com"

    # RAM: ecs:DescribeZones allowed, ecs:DescribeAvailableResource not.
    admin = ram(server)
    user, cred = create_user_with_key(admin)
    policy = create_policy(admin, {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "ecs:DescribeZones", "Resource": f"acs:ecs:{REGION}:*:*"}]})
    attach_user(admin, user, policy, "Custom")
    limited = ecs_client(server, cred)
    assert limited.describe_zones(ecs.DescribeZonesRequest(region_id=REGION)).body.zones.zone
    expect_error(limited.describe_available_resource, "Forbidden.RAM", 403,
                 ecs.DescribeAvailableResourceRequest(region_id=REGION, destination_resource="Zone"),
                 host_id="ecs.aliyuncs.com")


# --------------------------- Resource Manager 2020-03-31: data "alicloud_resource_manager_resource_groups"


def resource_manager_client(server, cred=None, signature: str = "v3"):
    """The official Resource Manager SDK (alibabacloud-resourcemanager20200331), same endpoint."""
    from alibabacloud_resourcemanager20200331.client import Client as RmClient
    from ram_helpers import Cred, _config

    return RmClient(_config(server, cred or Cred.root(server), signature))


def test_resource_manager_lists_the_default_group(server):
    from alibabacloud_resourcemanager20200331 import models as rm
    from ram_helpers import Cred, account_id

    for signature in ("v1", "v3"):
        client = resource_manager_client(server, signature=signature)
        body = client.list_resource_groups(rm.ListResourceGroupsRequest(page_size=50)).body.to_map()
        assert body["RequestId"]  # the SDK parsed the rest: its models' names and types
        assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (1, 1, 50)
        group = body["ResourceGroups"]["ResourceGroup"][0]
        assert (group["Id"], group["Name"], group["Status"]) == ("rg-default", "default", "OK")
        assert group["AccountId"] == account_id(server, Cred.root(server)) and group["CreateDate"].endswith("Z")
    # The filters keep it or leave it out.
    kept = {"resource_group_ids": ["rg-default", "rg-acfmother1"], "name": "defa", "display_name": "Default",
            "status": "OK"}
    for field, value in kept.items():
        body = client.list_resource_groups(rm.ListResourceGroupsRequest(**{field: value})).body
        assert body.total_count == 1, field
    dropped = {"resource_group_id": "rg-acfmother1", "name": "prod", "status": "PendingDelete",
               "tag": [rm.ListResourceGroupsRequestTag(key="env", value="prod")]}
    for field, value in dropped.items():
        body = client.list_resource_groups(rm.ListResourceGroupsRequest(**{field: value})).body
        assert (body.total_count, body.resource_groups.resource_group) == (0, []), field
    # ResourceGroupIds takes precedence over ResourceGroupId.
    body = client.list_resource_groups(rm.ListResourceGroupsRequest(
        resource_group_id="rg-acfmother1", resource_group_ids=["rg-default"])).body
    assert body.total_count == 1
    assert client.list_resource_groups(rm.ListResourceGroupsRequest(page_number=2)).body.resource_groups.resource_group == []

    got = client.get_resource_group(rm.GetResourceGroupRequest(resource_group_id="rg-default")).body.to_map()
    statuses = got["ResourceGroup"]["RegionStatuses"]["RegionStatus"]
    assert {"RegionId": REGION, "Status": "OK"} in statuses


def test_resource_manager_errors_and_authorization(server, raw):
    from alibabacloud_resourcemanager20200331 import models as rm
    from ram_helpers import attach_user, create_policy, create_user_with_key, ram

    client = resource_manager_client(server)
    host = "resourcemanager.aliyuncs.com"
    expect_error(client.get_resource_group, "EntityNotExists.ResourceGroup", 404,
                 rm.GetResourceGroupRequest(resource_group_id="rg-acfmother1"), host_id=host)
    for bad in ({"page_size": 101}, {"page_size": 0}, {"page_number": 0}):
        expect_error(client.list_resource_groups, "InvalidParameter", 400, rm.ListResourceGroupsRequest(**bad),
                     host_id=host)
    expect_error(client.get_resource_group, "MissingParameter", 400, rm.GetResourceGroupRequest(), host_id=host)
    # Every other Resource Manager operation is refused as unserved, not as unknown.
    resp = raw.v1("CreateResourceGroup", {"Name": "prod", "DisplayName": "prod"}, version="2020-03-31")
    assert (resp.status, resp.json()["Code"]) == (400, "UnsupportedOperation")
    assert resp.json()["HostId"] == host

    admin = ram(server)
    user, cred = create_user_with_key(admin)
    policy = create_policy(admin, {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "resourcemanager:ListResourceGroups", "Resource": "*"}]})
    attach_user(admin, user, policy, "Custom")
    limited = resource_manager_client(server, cred)
    assert limited.list_resource_groups(rm.ListResourceGroupsRequest()).body.total_count == 1
    expect_error(limited.get_resource_group, "Forbidden.RAM", 403,
                 rm.GetResourceGroupRequest(resource_group_id="rg-default"), host_id=host)
