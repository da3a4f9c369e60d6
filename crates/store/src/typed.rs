//! Typed access on top of [`Store`]: domain structs in, domain structs out.

use async_trait::async_trait;
use serde::{Serialize, de::DeserializeOwned};
use vpngw_model::{
    CenInstance, CustomerGateway, IpsecServer, Lifecycle, SslVpnClientCert, SslVpnServer,
    TransitRouter, TransitRouterVpnAttachment, VSwitch, VcoRoute, Vpc, VpnConnection, VpnGateway,
    VpnPbrRoute, VpnRoute,
};

use crate::{InsertGuard, Inserted, Kind, ListQuery, Record, Scope, Store, StoreError, Trail};

/// A domain type the store can keep.
pub trait Resource: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    const KIND: Kind;
    fn id(&self) -> &str;
    fn region_id(&self) -> &str;
    fn resource_group_id(&self) -> &str;
    fn parent_id(&self) -> Option<&str> {
        None
    }
    /// Ids that must exist while this resource does (parent included).
    fn links(&self) -> Vec<String> {
        self.parent_id().map(str::to_owned).into_iter().collect()
    }
    fn lifecycle(&self) -> Option<&Lifecycle> {
        None
    }
}

impl Resource for VpnGateway {
    const KIND: Kind = Kind::VpnGateway;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    fn lifecycle(&self) -> Option<&Lifecycle> {
        Some(&self.lifecycle)
    }
    /// The known VPC and vSwitches it sits in.
    fn links(&self) -> Vec<String> {
        self.placed_in.clone()
    }
}

impl Resource for CustomerGateway {
    const KIND: Kind = Kind::CustomerGateway;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
}

impl Resource for VpnConnection {
    const KIND: Kind = Kind::VpnConnection;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    /// The VPN gateway; none for a transit-router attachment.
    fn parent_id(&self) -> Option<&str> {
        self.vpn_gateway_id.as_deref()
    }
    fn links(&self) -> Vec<String> {
        let mut links: Vec<String> = self.vpn_gateway_id.iter().cloned().collect();
        links.extend(self.customer_gateway_id.iter().cloned());
        for t in &self.tunnels {
            if !links.contains(&t.customer_gateway_id) {
                links.push(t.customer_gateway_id.clone());
            }
        }
        links
    }
    fn lifecycle(&self) -> Option<&Lifecycle> {
        Some(&self.state)
    }
}

impl Resource for Vpc {
    const KIND: Kind = Kind::Vpc;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    fn lifecycle(&self) -> Option<&Lifecycle> {
        Some(&self.lifecycle)
    }
}

/// A vSwitch links to its VPC, so a VPC with vSwitches cannot be deleted
/// (DeleteVpc's `DependencyViolation.VSwitch`).
impl Resource for VSwitch {
    const KIND: Kind = Kind::VSwitch;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.vpc_id)
    }
    fn lifecycle(&self) -> Option<&Lifecycle> {
        Some(&self.lifecycle)
    }
}

/// A CEN instance is global: its scope's region is
/// `vpngw_model::cen::GLOBAL_REGION`.
impl Resource for CenInstance {
    const KIND: Kind = Kind::CenInstance;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        vpngw_model::cen::GLOBAL_REGION
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    fn lifecycle(&self) -> Option<&Lifecycle> {
        Some(&self.lifecycle)
    }
}

/// A transit router's CEN instance is in another scope (the global one), so
/// the store cannot link them: the CEN instance's document lists its
/// transit routers instead (`CenInstance::transit_routers`).
impl Resource for TransitRouter {
    const KIND: Kind = Kind::TransitRouter;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    fn lifecycle(&self) -> Option<&Lifecycle> {
        Some(&self.lifecycle)
    }
}

/// A VPN attachment's parent is its transit router, and it holds the
/// attached connection (DeleteVpnAttachment waits for the detachment).
impl Resource for TransitRouterVpnAttachment {
    const KIND: Kind = Kind::TransitRouterAttachment;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.transit_router_id)
    }
    fn links(&self) -> Vec<String> {
        vec![self.transit_router_id.clone(), self.vpn_id.clone()]
    }
    fn lifecycle(&self) -> Option<&Lifecycle> {
        Some(&self.lifecycle)
    }
}

// Routes have no resource group; their parent is what the cloud files them
// under, and they link to their next hop, so neither can go while they exist
// (a connection deletes its routes with it: `Store::delete_cascade`).

impl Resource for VcoRoute {
    const KIND: Kind = Kind::VcoRoute;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        ""
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.vpn_connection_id)
    }
    fn links(&self) -> Vec<String> {
        let mut links = vec![self.vpn_connection_id.clone()];
        if self.next_hop != self.vpn_connection_id {
            links.push(self.next_hop.clone());
        }
        links
    }
}

impl Resource for VpnRoute {
    const KIND: Kind = Kind::VpnRoute;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        ""
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.vpn_gateway_id)
    }
    fn links(&self) -> Vec<String> {
        vec![self.vpn_gateway_id.clone(), self.next_hop.clone()]
    }
}

impl Resource for VpnPbrRoute {
    const KIND: Kind = Kind::VpnPbrRoute;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        ""
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.vpn_gateway_id)
    }
    fn links(&self) -> Vec<String> {
        vec![self.vpn_gateway_id.clone(), self.next_hop.clone()]
    }
}

// An SSL server belongs to its gateway (which cannot go while it exists) and
// a client certificate to its server (deleted with it: the cloud's
// DeleteSslVpnServer removes the server's certificates).

impl Resource for SslVpnServer {
    const KIND: Kind = Kind::SslVpnServer;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.vpn_gateway_id)
    }
}

impl Resource for SslVpnClientCert {
    const KIND: Kind = Kind::SslVpnClientCert;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.ssl_vpn_server_id)
    }
}

// An IPsec server belongs to its gateway, which cannot go while it exists.
impl Resource for IpsecServer {
    const KIND: Kind = Kind::IpsecServer;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.vpn_gateway_id)
    }
}

/// A typed resource with the version it was read at.
#[derive(Debug, Clone)]
pub struct Versioned<R> {
    pub value: R,
    pub version: i64,
}

/// Builds the record for `value` owned by `account_id`.
pub fn to_record<R: Resource>(
    value: &R,
    account_id: &str,
    version: i64,
) -> Result<Record, StoreError> {
    Ok(Record {
        kind: R::KIND,
        id: value.id().to_owned(),
        account_id: account_id.to_owned(),
        region_id: value.region_id().to_owned(),
        parent_id: value.parent_id().map(str::to_owned),
        links: value.links(),
        resource_group_id: value.resource_group_id().to_owned(),
        status: value.lifecycle().cloned(),
        version,
        doc: serde_json::to_string(value)?,
    })
}

pub fn from_record<R: Resource>(record: &Record) -> Result<Versioned<R>, StoreError> {
    Ok(Versioned {
        value: serde_json::from_str(&record.doc)?,
        version: record.version,
    })
}

/// Typed helpers for any [`Store`].
#[async_trait]
pub trait StoreExt: Store {
    async fn insert_typed<R: Resource>(
        &self,
        account_id: &str,
        value: &R,
        guard: InsertGuard,
    ) -> Result<Inserted, StoreError> {
        self.insert(to_record(value, account_id, 1)?, guard).await
    }

    /// [`StoreExt::insert_typed`] with the write's trail (`Store::insert_with`).
    async fn insert_typed_with<R: Resource>(
        &self,
        account_id: &str,
        value: &R,
        guard: InsertGuard,
        trail: Trail,
    ) -> Result<Inserted, StoreError> {
        self.insert_with(to_record(value, account_id, 1)?, guard, trail)
            .await
    }

    /// The document is decoded once per version (`decoded.rs`).
    async fn get_typed<R: Resource>(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<Versioned<R>>, StoreError> {
        match self.get(R::KIND, scope, id).await? {
            Some(rec) => Ok(Some(Versioned {
                value: crate::decoded::decode(&rec.id, &rec.doc)?,
                version: rec.version,
            })),
            None => Ok(None),
        }
    }

    /// Writes `value` over the version it was read at.
    async fn update_typed<R: Resource>(
        &self,
        account_id: &str,
        value: &R,
        read_version: i64,
    ) -> Result<i64, StoreError> {
        let rec = self
            .update(to_record(value, account_id, read_version)?)
            .await?;
        Ok(rec.version)
    }

    /// [`StoreExt::update_typed`] with the write's trail (`Store::update_with`).
    async fn update_typed_with<R: Resource>(
        &self,
        account_id: &str,
        value: &R,
        read_version: i64,
        trail: Trail,
    ) -> Result<i64, StoreError> {
        let rec = self
            .update_with(to_record(value, account_id, read_version)?, trail)
            .await?;
        Ok(rec.version)
    }

    async fn list_typed<R: Resource>(
        &self,
        query: &ListQuery,
    ) -> Result<(Vec<R>, u64), StoreError> {
        debug_assert_eq!(query.kind, R::KIND);
        let page = self.list(query).await?;
        let items = page
            .records
            .iter()
            .map(|r| from_record::<R>(r).map(|v| v.value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((items, page.total))
    }
}

impl<S: Store + ?Sized> StoreExt for S {}
