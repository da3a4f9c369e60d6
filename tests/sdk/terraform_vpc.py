"""Terraform's VPC side, replayed on the harness of terraform.py: what the Example Usage of the VPN
resources creates and reads before (and around) its first VPN resource.

Call for call from terraform-provider-alicloud at 81c43b67:
- alicloud_vpc, alicloud_vswitch: resource_alicloud_vpc.go, resource_alicloud_vswitch.go,
  service_alicloud_vpc_v2.go (DescribeVpcVpc, DescribeVpcDescribeRouteTableList,
  DescribeVpcVswitch, the state refresh functions, SetResourceTags).
- data sources alicloud_vpcs, alicloud_vswitches, alicloud_vpn_gateway_zones,
  alicloud_vpn_gateways: data_source_alicloud_*.go, service_alicloud_vpc.go
  (DescribeRouteTableList, read for every VPC while `enable_details` is true, its default).
- alicloud_vpn_route_entry, alicloud_vpn_pbr_route_entry: resource_alicloud_vpn_*route_entry.go,
  service_alicloud_vpc.go (DescribeVpnRouteEntry, DescribeVpnPbrRouteEntry: pages of 20).

All of them go through RpcPost like the IPsec resources (RpcGet for the zones), so the waits, the
retries and the ClientToken rules are terraform.py's. Where the provider's Go code indexes the
answer with a type assertion (`object["VSwitchIds"].(map[string]interface{})`,
`item["Status"].(string)`, `v.(json.Number)`), a replay asserts the same type: an answer of
another shape panics the provider (`go_map`, `go_str`, `go_number`).

- data source alicloud_zones, its ECS path (no `available_resource_creation` of another product:
  "VSwitch", "Instance", "Disk" or none): data_source_alicloud_zones.go and
  service_alicloud_ecs.go (EcsService.DescribeAvailableResources), through alibaba-cloud-sdk-go's
  ecs client (v1.63.107: POST, every parameter in the query, Format=JSON).
"""

from __future__ import annotations

import re
from typing import Any

from terraform import (
    ECS_VERSION,
    PAGE_SIZE_LARGE,
    RESOURCE_MANAGER_VERSION,
    Data,
    Provider,
    Resource,
    TerraformError,
    build_client_token,
    filter_ids_and_name,
    go_fmt,
    tags_to_map,
)

PAGE_SIZE_MEDIUM = 20  # common.go PageSizeMedium


def go_map(obj: dict, key: str) -> dict:
    """`obj[key].(map[string]interface{})`: anything but a JSON object panics the provider."""
    value = obj.get(key)
    assert isinstance(value, dict), f"the provider would panic: {key} is {value!r}, not an object"
    return value


def go_str(obj: dict, key: str) -> str:
    """`obj[key].(string)`."""
    value = obj.get(key)
    assert isinstance(value, str), f"the provider would panic: {key} is {value!r}, not a string"
    return value


def go_number(obj: dict, key: str) -> int:
    """`obj[key].(json.Number)`: a JSON number (an integer here)."""
    value = obj.get(key)
    assert isinstance(value, int) and not isinstance(value, bool), f"{key} is {value!r}, not a number"
    return value


def _not_found(action: str) -> TerraformError:
    """WrapErrorf(NotFoundErr(…)): the provider's own NotFound, for an answer without the object."""
    return TerraformError(action, 404, {"Code": "ResourceNotfound", "Message": "The resource is not found."})


# ----------------------------------------------------------------------------- alicloud_vpc


class Vpc(Resource):
    """alicloud_vpc (timeouts: create 10 min, update 5 min, delete 5 min)."""

    TYPE = "alicloud_vpc"
    RESOURCE_TYPE = "VPC"
    CREATE, UPDATE, DELETE = 600, 300, 300
    MODIFY_RETRY = ["OperationFailed.LastTokenProcessing", "LastTokenProcessing", "OperationFailed.QueryCenIpv6Status",
                    "IncorrectStatus", "OperationConflict", "SystemBusy", "ServiceUnavailable", "IncorrectVpcStatus"]

    def describe(self) -> dict:
        """VpcServiceV2.DescribeVpcVpc: DescribeVpcAttribute with VpcId and RegionId in the body; an
        answer without a VpcId is NotFound."""
        obj = self.tf.read("DescribeVpcAttribute", {}, {"VpcId": self.id, "RegionId": self.tf.region})
        if go_fmt(obj.get("VpcId")) == "":
            raise _not_found("DescribeVpcAttribute")
        return obj

    def system_route_table(self, *, required: bool) -> dict:
        """VpcServiceV2.DescribeVpcDescribeRouteTableList: the VPC's `System` table."""
        answer = self.tf.read("DescribeRouteTableList", {}, {"VpcId": self.id, "RegionId": self.tf.region})
        tables = go_map(answer, "RouterTableList").get("RouterTableListType") or []
        for item in tables:
            if go_fmt(item.get("RouteTableType")) == "System" and go_fmt(item.get("VpcId")) == self.id:
                return item
        if required:
            raise _not_found("DescribeRouteTableList")
        return {}

    def create(self, d: Data) -> str:
        if d.get_ok_exists("is_default")[0]:
            raise NotImplementedError("CreateDefaultVpc is not replayed (vpngw makes no default VPC)")
        body: dict[str, Any] = {"RegionId": self.tf.region, "ClientToken": build_client_token("CreateVpc")}
        for key, param in (("cidr_block", "CidrBlock"), ("name", "VpcName"), ("vpc_name", "VpcName"),
                           ("description", "Description"), ("resource_group_id", "ResourceGroupId")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = v
        v, ok = d.get_ok("user_cidrs")
        if ok:
            body["UserCidr"] = ",".join(v)
        v, ok = d.get_ok_exists("enable_ipv6")
        if ok:
            body["EnableIpv6"] = v
        v, ok = d.get_ok("tags")
        if ok:
            for i, (key, value) in enumerate(v.items(), start=1):  # expandTagsToMap: Tag.N.Key/Value
                body[f"Tag.{i}.Key"] = key
                body[f"Tag.{i}.Value"] = value
        v, ok = d.get_ok_exists("dry_run")
        if ok:
            body["DryRun"] = v
        answer = self.tf.retry("CreateVpc", {}, body, expected=["TaskConflict", "UnknownError"],
                               timeout_s=self.CREATE, fresh_token=False)
        self.id = go_fmt(answer["VpcId"])
        self.tf.wait_for_state(self.refresh_status, ["Available"], delay_s=5, timeout_s=self.CREATE)
        self.update(d)
        return self.id

    def update(self, d: Data) -> None:
        for unsupported in ("classic_link_enabled", "secondary_cidr_blocks", "system_route_table_name",
                            "system_route_table_description", "system_route_table_route_propagation_enable"):
            if d.has_change(unsupported):
                raise NotImplementedError(f"{unsupported} is not replayed")
        body: dict[str, Any] = {"VpcId": self.id, "RegionId": self.tf.region}
        update = False
        for key, param in (("description", "Description"), ("name", "VpcName"), ("vpc_name", "VpcName"),
                           ("cidr_block", "CidrBlock")):
            if not d.is_new and d.has_change(key):
                update, body[param] = True, d.get(key)
        if update:
            self.tf.retry("ModifyVpcAttribute", {}, body, expected=self.MODIFY_RETRY, timeout_s=self.UPDATE,
                          fresh_token=False)
            self.tf.wait_for_state(self.refresh_status, ["Available"], delay_s=5, timeout_s=self.UPDATE)
        if d.get_ok("resource_group_id")[1] and not d.is_new and d.has_change("resource_group_id"):
            self.tf.retry("MoveResourceGroup", {}, {"ResourceId": self.id, "RegionId": self.tf.region,
                                                    "NewResourceGroupId": d.get("resource_group_id"),
                                                    "ResourceType": self.RESOURCE_TYPE},
                          timeout_s=self.UPDATE, fresh_token=False)
        # ModifyRouteTableAttributes' request starts with the system table, read on every update.
        self.system_route_table(required=True)
        self.set_resource_tags(d, self.RESOURCE_TYPE, self.UPDATE)
        self.read(new=d.is_new)

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        s = {k: obj.get(api) for k, api in (
            ("cidr_block", "CidrBlock"), ("classic_link_enabled", "ClassicLinkEnabled"),
            ("create_time", "CreationTime"), ("description", "Description"),
            ("dns_hostname_status", "DnsHostnameStatus"), ("enable_ipv6", "EnabledIpv6"),
            ("ipv6_cidr_block", "Ipv6CidrBlock"), ("region_id", "RegionId"), ("is_default", "IsDefault"),
            ("resource_group_id", "ResourceGroupId"), ("router_id", "VRouterId"), ("status", "Status"),
            ("vpc_name", "VpcName"))}
        s["secondary_cidr_blocks"] = (obj.get("SecondaryCidrBlocks") or {}).get("SecondaryCidrBlock")
        s["user_cidrs"] = (obj.get("UserCidrs") or {}).get("UserCidr")
        s["tags"] = tags_to_map(obj)
        try:
            table = self.system_route_table(required=True)
        except TerraformError as e:
            if not e.not_found:
                raise
            table = {}
        s.update({
            "resource_group_id": table.get("ResourceGroupId"),
            "route_table_id": table.get("RouteTableId"),
            "router_id": table.get("RouterId"),
            "system_route_table_description": table.get("Description"),
            "system_route_table_name": table.get("RouteTableName"),
            "system_route_table_route_propagation_enable": table.get("RoutePropagationEnable"),
        })
        s["name"] = s["vpc_name"]
        s["router_table_id"] = s["route_table_id"]
        return self.keep(s)

    def destroy(self) -> None:
        body: dict[str, Any] = {"VpcId": self.id, "RegionId": self.tf.region, "ClientToken": build_client_token("DeleteVpc")}
        try:
            self.tf.retry("DeleteVpc", {}, body, timeout_s=self.DELETE,
                          expected=["DependencyViolation.VSwitch", "DependencyViolation.SecurityGroup",
                                    "IncorrectVpcStatus"])
        except TerraformError as e:
            if e.expected(["InvalidResource.NotFound"]) or e.not_found:
                self.id = None
                return
            raise
        self.tf.wait_for_state(self.refresh_status, [], delay_s=5, timeout_s=self.DELETE)
        self.id = None


# ------------------------------------------------------------------------- alicloud_vswitch


class VSwitch(Resource):
    """alicloud_vswitch (timeouts: create 5 min, update 5 min, delete 10 min)."""

    TYPE = "alicloud_vswitch"
    RESOURCE_TYPE = "VSWITCH"
    CREATE, UPDATE, DELETE = 300, 300, 600
    CREATE_RETRY = ["TaskConflict", "IncorrectStatus.cbnStatus", "InvalidStatus.RouteEntry",
                    "OperationFailed.IdempotentTokenProcessing", "IncorrectStatus",
                    "CreateVSwitch.IncorrectStatus.cbnStatus", "IncorrectVSwitchStatus", "OperationConflict",
                    "OperationFailed.DistibuteLock", "OperationFailed.NotifyCenCreate"]
    MODIFY_RETRY = ["OperationConflict", "OperationFailed.LastTokenProcessing", "IncorrectStatus.VSwitch",
                    "IncorrectStatus.VpcRouteEntry", "ServiceUnavailable"]
    DELETE_RETRY = ["DependencyViolation", "DependencyViolation.SnatEntry", "DependencyViolation.MulticastDomain",
                    "OperationConflict", "IncorrectRouteEntryStatus", "InternalError", "TaskConflict",
                    "DependencyViolation.EnhancedNatgw", "DependencyViolation.RouteTable", "DependencyViolation.HaVip",
                    "DeleteVSwitch.IncorrectStatus.cbnStatus", "SystemBusy", "IncorrectVSwitchStatus",
                    "LastTokenProcessing", "OperationDenied.OtherSubnetProcessing", "DependencyViolation.SNAT",
                    "DependencyViolation.NetworkAcl"]

    def describe(self) -> dict:
        """VpcServiceV2.DescribeVpcVswitch: VSwitchId in the query, RegionId in the body."""
        obj = self.tf.read("DescribeVSwitchAttributes", {"VSwitchId": self.id}, {"RegionId": self.tf.region})
        if obj.get("VSwitchId") == "":
            raise _not_found("DescribeVSwitchAttributes")
        return obj

    def refresh_status(self) -> tuple[dict | None, str]:
        """VpcVswitchStateRefreshFunc(id, "Status"): NotFound returns the (nil) map typed as an
        object, which the wait counts as found with the state "" (the delete's target)."""
        try:
            obj = self.describe()
        except TerraformError as e:
            if e.not_found:
                return {}, ""
            raise
        return obj, go_fmt(obj.get("Status"))

    def create(self, d: Data) -> str:
        if d.get_ok_exists("is_default")[0]:
            raise NotImplementedError("CreateDefaultVSwitch is not replayed (vpngw makes no default VPC)")
        body: dict[str, Any] = {
            "RegionId": self.tf.region,
            "ClientToken": build_client_token("CreateVSwitch"),
            "CidrBlock": d.get("cidr_block"),
            "VpcId": d.get("vpc_id"),
        }
        for key, param in (("name", "VSwitchName"), ("vswitch_name", "VSwitchName"), ("description", "Description"),
                           ("availability_zone", "ZoneId"), ("zone_id", "ZoneId")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = v
        v, ok = d.get_ok_exists("ipv6_cidr_block_mask")
        if ok:
            body["Ipv6CidrBlock"] = v
        answer = self.tf.retry("CreateVSwitch", None, body, expected=self.CREATE_RETRY, timeout_s=self.CREATE)
        self.id = go_fmt(answer["VSwitchId"])
        self.tf.wait_for_state(self.refresh_status, ["Available"], delay_s=0, timeout_s=self.CREATE)
        self.update(d)
        return self.id

    def update(self, d: Data) -> None:
        if not d.is_new and (d.has_change("enable_ipv6") or d.has_change("ipv6_cidr_block_mask")):
            raise NotImplementedError("IPv6 changes are not replayed")
        body: dict[str, Any] = {"VSwitchId": self.id, "RegionId": self.tf.region}
        update = False
        for key, param in (("name", "VSwitchName"), ("vswitch_name", "VSwitchName"), ("description", "Description")):
            if not d.is_new and d.has_change(key):
                update, body[param] = True, d.get(key)
        if update:
            self.tf.retry("ModifyVSwitchAttribute", None, body, expected=self.MODIFY_RETRY, timeout_s=self.UPDATE,
                          fresh_token=False)
            self.tf.wait_for_state(self.refresh_status, ["Available"], delay_s=0, timeout_s=self.UPDATE)
        self.set_resource_tags(d, self.RESOURCE_TYPE, self.UPDATE)
        self.read(new=d.is_new)

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        s = {k: obj.get(api) for k, api in (
            ("cidr_block", "CidrBlock"), ("create_time", "CreationTime"), ("description", "Description"),
            ("ipv6_cidr_block", "Ipv6CidrBlock"), ("is_default", "IsDefault"), ("status", "Status"),
            ("vswitch_name", "VSwitchName"), ("vpc_id", "VpcId"), ("zone_id", "ZoneId"))}
        s["tags"] = tags_to_map(obj)
        s["name"] = s["vswitch_name"]
        s["availability_zone"] = s["zone_id"]
        s["enable_ipv6"] = self.config.get("enable_ipv6", go_fmt(obj.get("Ipv6CidrBlock") or "") != "")
        return self.keep(s)

    def destroy(self) -> None:
        body = {"VSwitchId": self.id, "RegionId": self.tf.region}
        try:
            self.tf.retry("DeleteVSwitch", None, body, expected=self.DELETE_RETRY, timeout_s=self.DELETE,
                          fresh_token=False)
        except TerraformError as e:
            if e.expected(["InvalidVswitchID.NotFound", "InvalidVSwitchId.NotFound"]):
                self.id = None
                return
            raise
        self.tf.wait_for_state(self.refresh_status, [""], delay_s=0, timeout_s=self.DELETE)
        self.id = None


# ----------------------------------------------------------------------------- data sources


def _tag_filter(tags: dict[str, str] | None) -> list[dict[str, str]] | None:
    return [{"Key": k, "Value": v} for k, v in tags.items()] if tags else None


def data_vpcs(tf: Provider, config: dict) -> dict:
    """data "alicloud_vpcs": DescribeVpcs page by page (50), filtered on `cidr_block`,
    `vswitch_id`, `name_regex`, `ids`, `status`; with `enable_details` (default true) the system
    route table of every VPC found (VpcService.DescribeRouteTableList)."""
    body: dict[str, Any] = {"RegionId": tf.region}
    for key, param in (("is_default", "IsDefault"), ("resource_group_id", "ResourceGroupId"),
                       ("vpc_name", "VpcName"), ("vpc_owner_id", "VpcOwnerId")):
        if config.get(key) is not None:
            body[param] = config[key]
    if config.get("tags"):
        body["Tag"] = _tag_filter(config["tags"])
    paging = bool(config.get("page_number"))
    body["PageNumber"] = config.get("page_number") or 1
    body["PageSize"] = config.get("page_size") or PAGE_SIZE_LARGE
    objects: list[dict] = []
    while True:
        answer = tf.rpc_post("DescribeVpcs", None, body)
        result = go_map(answer, "Vpcs").get("Vpc") or []
        if paging:
            objects = result
            break
        for item in filter_ids_and_name(result, id_key="VpcId", name_key="VpcName", ids=config.get("ids"), name_regex=config.get("name_regex")):
            if config.get("cidr_block") and go_str(item, "CidrBlock") != config["cidr_block"]:
                continue
            if config.get("vswitch_id") and config["vswitch_id"] not in (go_map(item, "VSwitchIds").get("VSwitchId") or []):
                continue
            if config.get("status") and go_str(item, "Status") != config["status"]:
                continue
            objects.append(item)
        if len(result) < body["PageSize"]:
            break
        body["PageNumber"] += 1
    vpcs = []
    for obj in objects:
        mapping = {
            "id": go_fmt(obj.get("VpcId")), "vpc_id": go_fmt(obj.get("VpcId")), "vpc_name": obj.get("VpcName"),
            "cidr_block": obj.get("CidrBlock"), "status": obj.get("Status"), "region_id": obj.get("RegionId"),
            "router_id": obj.get("VRouterId"), "vrouter_id": obj.get("VRouterId"), "is_default": obj.get("IsDefault"),
            "description": obj.get("Description"), "creation_time": obj.get("CreationTime"),
            "resource_group_id": obj.get("ResourceGroupId"),
            "secondary_cidr_blocks": go_map(obj, "SecondaryCidrBlocks").get("SecondaryCidrBlock"),
            "user_cidrs": go_map(obj, "UserCidrs").get("UserCidr"),
            "vswitch_ids": go_map(obj, "VSwitchIds").get("VSwitchId"),
            "tags": tags_to_map(obj),
        }
        if config.get("enable_details", True):
            mapping["route_table_id"] = _system_route_table(tf, mapping["id"]).get("RouteTableId")
        vpcs.append(mapping)
    return {"ids": [v["id"] for v in vpcs], "names": [v["vpc_name"] for v in vpcs], "vpcs": vpcs,
            "total_count": answer.get("TotalCount")}


def _system_route_table(tf: Provider, vpc_id: str) -> dict:
    """VpcService.DescribeRouteTableList (the older service): pages of 50, the first `System`
    table, or nothing."""
    body: dict[str, Any] = {"RegionId": tf.region, "VpcId": vpc_id, "PageSize": PAGE_SIZE_LARGE, "PageNumber": 1}
    while True:
        answer = tf.retry("DescribeRouteTableList", None, dict(body), timeout_s=300, fresh_token=False)
        tables = go_map(answer, "RouterTableList").get("RouterTableListType") or []
        for item in tables:
            if item.get("RouteTableType") == "System":
                return item
        if len(tables) < PAGE_SIZE_LARGE:
            return {}
        body["PageNumber"] += 1


def data_vswitches(tf: Provider, config: dict) -> dict:
    """data "alicloud_vswitches": DescribeVSwitches page by page (50), filtered on `name_regex`,
    `ids`, `cidr_block`, `status`."""
    body: dict[str, Any] = {"RegionId": tf.region}
    for key, param in (("is_default", "IsDefault"), ("resource_group_id", "ResourceGroupId"),
                       ("route_table_id", "RouteTableId"), ("vswitch_name", "VSwitchName"),
                       ("vswitch_owner_id", "VSwitchOwnerId"), ("vpc_id", "VpcId"), ("zone_id", "ZoneId")):
        if config.get(key) is not None:
            body[param] = config[key]
    if config.get("tags"):
        body["Tag"] = _tag_filter(config["tags"])
    body["PageSize"] = PAGE_SIZE_LARGE
    body["PageNumber"] = 1
    objects: list[dict] = []
    while True:
        answer = tf.rpc_post("DescribeVSwitches", None, body)
        result = go_map(answer, "VSwitches").get("VSwitch") or []
        for item in filter_ids_and_name(result, id_key="VSwitchId", name_key="VSwitchName", ids=config.get("ids"), name_regex=config.get("name_regex")):
            if config.get("cidr_block") and go_fmt(item.get("CidrBlock")) != config["cidr_block"].strip():
                continue
            if config.get("status") and go_str(item, "Status") != config["status"]:
                continue
            objects.append(item)
        if len(result) < PAGE_SIZE_LARGE:
            break
        body["PageNumber"] += 1
    vswitches = [{
        "id": go_fmt(obj.get("VSwitchId")), "vswitch_id": go_fmt(obj.get("VSwitchId")),
        "vswitch_name": obj.get("VSwitchName"), "name": obj.get("VSwitchName"), "cidr_block": obj.get("CidrBlock"),
        "vpc_id": obj.get("VpcId"), "zone_id": obj.get("ZoneId"), "status": obj.get("Status"),
        "available_ip_address_count": obj.get("AvailableIpAddressCount"), "is_default": obj.get("IsDefault"),
        "description": obj.get("Description"), "creation_time": obj.get("CreationTime"),
        "resource_group_id": obj.get("ResourceGroupId"),
        "route_table_id": go_map(obj, "RouteTable").get("RouteTableId"),
        "enable_ipv6": obj.get("Ipv6CidrBlock") not in (None, ""),
        "tags": tags_to_map(obj),
    } for obj in objects]
    return {"ids": [v["id"] for v in vswitches], "names": [v["name"] for v in vswitches], "vswitches": vswitches}


def data_zones(tf: Provider, config: dict) -> dict:
    """data "alicloud_zones" for ECS resources (and `available_resource_creation = "VSwitch"`,
    which adds no other product's call): DescribeAvailableResource (DestinationResource=Zone,
    retried 5 min on NeedRetry), then DescribeZones; a zone is kept when both list it and it has
    an instance type and a disk category (the configured ones, if any). Ids sorted."""
    charge = config.get("instance_charge_type", "PostPaid")
    spot = config.get("spot_strategy", "NoSpot")
    query: dict[str, Any] = {"RegionId": tf.region, "DestinationResource": "Zone", "IoOptimized": "optimized"}
    if charge:
        query["InstanceChargeType"] = charge
    if spot:
        query["SpotStrategy"] = spot
    if config.get("network_type"):
        query["NetworkCategory"] = config["network_type"]
    answer = tf.retry("DescribeAvailableResource", query, {}, timeout_s=300, fresh_token=False, waits=(3, 3),
                      version=ECS_VERSION)
    offered = answer["AvailableZones"]["AvailableZone"]
    assert offered, "There are no available zones in the API DescribeAvailableResource response"
    valid = [z["ZoneId"] for z in offered if z.get("Status") != "SoldOut"]
    query = {"RegionId": tf.region, "InstanceChargeType": charge}
    if spot:
        query["SpotStrategy"] = spot
    zones = tf.rpc_post("DescribeZones", query, {}, version=ECS_VERSION)["Zones"]["Zone"]
    assert zones, "There are no availability zones in the region"
    kept: dict[str, dict] = {}
    for zone in zones:
        if zone["ZoneId"] not in valid:
            continue
        types = zone["AvailableInstanceTypes"]["InstanceTypes"]
        disks = zone["AvailableDiskCategories"]["DiskCategories"]
        if not types or (config.get("available_instance_type") and config["available_instance_type"] not in types):
            continue
        if not disks or (config.get("available_disk_category") and config["available_disk_category"] not in disks):
            continue
        kept[zone["ZoneId"]] = zone
    ids = sorted(kept)
    details = config.get("enable_details", False)
    return {"ids": ids, "zones": [
        {"id": z, **({"local_name": kept[z]["LocalName"],
                      "available_instance_types": kept[z]["AvailableInstanceTypes"]["InstanceTypes"],
                      "available_resource_creation": kept[z]["AvailableResourceCreation"]["ResourceTypes"],
                      "available_disk_categories": kept[z]["AvailableDiskCategories"]["DiskCategories"]}
                     if details else {})} for z in ids]}


def data_vpn_gateway_zones(tf: Provider, config: dict) -> dict:
    """data "alicloud_vpn_gateway_zones": one RpcGet of DescribeVpnGatewayAvailableZones (query
    only), retried on NeedRetry for the update timeout (5 min)."""
    query: dict[str, Any] = {"RegionId": tf.region}
    if config.get("spec"):
        query["Spec"] = config["spec"]
    answer = tf.retry("DescribeVpnGatewayAvailableZones", query, {}, timeout_s=300, fresh_token=False,
                      method="GET")
    zones = answer["AvailableZoneIdList"]  # resp.([]interface{}): a list, or the provider panics
    assert isinstance(zones, list), f"the provider would panic: AvailableZoneIdList is {zones!r}"
    return {"ids": [go_fmt(z.get("ZoneId")) for z in zones],
            "zones": [{"zone_id": z.get("ZoneId"), "zone_name": z.get("ZoneName")} for z in zones]}


def data_vpn_gateways(tf: Provider, config: dict) -> dict:
    """data "alicloud_vpn_gateways": DescribeVpnGateways page by page (50, retried 5 min),
    filtered on `name_regex` and `ids`, then on `ssl_vpn`."""
    body: dict[str, Any] = {"RegionId": tf.region}
    if config.get("vpc_id"):
        body["VpcId"] = config["vpc_id"]
    if config.get("status"):
        body["Status"] = config["status"].lower()
    if config.get("business_status"):
        body["BusinessStatus"] = config["business_status"]
    body["PageNumber"] = 1
    body["PageSize"] = PAGE_SIZE_LARGE
    objects: list[dict] = []
    while True:
        answer = tf.retry("DescribeVpnGateways", None, dict(body), timeout_s=300, fresh_token=False, waits=(3, 3))
        result = go_map(answer, "VpnGateways").get("VpnGateway") or []
        objects += filter_ids_and_name(result, id_key="VpnGatewayId", ids=config.get("ids"), name_regex=config.get("name_regex"))
        if len(result) < PAGE_SIZE_LARGE:
            break
        body["PageNumber"] += 1
    gateways = []
    for obj in objects:
        if config.get("ssl_vpn") and config["ssl_vpn"] != go_fmt(obj.get("SslVpn")):
            continue
        gateways.append({
            "id": obj.get("VpnGatewayId"), "vpc_id": obj.get("VpcId"), "vswitch_id": obj.get("VSwitchId"),
            "name": obj.get("Name"), "status": obj.get("Status"), "specification": obj.get("Spec"),
            "internet_ip": obj.get("InternetIp"), "business_status": obj.get("BusinessStatus"),
            "enable_ipsec": obj.get("IpsecVpn"), "enable_ssl": obj.get("SslVpn"),
            "create_time": go_number(obj, "CreateTime"), "end_time": go_number(obj, "EndTime"),
            "tags": tags_to_map(obj),
        })
    return {"ids": [go_fmt(g["id"]) for g in gateways], "names": [g["name"] for g in gateways], "gateways": gateways}


# ----------------------------------------------------- alicloud_vpn_route_entry / pbr_route_entry

ROUTE_RETRY = ["VpnGateway.Configuring", "TaskConflict", "Appliance.Configuring", "VpnTask.CONFLICT",
               "VpnConnection.Configuring"]


class VpnRouteEntry(Resource):
    """alicloud_vpn_route_entry (5 min each). Its ID is `<gateway>:<next_hop>:<route_dest>`, built
    from CreateVpnRouteEntry's answer; Read pages through DescribeVpnRouteEntries (20 a page)."""

    TYPE = "alicloud_vpn_route_entry"
    TIMEOUT = 300
    KEY = ("NextHop", "RouteDest")  # the ID's parts after the gateway, as the entries name them
    CREATE, DESCRIBE, PUBLISH, WEIGHT, DELETE = ("CreateVpnRouteEntry", "DescribeVpnRouteEntries",
                                                 "PublishVpnRouteEntry", "ModifyVpnRouteEntryWeight",
                                                 "DeleteVpnRouteEntry")
    LIST = ("VpnRouteEntries", "VpnRouteEntry")
    ROUTE_TYPE = "dbr"
    DELETE_RETRY = [*ROUTE_RETRY, "VpnRouteEntry.Configuring"]
    WAIT_AFTER_PUBLISH = True

    def parts(self) -> dict[str, str]:
        gateway, *rest = self.id.split(":")
        return {"VpnGatewayId": gateway, **dict(zip(self.KEY, rest))}

    def describe(self) -> dict:
        parts = self.parts()
        body: dict[str, Any] = {"RegionId": self.tf.region, "VpnGatewayId": parts["VpnGatewayId"], "PageNumber": 1,
                                "PageSize": PAGE_SIZE_MEDIUM}
        while True:
            answer = self.tf.retry(self.DESCRIBE, None, dict(body), timeout_s=300, fresh_token=False, waits=(3, 3))
            entries = go_map(answer, self.LIST[0]).get(self.LIST[1]) or []
            if not entries:
                raise _not_found(self.DESCRIBE)
            for item in entries:
                if all(go_fmt(item.get(k)) == parts[k] for k in self.KEY):
                    return item
            if len(entries) < body["PageSize"]:
                raise _not_found(self.DESCRIBE)
            body["PageNumber"] += 1

    def refresh_state(self) -> tuple[dict | None, str]:
        try:
            obj = self.describe()
        except TerraformError as e:
            if e.not_found:
                return None, ""
            raise
        return obj, go_str(obj, "State")

    def create_body(self, d: Data) -> dict[str, Any]:
        return {"RegionId": self.tf.region, "VpnGatewayId": d.get("vpn_gateway_id"), "RouteDest": d.get("route_dest"),
                "NextHop": d.get("next_hop"), "Weight": d.get("weight"), "PublishVpc": d.get("publish_vpc"),
                "ClientToken": build_client_token(self.CREATE)}

    def id_of(self, body: dict, answer: dict) -> str:
        return f"{go_fmt(answer['VpnInstanceId'])}:{go_fmt(answer['NextHop'])}:{go_fmt(answer['RouteDest'])}"

    def create(self, d: Data) -> str:
        body = self.create_body(d)
        answer = self.tf.retry(self.CREATE, None, body, expected=ROUTE_RETRY, timeout_s=self.TIMEOUT)
        self.id = self.id_of(body, answer)
        self.tf.wait_for_state(self.refresh_state, ["published", "normal"], delay_s=5, timeout_s=self.TIMEOUT)
        self.read(new=True)
        return self.id

    def read(self, *, new: bool) -> dict | None:
        try:
            obj = self.describe()
        except TerraformError as e:
            if e.not_found:  # both route resources leave the state on NotFound, new or not
                return None
            raise
        self.raw = obj
        s = {"weight": obj.get("Weight"), "next_hop": obj.get("NextHop"), "route_dest": obj.get("RouteDest"),
             "vpn_gateway_id": obj.get("VpnInstanceId"), "publish_vpc": obj.get("State") == "published",
             "status": obj.get("State")}
        if "RouteSource" in self.KEY:
            s["route_source"] = obj.get("RouteSource")
        else:
            s["route_entry_type"] = obj.get("RouteEntryType")
        return self.keep(s)

    def update(self, d: Data) -> None:
        key = self.parts()
        if d.has_change("publish_vpc"):
            body = {"RegionId": self.tf.region, **key, "PublishVpc": d.get("publish_vpc"),
                    "RouteType": self.ROUTE_TYPE, "ClientToken": build_client_token(self.PUBLISH)}
            self.tf.retry(self.PUBLISH, None, body, expected=ROUTE_RETRY, timeout_s=self.TIMEOUT, fresh_token=False)
            if self.WAIT_AFTER_PUBLISH:
                target = "published" if d.get("publish_vpc") else "normal"
                self.tf.wait_for_state(self.refresh_state, [target], delay_s=5, timeout_s=self.TIMEOUT)
        if d.has_change("weight"):
            # The provider builds a ClientToken for this call into the other request: none is sent.
            body = {"RegionId": self.tf.region, **key, "Weight": self.state.get("weight"), "NewWeight": d.get("weight")}
            self.tf.retry(self.WEIGHT, None, body, expected=ROUTE_RETRY, timeout_s=self.TIMEOUT, fresh_token=False)
        self.read(new=False)

    def destroy(self) -> None:
        body: dict[str, Any] = {"RegionId": self.tf.region, **self.parts()}
        if "weight" in self.config:
            body["Weight"] = self.config["weight"]
        body["ClientToken"] = build_client_token(self.DELETE)
        try:
            self.tf.retry(self.DELETE, None, body, expected=self.DELETE_RETRY, timeout_s=self.TIMEOUT,
                          fresh_token=False)
        except TerraformError as e:
            if not self.ignore_on_delete(e):
                raise
            self.id = None
            return
        self.tf.wait_for_state(self.refresh_state, [], delay_s=5, timeout_s=self.TIMEOUT)
        self.id = None

    def ignore_on_delete(self, e: TerraformError) -> bool:
        return e.expected(["InvalidRouteEntry.NotFound"]) or e.need_retry


class VpnPbrRouteEntry(VpnRouteEntry):
    """alicloud_vpn_pbr_route_entry: as the destination route, keyed
    `<gateway>:<next_hop>:<route_source>:<route_dest>` from the request; publishing does not
    wait, and a failed delete is never ignored."""

    TYPE = "alicloud_vpn_pbr_route_entry"
    KEY = ("NextHop", "RouteSource", "RouteDest")
    CREATE, DESCRIBE, PUBLISH, WEIGHT, DELETE = ("CreateVpnPbrRouteEntry", "DescribeVpnPbrRouteEntries",
                                                 "PublishVpnRouteEntry", "ModifyVpnPbrRouteEntryWeight",
                                                 "DeleteVpnPbrRouteEntry")
    LIST = ("VpnPbrRouteEntries", "VpnPbrRouteEntry")
    ROUTE_TYPE = "pbr"
    DELETE_RETRY = ROUTE_RETRY
    WAIT_AFTER_PUBLISH = False

    def create_body(self, d: Data) -> dict[str, Any]:
        body = super().create_body(d)
        body["RouteSource"] = d.get("route_source")
        return body

    def id_of(self, body: dict, answer: dict) -> str:
        return ":".join(go_fmt(body[k]) for k in ("VpnGatewayId", "NextHop", "RouteSource", "RouteDest"))

    def ignore_on_delete(self, e: TerraformError) -> bool:
        return False


def data_resource_manager_resource_groups(tf: Provider, config: dict) -> dict:
    """data "alicloud_resource_manager_resource_groups": ListResourceGroups in the body,
    PageSize PageSizeLarge from page 1 until a short page, `Status` when configured; `name_regex` and `ids`
    filter the answer (GetResourceGroup per group with `enable_details`, not replayed)."""
    body: dict[str, Any] = {}
    if config.get("status"):
        body["Status"] = config["status"]
    body["PageSize"], body["PageNumber"] = PAGE_SIZE_LARGE, 1
    pattern = re.compile(config["name_regex"]) if config.get("name_regex") else None
    wanted = set(config.get("ids") or [])
    groups = []
    while True:
        answer = tf.rpc_post("ListResourceGroups", None, body, version=RESOURCE_MANAGER_VERSION)
        page = answer["ResourceGroups"]["ResourceGroup"]
        groups += [g for g in page if (pattern is None or pattern.search(str(g["Name"])))
                   and (not wanted or g["Id"] in wanted)]
        if len(page) < PAGE_SIZE_LARGE:
            break
        body["PageNumber"] += 1
    return {"ids": [g["Id"] for g in groups], "names": [g["Name"] for g in groups],
            "groups": [{"account_id": g["AccountId"], "display_name": g["DisplayName"], "id": g["Id"],
                        "name": g["Name"], "resource_group_name": g["Name"], "status": g["Status"]}
                       for g in groups]}
