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
