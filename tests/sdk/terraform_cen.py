"""Terraform's CEN side, replayed on the harness of terraform.py: what the Example Usage of
alicloud_vpn_gateway_vco_route builds before its VPN attachment is routed.

Call for call from terraform-provider-alicloud at 81c43b67 (product Cbn, Version 2017-09-12, every
call through RpcPost):
- alicloud_cen_instance: resource_alicloud_cen_instance.go, CenServiceV2.DescribeCenCenInstance
  (DescribeCens with `Filter.1.Key=CenId`, `Filter.1.Value.1=<id>`).
- alicloud_cen_transit_router: resource_alicloud_cen_transit_router.go (id `<cen>:<tr>`),
  DescribeCenTransitRouter (ListTransitRouters; `ParameterCenInstanceId` is NotFound).
- alicloud_cen_transit_router_cidr: resource_alicloud_cen_transit_router_cidr.go (id `<tr>:<cidr>`),
  DescribeCenTransitRouterCidr (ListTransitRouterCidr, a fresh ClientToken after every attempt).
- data alicloud_cen_transit_router_available_resources: ListTransitRouterAvailableResource.
- alicloud_cen_transit_router_vpn_attachment: resource_alicloud_cen_transit_router_vpn_attachment.go,
  DescribeCenTransitRouterVpnAttachment (ListTransitRouterVpnAttachments).

The state refresh functions of the CEN instance and the VPN attachment return the (nil) map on
NotFound with state "": a typed nil map is no nil interface to StateChangeConf, so the delete waits'
target [""] is met by the resource being gone (`_gone`). The transit router's returns nil: its
delete wait (target none) ends on NotFound.
"""

from __future__ import annotations

from typing import Any

from terraform import Data, Provider, Resource, TerraformError, build_client_token, go_fmt, tags_to_map
from terraform_vpc import _not_found

CBN_VERSION = "2017-09-12"

CREATE_RETRY = ["Operation.Blocking", "IncorrectStatus.Status"]
TR_DELETE_RETRY = ["Operation.Blocking", "IncorrectStatus.Status", "IncorrectStatus.CenInstance",
                   "InvalidOperation.AttachedChildInstanceExist", "IncorrectStatus.TransitRouterInstance"]
ATTACHMENT_CREATE_RETRY = ["OperationFailed.AllocateCidrFailed", "IncorrectStatus.Status", "Operation.Blocking",
                           "Throttling.user"]
ATTACHMENT_RETRY = ["IncorrectStatus.Status", "Operation.Blocking", "Throttling.user"]


def cbn_read(tf: Provider, action: str, body: dict, *, fresh_token: bool = False) -> dict:
    """The Describe helpers: resource.Retry(1 min) on NeedRetry, product Cbn."""
    return tf.retry(action, {}, body, timeout_s=60, fresh_token=fresh_token, version=CBN_VERSION)


def expand_tags(body: dict, tags: dict | None) -> None:
    """expandTagsToMap(ConvertTags(...)): `Tag.N.Key` / `Tag.N.Value`."""
    for i, (k, v) in enumerate((tags or {}).items(), start=1):
        body[f"Tag.{i}.Key"], body[f"Tag.{i}.Value"] = k, v


def no_tag_change(d: Data) -> None:
    """SetResourceTags calls Cbn's TagResources/UntagResources, which vpngw does not serve; the
    replayed examples set no tags."""
    assert not d.has_change("tags"), "CEN tag changes are not replayed (vpngw serves no Cbn TagResources)"


class CenInstance(Resource):
    """alicloud_cen_instance (timeouts 5 min)."""

    TYPE = "alicloud_cen_instance"
    TIMEOUT = 300

    def describe(self) -> dict:
        answer = cbn_read(self.tf, "DescribeCens", {"Filter": [{"Value": [self.id], "Key": "CenId"}]})
        cens = answer["Cens"]["Cen"]
        if not cens:
            raise _not_found("DescribeCens")
        return cens[0]

    def refresh_gone(self) -> tuple[dict | None, str]:
        """CenCenInstanceStateRefreshFunc: NotFound is the nil map with state ""."""
        obj, state = self.refresh_status()
        return ({}, "") if obj is None else (obj, state)

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {"ClientToken": build_client_token("CreateCen")}
        for key, param in (("name", "Name"), ("cen_instance_name", "Name"), ("protection_level", "ProtectionLevel"),
                           ("description", "Description")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = v
        expand_tags(body, d.get_ok("tags")[0] if d.get_ok("tags")[1] else None)
        answer = self.tf.retry("CreateCen", {}, body, expected=["Operation.Blocking"], timeout_s=self.TIMEOUT,
                               fresh_token=False, version=CBN_VERSION)
        self.id = go_fmt(answer["CenId"])
        self.tf.wait_for_state(self.refresh_status, ["Active"], delay_s=5, timeout_s=self.TIMEOUT)
        self.update(d)
        return self.id

    def update(self, d: Data) -> None:
        body: dict[str, Any] = {"CenId": self.id}
        update = False
        if not d.is_new:
            for key, param in (("name", "Name"), ("cen_instance_name", "Name"), ("protection_level", "ProtectionLevel"),
                               ("description", "Description")):
                if d.has_change(key):
                    update = True
                    body[param] = d.get(key)
        if update:
            self.tf.retry("ModifyCenAttribute", {}, body, timeout_s=self.TIMEOUT, fresh_token=False,
                          version=CBN_VERSION)
            self.tf.wait_for_state(self.refresh_status, ["Active"], delay_s=5, timeout_s=self.TIMEOUT)
        _, ok = d.get_ok("resource_group_id")
        assert not (ok and d.has_change("resource_group_id")), "MoveResourceGroup of a CEN is not replayed"
        no_tag_change(d)
        self.read(new=d.is_new)

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        return self.keep({
            "cen_instance_name": obj.get("Name"), "create_time": obj.get("CreationTime"),
            "description": obj.get("Description"), "protection_level": obj.get("ProtectionLevel"),
            "resource_group_id": obj.get("ResourceGroupId"), "status": obj.get("Status"),
            "tags": tags_to_map(obj), "name": obj.get("Name"),
        })

    def destroy(self) -> None:
        try:
            self.tf.retry("DeleteCen", {}, {"CenId": self.id},
                          expected=["Operation.Blocking", "InvalidOperation.CenInstanceStatus"],
                          timeout_s=self.TIMEOUT, fresh_token=False, version=CBN_VERSION)
        except TerraformError as e:
            if not (e.expected(["ParameterCenInstanceId"]) or e.not_found):
                raise
            self.id = None
            return
        self.tf.wait_for_state(self.refresh_gone, [""], delay_s=5, timeout_s=self.TIMEOUT)
        self.id = None


class TransitRouter(Resource):
    """alicloud_cen_transit_router (id `<cen_id>:<transit_router_id>`; timeouts 5 min)."""

    TYPE = "alicloud_cen_transit_router"
    TIMEOUT = 300

    @property
    def tr_id(self) -> str:
        return self.id.split(":")[1]

    def describe(self) -> dict:
        try:
            answer = cbn_read(self.tf, "ListTransitRouters", {"TransitRouterId": self.tr_id,
                                                               "RegionId": self.tf.region})
        except TerraformError as e:
            if e.expected(["ParameterCenInstanceId"]):
                raise _not_found("ListTransitRouters") from e
            raise
        routers = answer["TransitRouters"]
        if not routers:
            raise _not_found("ListTransitRouters")
        return routers[0]

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {"RegionId": self.tf.region, "ClientToken": build_client_token("CreateTransitRouter"),
                                "CenId": d.get("cen_id")}
        v, ok = d.get_ok_exists("dry_run")
        if ok:
            body["DryRun"] = v
        for key, param in (("transit_router_name", "TransitRouterName"),
                           ("transit_router_description", "TransitRouterDescription")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = v
        expand_tags(body, d.get_ok("tags")[0] if d.get_ok("tags")[1] else None)
        v, ok = d.get_ok_exists("support_multicast")
        if ok:
            body["SupportMulticast"] = v
        answer = self.tf.retry("CreateTransitRouter", {}, body, expected=CREATE_RETRY, timeout_s=self.TIMEOUT,
                               fresh_token=False, version=CBN_VERSION)
        self.id = f"{body['CenId']}:{go_fmt(answer['TransitRouterId'])}"
        self.tf.wait_for_state(self.refresh_status, ["Active"], delay_s=5, timeout_s=self.TIMEOUT)
        self.read(new=True)
        return self.id

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        return self.keep({
            "cen_id": obj.get("CenId"), "create_time": obj.get("CreationTime"), "region_id": obj.get("RegionId"),
            "status": obj.get("Status"), "support_multicast": obj.get("SupportMulticast"),
            "transit_router_description": obj.get("TransitRouterDescription"),
            "transit_router_name": obj.get("TransitRouterName"), "type": obj.get("Type"),
            "transit_router_id": obj.get("TransitRouterId"),
            "tags": {t["Key"]: t["Value"] for t in obj.get("Tags") or []},
        })

    def update(self, d: Data) -> None:
        body: dict[str, Any] = {"TransitRouterId": self.tr_id, "RegionId": self.tf.region,
                                "ClientToken": build_client_token("UpdateTransitRouter")}
        v, ok = d.get_ok_exists("dry_run")
        if ok:
            body["DryRun"] = v
        update = False
        for key, param in (("transit_router_name", "TransitRouterName"),
                           ("transit_router_description", "TransitRouterDescription")):
            if d.has_change(key):
                update = True
                body[param] = d.get(key)
        if update:
            self.tf.retry("UpdateTransitRouter", {}, body, expected=CREATE_RETRY, timeout_s=self.TIMEOUT,
                          fresh_token=False, version=CBN_VERSION)
            self.tf.wait_for_state(self.refresh_status, ["Active"], delay_s=5, timeout_s=self.TIMEOUT)
        no_tag_change(d)
        self.read(new=False)

    def destroy(self) -> None:
        body = {"TransitRouterId": self.tr_id, "ClientToken": build_client_token("DeleteTransitRouter")}
        try:
            self.tf.retry("DeleteTransitRouter", {}, body, expected=TR_DELETE_RETRY, timeout_s=self.TIMEOUT,
                          version=CBN_VERSION)
        except TerraformError as e:
            if not (e.expected(["ParameterInstanceId"]) or e.not_found):
                raise
            self.id = None
            return
        self.tf.wait_for_state(self.refresh_status, [], delay_s=10, timeout_s=self.TIMEOUT)
        self.id = None


class TransitRouterCidr(Resource):
    """alicloud_cen_transit_router_cidr (id `<transit_router_id>:<cidr_id>`; no status to wait for)."""

    TYPE = "alicloud_cen_transit_router_cidr"
    TIMEOUT, DELETE = 300, 1200

    def parts(self) -> tuple[str, str]:
        tr, cidr = self.id.split(":")
        return tr, cidr

    def describe(self) -> dict:
        tr, cidr = self.parts()
        body = {"TransitRouterCidrId": cidr, "TransitRouterId": tr, "RegionId": self.tf.region,
                "ClientToken": build_client_token("ListTransitRouterCidr")}
        answer = cbn_read(self.tf, "ListTransitRouterCidr", body, fresh_token=True)
        cidrs = answer["CidrLists"]
        if not cidrs:
            raise _not_found("ListTransitRouterCidr")
        return cidrs[0]

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {}
        v, ok = d.get_ok("transit_router_id")
        if ok:
            body["TransitRouterId"] = v
        body["RegionId"] = self.tf.region
        body["ClientToken"] = build_client_token("CreateTransitRouterCidr")
        v, ok = d.get_ok("description")
        if ok:
            body["Description"] = v
        v, ok = d.get_ok_exists("publish_cidr_route")
        if ok:
            body["PublishCidrRoute"] = v
        body["Cidr"] = d.get("cidr")
        v, ok = d.get_ok("transit_router_cidr_name")
        if ok:
            body["Name"] = v
        answer = self.tf.retry("CreateTransitRouterCidr", {}, body, expected=CREATE_RETRY, timeout_s=self.TIMEOUT,
                               fresh_token=False, version=CBN_VERSION)
        self.id = f"{body['TransitRouterId']}:{go_fmt(answer['TransitRouterCidrId'])}"
        self.read(new=True)
        return self.id

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        return self.keep({
            "cidr": obj.get("Cidr"), "description": obj.get("Description"),
            "publish_cidr_route": obj.get("PublishCidrRoute"), "transit_router_cidr_name": obj.get("Name"),
            "transit_router_cidr_id": obj.get("TransitRouterCidrId"), "transit_router_id": obj.get("TransitRouterId"),
        })

    def update(self, d: Data) -> None:
        tr, cidr = self.parts()
        body: dict[str, Any] = {"TransitRouterCidrId": cidr, "TransitRouterId": tr, "RegionId": self.tf.region,
                                "ClientToken": build_client_token("ModifyTransitRouterCidr")}
        update = False
        for key, param in (("description", "Description"), ("publish_cidr_route", "PublishCidrRoute")):
            if d.has_change(key):
                update = True
                body[param] = d.get(key)
        if d.has_change("cidr"):
            update = True
        body["Cidr"] = d.get("cidr")
        if d.has_change("transit_router_cidr_name"):
            update = True
            body["Name"] = d.get("transit_router_cidr_name")
        if update:
            self.tf.retry("ModifyTransitRouterCidr", {}, body, expected=CREATE_RETRY, timeout_s=self.TIMEOUT,
                          fresh_token=False, version=CBN_VERSION)
        self.read(new=False)

    def destroy(self) -> None:
        tr, cidr = self.parts()
        body = {"TransitRouterCidrId": cidr, "TransitRouterId": tr, "RegionId": self.tf.region,
                "ClientToken": build_client_token("DeleteTransitRouterCidr")}
        try:
            self.tf.retry("DeleteTransitRouterCidr", {}, body,
                          expected=CREATE_RETRY + ["OperationFailed.CidrBlockAllocated"], timeout_s=self.DELETE,
                          version=CBN_VERSION)
        except TerraformError as e:
            if not (e.expected(["OperationFailed.CidrNotExist"]) or e.not_found):
                raise
        self.id = None


class TransitRouterVpnAttachment(Resource):
    """alicloud_cen_transit_router_vpn_attachment (timeouts: create 17 min, update 5, delete 8)."""

    TYPE = "alicloud_cen_transit_router_vpn_attachment"
    CREATE, UPDATE, DELETE = 1020, 300, 480

    def describe(self) -> dict:
        answer = cbn_read(self.tf, "ListTransitRouterVpnAttachments",
                          {"TransitRouterAttachmentId": self.id, "RegionId": self.tf.region})
        items = answer["TransitRouterAttachments"]
        if not items:
            raise _not_found("ListTransitRouterVpnAttachments")
        return items[0]

    def refresh_gone(self) -> tuple[dict | None, str]:
        obj, state = self.refresh_status()
        return ({}, "") if obj is None else (obj, state)

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {"RegionId": self.tf.region,
                                "ClientToken": build_client_token("CreateTransitRouterVpnAttachment")}
        v, ok = d.get_ok("cen_id")
        if ok:
            body["CenId"] = v
        expand_tags(body, d.get_ok("tags")[0] if d.get_ok("tags")[1] else None)
        v, ok = d.get_ok("transit_router_attachment_name")
        if ok:
            body["TransitRouterAttachmentName"] = v
        v, ok = d.get_ok("transit_router_vpn_attachment_name")
        if ok:
            body["TransitRouterAttachmentName"] = v
        body["VpnId"] = d.get("vpn_id")
        v, ok = d.get_ok("transit_router_id")
        if ok:
            body["TransitRouterId"] = v
        v, ok = d.get_ok_exists("vpn_owner_id")
        if ok:
            body["VpnOwnerId"] = v
        v, ok = d.get_ok("zone")
        if ok:
            body["Zone"] = [{"ZoneId": z["zone_id"]} for z in v]
        v, ok = d.get_ok_exists("auto_publish_route_enabled")
        if ok:
            body["AutoPublishRouteEnabled"] = v
        v, ok = d.get_ok("charge_type")
        if ok:
            body["ChargeType"] = v
        v, ok = d.get_ok("transit_router_attachment_description")
        if ok:
            body["TransitRouterAttachmentDescription"] = v
        answer = self.tf.retry("CreateTransitRouterVpnAttachment", {}, body, expected=ATTACHMENT_CREATE_RETRY,
                               timeout_s=self.CREATE, fresh_token=False, waits=(5, 5), version=CBN_VERSION)
        self.id = go_fmt(answer["TransitRouterAttachmentId"])
        self.tf.wait_for_state(self.refresh_status, ["Attached"], delay_s=5, timeout_s=self.CREATE)
        self.update(d)
        return self.id

    def update(self, d: Data) -> None:
        body: dict[str, Any] = {"TransitRouterAttachmentId": self.id,
                                "ClientToken": build_client_token("UpdateTransitRouterVpnAttachmentAttribute")}
        update = False
        for key, param in (("auto_publish_route_enabled", "AutoPublishRouteEnabled"),
                           ("transit_router_attachment_name", "TransitRouterAttachmentName"),
                           ("transit_router_vpn_attachment_name", "TransitRouterAttachmentName")):
            if not d.is_new and d.has_change(key):
                update = True
                body[param] = d.get(key)
        if d.has_change("order_type"):
            update = True
            body["OrderType"] = d.get("order_type")
        if not d.is_new and d.has_change("transit_router_attachment_description"):
            update = True
            body["TransitRouterAttachmentDescription"] = d.get("transit_router_attachment_description")
        if update:
            self.tf.retry("UpdateTransitRouterVpnAttachmentAttribute", {}, body, expected=ATTACHMENT_RETRY,
                          timeout_s=self.UPDATE, fresh_token=False, waits=(5, 5), version=CBN_VERSION)
            self.tf.wait_for_state(self.refresh_status, ["Attached"], delay_s=5, timeout_s=self.UPDATE)
        no_tag_change(d)
        self.read(new=d.is_new)

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        return self.keep({
            "auto_publish_route_enabled": obj.get("AutoPublishRouteEnabled"), "cen_id": obj.get("CenId"),
            "charge_type": obj.get("ChargeType"), "create_time": obj.get("CreationTime"),
            "order_type": obj.get("OrderType"), "region_id": obj.get("VpnRegionId"), "status": obj.get("Status"),
            "transit_router_attachment_description": obj.get("TransitRouterAttachmentDescription"),
            "transit_router_id": obj.get("TransitRouterId"),
            "transit_router_vpn_attachment_name": obj.get("TransitRouterAttachmentName"),
            "vpn_id": obj.get("VpnId"), "vpn_owner_id": obj.get("VpnOwnerId"),
            "tags": {t["Key"]: t["Value"] for t in obj.get("Tags") or []},
            "zone": [{"zone_id": z.get("ZoneId")} for z in obj.get("Zones") or []],
            "transit_router_attachment_name": obj.get("TransitRouterAttachmentName"),
        })

    def destroy(self) -> None:
        body = {"TransitRouterAttachmentId": self.id,
                "ClientToken": build_client_token("DeleteTransitRouterVpnAttachment")}
        try:
            self.tf.retry("DeleteTransitRouterVpnAttachment", {}, body, expected=ATTACHMENT_RETRY,
                          timeout_s=self.DELETE, fresh_token=False, waits=(5, 5), version=CBN_VERSION)
        except TerraformError as e:
            if not e.not_found:
                raise
            self.id = None
            return
        self.tf.wait_for_state(self.refresh_gone, [""], delay_s=5, timeout_s=self.DELETE)
        self.id = None


def data_transit_router_available_resources(tf: Provider, config: dict) -> dict:
    """data alicloud_cen_transit_router_available_resources: one ListTransitRouterAvailableResource."""
    body: dict[str, Any] = {"RegionId": tf.region}
    if "support_multicast" in config:
        body["SupportMulticast"] = config["support_multicast"]
    answer = tf.retry("ListTransitRouterAvailableResource", None, body, timeout_s=300, fresh_token=False,
                      waits=(3, 3), version=CBN_VERSION)
    return {"resources": [{
        "support_multicast": answer.get("SupportMulticast"), "master_zones": answer.get("MasterZones"),
        "slave_zones": answer.get("SlaveZones"), "available_zones": answer.get("AvailableZones"),
    }]}
