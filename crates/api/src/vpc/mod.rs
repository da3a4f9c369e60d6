//! The VPC product's IPsec-VPN operations.

pub mod attachment;
pub mod connection;
pub mod connection_config;
pub mod customer_gateway;
pub mod diagnose;
pub(crate) mod draft;
pub mod enhanced_gateway;
pub mod gateway_info;
/// Public for the fuzz target (fuzz/harness/ike_json.rs).
pub mod ike_json;
pub mod ipsec_server;
pub mod logs;
mod records;
pub mod regions;
pub mod resource_group;
pub mod routes;
pub mod ssl_vpn;
pub mod tags;
pub mod tunnel;
pub mod views;
pub mod vpc_routes;
pub mod vpcs;
pub mod vpn_gateway;

use crate::actions::ActionDef;

pub(crate) use crate::operation::reply;

/// The VPC operations vpngw serves, one line each: the operation's typed
/// declaration (`vpngw_ops::vpc`) and its handler. Every other operation of
/// the product is refused with `UnsupportedOperation` (400).
pub(crate) static OPERATIONS: &[ActionDef] = crate::operations! {
    vpc;
    CreateVpc => vpcs::create,
    DescribeVpcs => vpcs::describe_many,
    DescribeVpcAttribute => vpcs::describe,
    ModifyVpcAttribute => vpcs::modify,
    DeleteVpc => vpcs::delete,
    CreateVSwitch => vpcs::create_vswitch,
    DescribeVSwitches => vpcs::describe_vswitches,
    DescribeVSwitchAttributes => vpcs::describe_vswitch,
    ModifyVSwitchAttribute => vpcs::modify_vswitch,
    DeleteVSwitch => vpcs::delete_vswitch,
    DescribeRouteTableList => vpcs::describe_route_tables,
    DescribeRouteEntryList => vpc_routes::describe_route_entries,
    CreateVpnGateway => vpn_gateway::create,
    DescribeVpnGateway => vpn_gateway::describe,
    DescribeVpnGateways => vpn_gateway::describe_many,
    ModifyVpnGatewayAttribute => vpn_gateway::modify,
    DeleteVpnGateway => vpn_gateway::delete,
    CreateEnhancedVpnGateway => enhanced_gateway::create,
    UpdateEnhancedVpnGateway => enhanced_gateway::update,
    DeleteEnhancedVpnGateway => enhanced_gateway::delete,
    CheckVpnBgpEnabled => gateway_info::check_bgp_enabled,
    DescribeVpnGatewayAvailableZones => gateway_info::available_zones,
    CreateCustomerGateway => customer_gateway::create,
    DescribeCustomerGateway => customer_gateway::describe,
    DescribeCustomerGateways => customer_gateway::describe_many,
    ModifyCustomerGatewayAttribute => customer_gateway::modify,
    DeleteCustomerGateway => customer_gateway::delete,
    CreateVpnConnection => connection::create,
    DescribeVpnConnection => encoded(connection::describe),
    DescribeVpnConnections => connection::describe_many,
    ModifyVpnConnectionAttribute => connection::modify,
    DeleteVpnConnection => connection::delete,
    ModifyTunnelAttribute => tunnel::modify_tunnel_attribute,
    DownloadVpnConnectionConfig => connection_config::download,
    DescribeVpnConnectionLogs => logs::describe_logs,
    CreateVpnAttachment => attachment::create,
    DescribeVpnAttachments => attachment::describe_many,
    ModifyVpnAttachmentAttribute => attachment::modify,
    DeleteVpnAttachment => attachment::delete,
    DescribeVpnCrossAccountAuthorizations => attachment::describe_cross_account_authorizations,
    CreateVcoRouteEntry => routes::vco::create,
    DeleteVcoRouteEntry => routes::vco::delete,
    DescribeVcoRouteEntries => routes::vco::describe,
    ModifyVcoRouteEntryWeight => routes::vco::modify_weight,
    CreateVpnRouteEntry => routes::gateway::create,
    DeleteVpnRouteEntry => routes::gateway::delete,
    DescribeVpnRouteEntries => routes::gateway::describe,
    ModifyVpnRouteEntryWeight => routes::gateway::modify_weight,
    PublishVpnRouteEntry => routes::gateway::publish,
    CreateVpnPbrRouteEntry => routes::pbr::create,
    DeleteVpnPbrRouteEntry => routes::pbr::delete,
    DescribeVpnPbrRouteEntries => routes::pbr::describe,
    ModifyVpnPbrRouteEntryWeight => routes::pbr::modify_weight,
    ModifyVpnPbrRouteEntryPriority => routes::pbr::modify_priority,
    ModifyVpnPbrRouteEntryAttribute => routes::pbr::modify_attribute,
    CreateSslVpnServer => ssl_vpn::create,
    DescribeSslVpnServers => ssl_vpn::describe_many,
    ModifySslVpnServer => ssl_vpn::modify,
    DeleteSslVpnServer => ssl_vpn::delete,
    CreateSslVpnClientCert => ssl_vpn::certs::create,
    DescribeSslVpnClientCert => ssl_vpn::certs::describe,
    DescribeSslVpnClientCerts => ssl_vpn::certs::describe_many,
    ModifySslVpnClientCert => ssl_vpn::certs::modify,
    DeleteSslVpnClientCert => ssl_vpn::certs::delete,
    DescribeSslVpnClients => ssl_vpn::online::describe_clients,
    DescribeVpnSslServerLogs => ssl_vpn::online::describe_logs,
    CreateIpsecServer => ipsec_server::create,
    UpdateIpsecServer => ipsec_server::update,
    DeleteIpsecServer => ipsec_server::delete,
    ListIpsecServers => ipsec_server::list,
    ListIpsecServerLogs => ipsec_server::list_logs,
    DiagnoseVpnConnections => diagnose::diagnose_connections,
    DiagnoseVpnGateway => diagnose::diagnose_gateway,
    GetVpnGatewayDiagnoseResult => diagnose::get_result,
    TagResources => tags::tag,
    UnTagResources => tags::untag,
    ListTagResources => tags::list,
    MoveVpnResourceGroup => resource_group::move_vpn_resource_group,
    MoveResourceGroup => resource_group::move_resource_group,
    DescribeRegions => regions::describe_regions,
    DescribeZones => regions::describe_zones,
};

/// A typed request's optional string, when given and not empty (the
/// SDKs send unset strings as nothing, some clients as an empty value).
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// The tag filters of a typed request (`Tag.N.Key` / `Tag.N.Value`) as
/// (key, optional value); an entry without a key filters nothing.
pub(crate) fn tag_filters_of<T: vpngw_ops::KeyValue>(items: &[T]) -> Vec<(String, Option<String>)> {
    items
        .iter()
        .filter_map(|t| {
            let key = t.key().filter(|k| !k.is_empty())?;
            Some((key.to_owned(), t.value().map(str::to_owned)))
        })
        .collect()
}
