//! DescribeRouteEntryList: the entries of a VPC's system route table, its
//! vSwitches' blocks and the routes its VPN gateways publish
//! (`vpngw_model::vpc_routes`; docs/api-decisions.md, "The VPC's route
//! table"). Read-only: vpngw serves no route-entry writes of the VPC.

use ipnet::Ipv4Net;
use vpngw_model::{
    Vpc, VpnGateway, VpnPbrRoute, VpnRoute,
    routes::RouteEntryType,
    vpc_routes::{NextHopType, Published, RouteTableEntry, system_table},
};
use vpngw_ops::vpc::describe_route_entry_list::{
    Answer, NextHop, NextHopRelatedInfo, NextHops, Request, RouteEntry, RouteEntrys,
};
use vpngw_protocol::ApiError;
use vpngw_store::{Kind, ListQuery, StoreExt};

use super::tags::{decode_token, encode_token};
use crate::{Ctx, context::internal};

/// Entries per page unless `MaxResult` says otherwise, and its bounds.
const DEFAULT_PAGE: i64 = 10;
const MAX_PAGE: i64 = 100;

fn table_not_found() -> ApiError {
    ApiError::new(
        "InvalidRouteTable.NotFound",
        "The specified route table does not exist.",
    )
    .with_status(404)
}

/// The filters of a request, checked.
struct Filters {
    destinations: Vec<Ipv4Net>,
    entry_type: Option<String>,
    next_hop_type: Option<String>,
    next_hop_id: Option<String>,
    entry_id: Option<String>,
    /// `RouteEntryName` or `ServiceType`: vpngw's entries have neither.
    unnamed_only: bool,
    ipv6: bool,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned)
}

fn cidr(value: &str, param: &str) -> Result<Ipv4Net, ApiError> {
    value
        .parse::<Ipv4Net>()
        .map(|n| n.trunc())
        .map_err(|_| ApiError::invalid_parameter(param))
}

impl Filters {
    fn of(req: &Request) -> Result<Filters, ApiError> {
        let mut destinations = Vec::new();
        if let Some(d) = given(&req.destination_cidr_block) {
            destinations.push(cidr(&d, "DestinationCidrBlock")?);
        }
        for d in req.dest_cidr_block_list.iter().filter(|d| !d.is_empty()) {
            destinations.push(cidr(d, "DestCidrBlockList")?);
        }
        let entry_type = given(&req.route_entry_type);
        if let Some(t) = &entry_type
            && !["Custom", "System", "BGP", "CEN", "ECR"].contains(&t.as_str())
        {
            return Err(ApiError::invalid_parameter("RouteEntryType"));
        }
        let ipv6 = match given(&req.ip_version) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("ipv4") => false,
            Some(v) if v.eq_ignore_ascii_case("ipv6") => true,
            Some(_) => return Err(ApiError::invalid_parameter("IpVersion")),
        };
        Ok(Filters {
            destinations,
            entry_type,
            next_hop_type: given(&req.next_hop_type),
            next_hop_id: given(&req.next_hop_id),
            entry_id: given(&req.route_entry_id),
            unnamed_only: given(&req.route_entry_name).is_some()
                || given(&req.service_type).is_some(),
            ipv6,
        })
    }

    fn keep(&self, e: &RouteTableEntry) -> bool {
        !self.ipv6
            && !self.unnamed_only
            && (self.destinations.is_empty() || self.destinations.contains(&e.destination))
            && self
                .entry_type
                .as_deref()
                .is_none_or(|t| t == e.entry_type.as_str())
            && self
                .next_hop_type
                .as_deref()
                .is_none_or(|t| t == e.next_hop_type.as_str())
            && self
                .next_hop_id
                .as_ref()
                .is_none_or(|id| e.next_hop_ids.contains(id))
            && self.entry_id.as_ref().is_none_or(|id| *id == e.id)
    }
}

/// The VPC whose system table `table_id` is, authorized as the VPC.
async fn vpc_of_table(ctx: &Ctx<'_>, table_id: &str) -> Result<Vpc, ApiError> {
    let mut q = ListQuery::new(Kind::Vpc, ctx.scope()?, ctx.now_ms);
    q.limit = 10_000;
    let (vpcs, _) = ctx.store().list_typed::<Vpc>(&q).await.map_err(internal)?;
    let vpc = vpcs
        .into_iter()
        .find(|v| v.route_table_id == table_id)
        .ok_or_else(table_not_found)?;
    ctx.authorize(&[vpngw_ops::Resource {
        kind: vpngw_ops::Kind::Vpc,
        id: &vpc.id,
    }])
    .await?;
    Ok(vpc)
}

/// What the VPC's gateways publish: their configured routes with
/// `PublishVpc`, and the routes they learned over BGP while `AutoPropagate`
/// is on.
async fn published_routes(
    ctx: &Ctx<'_>,
    vpc_id: &str,
) -> Result<Vec<(String, Ipv4Net, bool)>, ApiError> {
    let mut q = ListQuery::new(Kind::VpnGateway, ctx.scope()?, ctx.now_ms);
    q.fields.push(("vpc_id", vpc_id.to_owned()));
    q.limit = 10_000;
    let (gateways, _) = ctx
        .store()
        .list_typed::<VpnGateway>(&q)
        .await
        .map_err(internal)?;
    let mut out = Vec::new();
    for gw in &gateways {
        let mut q = ListQuery::new(Kind::VpnRoute, ctx.scope()?, ctx.now_ms);
        q.parent_id = Some(gw.id.clone());
        q.limit = u64::MAX >> 1;
        let (routes, _) = ctx
            .store()
            .list_typed::<VpnRoute>(&q)
            .await
            .map_err(internal)?;
        for r in &routes {
            let learned = r.route_entry_type == RouteEntryType::Bgp;
            let published = if learned {
                gw.auto_propagate
            } else {
                r.publish_vpc
            };
            if let (true, Ok(dest)) = (published, r.route_dest.parse::<Ipv4Net>()) {
                out.push((gw.id.clone(), dest, learned));
            }
        }
        let mut q = ListQuery::new(Kind::VpnPbrRoute, ctx.scope()?, ctx.now_ms);
        q.parent_id = Some(gw.id.clone());
        q.limit = u64::MAX >> 1;
        let (routes, _) = ctx
            .store()
            .list_typed::<VpnPbrRoute>(&q)
            .await
            .map_err(internal)?;
        for r in routes.iter().filter(|r| r.publish_vpc) {
            if let Ok(dest) = r.route_dest.parse::<Ipv4Net>() {
                out.push((gw.id.clone(), dest, false));
            }
        }
    }
    Ok(out)
}

fn view(e: RouteTableEntry, table_id: &str, region_id: &str, modified: &str) -> RouteEntry {
    let next_hop = |id: String| NextHop {
        enabled: 1,
        next_hop_id: id.clone(),
        next_hop_region_id: region_id.to_owned(),
        next_hop_related_info: NextHopRelatedInfo::default(),
        next_hop_type: e.next_hop_type.as_str().to_owned(),
        weight: 0,
    };
    let hops = match e.next_hop_type {
        NextHopType::Local => vec![next_hop(String::new())],
        NextHopType::VpnGateway => e.next_hop_ids.iter().cloned().map(next_hop).collect(),
    };
    RouteEntry {
        destination_cidr_block: e.destination.to_string(),
        gmt_modified: modified.to_owned(),
        ip_version: "ipv4".into(),
        next_hops: NextHops { next_hop: hops },
        route_entry_id: e.id,
        route_table_id: table_id.to_owned(),
        status: "Available".into(),
        r#type: e.entry_type.as_str().into(),
        ..Default::default()
    }
}

/// `yyyy-MM-ddTHH:mmZ`, the format the answer documents.
fn minutes(ms: i64) -> String {
    let mut s = crate::ram::iso8601(ms);
    s.replace_range(16..19, "");
    s
}

pub async fn describe_route_entries(ctx: &Ctx<'_>, req: Request) -> Result<Answer, ApiError> {
    let filters = Filters::of(&req)?;
    let max = req.max_result.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&max) {
        return Err(ApiError::invalid_parameter("MaxResult"));
    }
    let start = match given(&req.next_token) {
        Some(t) => decode_token(&t)?,
        None => 0,
    };
    let region = ctx.region()?;
    let vpc = vpc_of_table(ctx, &req.route_table_id).await?;
    let published = published_routes(ctx, &vpc.id).await?;
    let entries: Vec<RouteTableEntry> = system_table(
        &vpc,
        region.id_prefix,
        published.iter().map(|(gw, dest, learned)| Published {
            vpn_gateway_id: gw,
            destination: *dest,
            learned: *learned,
        }),
    )
    .into_iter()
    .filter(|e| filters.keep(e))
    .collect();
    if start > entries.len() {
        return Err(ApiError::invalid_parameter("NextToken"));
    }
    let end = entries.len().min(start.saturating_add(max as usize));
    let next_token = if end < entries.len() {
        encode_token(end)
    } else {
        String::new()
    };
    let total = entries.len();
    let modified = minutes(vpc.create_time_ms);
    let page = entries
        .into_iter()
        .skip(start)
        .take(end - start)
        .map(|e| view(e, &vpc.route_table_id, &vpc.region_id, &modified))
        .collect();
    Ok(Answer {
        next_token,
        route_entrys: RouteEntrys { route_entry: page },
        total_count: total as i64,
    })
}
