//! The VPC product's own errors, with the cloud's codes and messages. HTTP
//! statuses come from the code (`vpngw_protocol::status_for`), so a handler
//! never picks a number.

use vpngw_protocol::ApiError;

pub fn region_not_found() -> ApiError {
    ApiError::new(
        "InvalidRegionId.NotFound",
        "The specified RegionId does not exist.",
    )
}

pub fn vpn_gateway_not_found() -> ApiError {
    ApiError::new(
        "InvalidVpnGatewayInstanceId.NotFound",
        "The specified vpn gateway instance id does not exist.",
    )
}

pub fn customer_gateway_not_found() -> ApiError {
    ApiError::new(
        "InvalidCustomerGatewayInstanceId.NotFound",
        "The specified customer gateway instance id does not exist.",
    )
}

pub fn vpn_connection_not_found() -> ApiError {
    ApiError::new(
        "InvalidVpnConnectionInstanceId.NotFound",
        "The specified vpn connection instance id does not exist.",
    )
}

/// A write on a gateway that is still provisioning or updating.
pub fn gateway_configuring() -> ApiError {
    ApiError::new(
        "VpnGateway.Configuring",
        "The specified service is configuring.",
    )
}

/// Two writers raced on one resource and this one lost. Terraform retries
/// `VpnTask.CONFLICT`.
pub fn task_conflict() -> ApiError {
    ApiError::new(
        "VpnTask.CONFLICT",
        "The operation conflicts with another task in progress. Please try again later.",
    )
}

pub fn connection_already_exists() -> ApiError {
    ApiError::new(
        "InvalidVpnConnection.AlreadyExists",
        "Vpn connection already exists.",
    )
}

pub fn quota_full() -> ApiError {
    ApiError::new("Resource.QuotaFull", "The quota of resource is full")
}

pub fn invalid_name() -> ApiError {
    ApiError::new("InvalidName", "The name is not valid")
}

pub fn invalid_description() -> ApiError {
    ApiError::new("InvalidDescription", "The description is not valid")
}

pub fn ip_wrong_format() -> ApiError {
    ApiError::new(
        "InvalidIpAddress.WrongFormat",
        "Specified IpAddress is invalid.",
    )
}

pub fn ip_already_exists() -> ApiError {
    ApiError::new(
        "InvalidIpAddress.AlreadyExist",
        "Specified IpAddress is already exist.",
    )
}

/// `IllegalParam.LocalSubnet` / `IllegalParam.RemoteSubnet`.
pub fn illegal_subnet(param: &str, value: &str) -> ApiError {
    ApiError::new(
        format!("IllegalParam.{param}"),
        format!("The specified \"{param}\" ({value}) is invalid."),
    )
}

/// Deleting something an IPsec connection still uses. The public references
/// list no code for this case; vpngw answers with the cloud's usual
/// `DependencyViolation.<Dependant>` form (see docs/api-decisions.md).
pub fn in_use_by_connection(what: &str, connection_id: &str) -> ApiError {
    ApiError::new(
        "DependencyViolation.VpnConnection",
        format!("The specified {what} is still used by the IPsec-VPN connection {connection_id}."),
    )
}

pub fn idempotent_mismatch() -> ApiError {
    ApiError::new(
        "IdempotentParameterMismatch",
        "The request uses the same client token as a previous, but non-identical request.",
    )
}

pub fn dry_run_passed() -> ApiError {
    ApiError::new(
        "DryRunOperation",
        "Request validation has been passed with DryRun flag set.",
    )
}

/// A malformed JSON-string parameter (`IkeConfig`, ...), or a bad field in it.
pub fn invalid_json_param(name: &str) -> ApiError {
    ApiError::invalid_parameter(name)
}

// ---- tags, resource groups, attachments ---------------------------------------
// The VPC reference lists only `Forbidden` for the tag operations; these are
// the codes and messages of the cloud's tag implementation as the ECS and Tag
// API references publish them (see docs/api-decisions.md).

/// An empty, over-long or reserved (`aliyun`, `acs:`, URL) tag key.
pub fn invalid_tag_key() -> ApiError {
    ApiError::new(
        "InvalidTagKey.Malformed",
        "The specified Tag.n.Key is not valid.",
    )
}

/// An over-long or reserved tag value.
pub fn invalid_tag_value() -> ApiError {
    ApiError::new(
        "InvalidTagValue.Malformed",
        "The specified Tag.n.Value is not valid.",
    )
}

pub fn duplicate_tag_key() -> ApiError {
    ApiError::new("Duplicate.TagKey", "The Tag.N.Key contain duplicate key.")
}

/// More than 20 tags (or tag keys) in one request.
pub fn too_many_tags() -> ApiError {
    ApiError::new(
        "NumberExceed.Tags",
        "The Tags parameter's number is exceed , Valid : 20",
    )
}

/// More than 50 `ResourceId.N` in one request.
pub fn too_many_resource_ids() -> ApiError {
    ApiError::new(
        "NumberExceed.ResourceIds",
        "The ResourceIds parameter's number is exceed , Valid : 50",
    )
}

/// A resource would carry more than 20 tags (403, as the Tag service answers it).
pub fn tag_quota_exceeded() -> ApiError {
    ApiError::new(
        "QuotaExceed.TagsPerResource",
        "The maximum number of tags for each resource is exceeded.",
    )
    .with_status(403)
}

/// A `ResourceId.N` of a tag operation that names no resource of the type.
pub fn resource_id_not_found() -> ApiError {
    ApiError::new(
        "InvalidResourceId.NotFound",
        "The specified ResourceIds are not found in our records.",
    )
}

/// A `ResourceType` vpngw keeps no resources of.
pub fn invalid_resource_type() -> ApiError {
    ApiError::new(
        "InvalidResourceType.NotFound",
        "The ResourceType provided does not exist in our records.",
    )
}

/// A resource group id that is not of the `rg-…` form (the VPC product's code).
pub fn invalid_resource_group_id() -> ApiError {
    ApiError::new(
        "InvalidResourceGroupId",
        "The specified ResourceGroupId does not exist.",
    )
}

// ---- dual tunnel / diagnostics -------------------------------------------------

/// A `TunnelId` that names no tunnel of the connection. The references
/// document no code; vpngw answers in the cloud's `Invalid<Thing>Id.NotFound`
/// form (see docs/api-decisions.md).
pub fn tunnel_not_found() -> ApiError {
    ApiError::new(
        "InvalidTunnelId.NotFound",
        "The specified tunnel id does not exist.",
    )
}

/// A `DiagnoseId` that names no diagnosis of the caller's.
pub fn diagnose_not_found() -> ApiError {
    ApiError::new(
        "InvalidDiagnoseId.NotFound",
        "The specified diagnose id does not exist.",
    )
}

// ---- routes ---------------------------------------------------------------------

/// A route that no route of the gateway or connection matches (named by
/// its fields, with its current weight). The code and message of the VPC
/// route tables; Terraform's `alicloud_vpn_route_entry` takes this code from
/// DeleteVpnRouteEntry as "already deleted".
pub fn route_not_found() -> ApiError {
    ApiError::new("InvalidRouteEntry.NotFound", "Route entry not exists.")
}

/// A route with the same destination (source) and next hop exists: the
/// VPC route tables' duplicate code and message.
pub fn route_duplicated(dest: &str) -> ApiError {
    ApiError::new(
        "RouterEntryConflict.Duplicated",
        format!("A route entry already exists, which CIDR is '{dest}'."),
    )
}

/// The policy-based route quota of a VPN gateway (the message format the
/// API reference publishes for this code).
pub fn pbr_quota_exceeded(existing: u64, adding: u64, max: u32) -> ApiError {
    ApiError::new(
        "QuotaExceeded.PolicyBasedRoute",
        format!(
            "The maximum number of policy-based routes is exceeded. Existing routes: {existing}. Routes to be created: {adding}. Maximum routes: {max}."
        ),
    )
}

/// A write on a connection whose previous configuration task is running
/// (Terraform retries it).
pub fn connection_configuring() -> ApiError {
    ApiError::new(
        "VpnConnection.Configuring",
        "The specified vpn connection is configuring.",
    )
}

// ---- SSL-VPN -------------------------------------------------------------------
// Codes from the public references where they give one (Terraform's provider,
// the DeleteVpnGateway reference); the others are vpngw's, in the cloud's
// style (docs/api-decisions.md, "SSL-VPN").

/// The cloud's NotFound form for the IPsec server (docs/api-decisions.md,
/// "IPsec server").
pub fn ipsec_server_not_found() -> ApiError {
    ApiError::new(
        "InvalidIpsecServerId.NotFound",
        "The specified IpsecServerId does not exist.",
    )
}

/// A second IPsec server on one gateway (the cloud publishes no code for
/// it; docs/api-decisions.md, "IPsec server").
pub fn ipsec_server_exists() -> ApiError {
    ApiError::new(
        "QuotaExceeded.IpsecServer",
        "The specified VPN gateway already has an IPsec server.",
    )
}

/// An IPsec server's `param` block overlaps a block the gateway's SSL
/// server uses (`owner`'s `used_param`).
pub fn ipsec_server_block_in_use(
    param: &str,
    block: &str,
    owner: &str,
    used_param: &str,
    used: &str,
) -> ApiError {
    ApiError::new(
        format!("IllegalParam.{param}"),
        format!(
            "The specified \"{param}\" block {block} overlaps the \"{used_param}\" block {used} of {owner} on the same VPN gateway."
        ),
    )
}

pub fn ssl_vpn_server_not_found() -> ApiError {
    ApiError::new(
        "InvalidSslVpnServerId.NotFound",
        "The specified SslVpnServerId does not exist.",
    )
}

pub fn ssl_vpn_client_cert_not_found() -> ApiError {
    ApiError::new(
        "InvalidSslVpnClientCertId.NotFound",
        "The specified SslVpnClientCertId does not exist.",
    )
}

/// DescribeSslVpnClientCert's NotFound (what Terraform's provider expects).
pub fn instance_not_found() -> ApiError {
    ApiError::new(
        "InvalidInstanceId.NotFound",
        "The specified instance does not exist.",
    )
}

/// DeleteVpnGateway while the gateway has an SSL server.
pub fn ssl_vpn_server_not_deleted() -> ApiError {
    ApiError::new(
        "DependencyViolation.SslVpnServer",
        "There is SSL VPN server on specified vpn gateway not deleted.",
    )
}

/// CreateSslVpnServer on a gateway created without `EnableSsl`.
pub fn ssl_vpn_disabled() -> ApiError {
    ApiError::new(
        "OperationFailed.SslVpnDisabled",
        "The SSL-VPN feature of the specified VPN gateway is not enabled.",
    )
}

/// A second SSL server on one gateway.
pub fn ssl_vpn_server_exists() -> ApiError {
    ApiError::new(
        "QuotaExceeded.SslVpnServer",
        "The specified VPN gateway already has an SSL server.",
    )
}

/// CreateVpnGateway with `SslConnections` but without `EnableSsl`.
pub fn unnecessary_ssl_connection() -> ApiError {
    ApiError::new(
        "UnnecessarySslConnection",
        "SslConnections is unnecessary when EnableSsl is false.",
    )
}

/// `ClientIpPool` too small for the gateway's `SslConnections`.
pub fn client_ip_pool_too_small(pool: &str, max_connections: i64) -> ApiError {
    ApiError::new(
        "IllegalParam.ClientIpPool",
        format!(
            "The specified \"ClientIpPool\" ({pool}) is too small: each of the gateway's {max_connections} SSL connections takes 4 addresses."
        ),
    )
}

/// `ClientIpPool` overlapping a `LocalSubnet` block.
pub fn client_ip_pool_overlaps(pool: &str, block: &str) -> ApiError {
    ApiError::new(
        "InvalidParameter.ClientIpPoolOverlapLocalSubnet",
        format!(
            "The specified \"ClientIpPool\" ({pool}) overlaps the \"LocalSubnet\" block {block}."
        ),
    )
}

/// `IllegalParam.<name>`: a value outside what the parameter takes.
pub fn illegal_param(name: &str) -> ApiError {
    ApiError::new(
        format!("IllegalParam.{name}"),
        format!("The specified \"{name}\" is invalid."),
    )
}
