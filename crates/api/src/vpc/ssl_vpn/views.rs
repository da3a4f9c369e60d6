//! The SSL-VPN answers, named and typed as the SDK models
//! (`alibabacloud_vpc20160428`) name and type them.

use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Created {
    pub ssl_vpn_server_id: String,
    pub name: String,
}

/// One item of DescribeSslVpnServers (and ModifySslVpnServer's answer).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ServerView {
    pub region_id: String,
    pub ssl_vpn_server_id: String,
    pub vpn_gateway_id: String,
    pub name: String,
    pub local_subnet: String,
    pub client_ip_pool: String,
    pub create_time: i64,
    pub cipher: String,
    pub proto: String,
    pub port: i64,
    pub compress: bool,
    pub connections: i64,
    pub max_connections: i64,
    pub internet_ip: String,
    pub enable_multi_factor_auth: bool,
    #[serde(rename = "IDaaSInstanceId")]
    pub i_daa_s_instance_id: String,
    #[serde(rename = "IDaaSRegionId")]
    pub i_daa_s_region_id: String,
    #[serde(rename = "IDaaSApplicationId")]
    pub i_daa_s_application_id: String,
    #[serde(
        rename = "IDaaSInstanceVersion",
        skip_serializing_if = "Option::is_none"
    )]
    pub i_daa_s_instance_version: Option<String>,
    pub resource_group_id: String,
    pub dns_servers: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ServersPage {
    pub total_count: u64,
    pub page_number: i64,
    pub page_size: i64,
    pub ssl_vpn_servers: ServerList,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ServerList {
    pub ssl_vpn_server: Vec<ServerView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CertCreated {
    pub ssl_vpn_client_cert_id: String,
    pub name: String,
}

/// DescribeSslVpnClientCert.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CertView {
    pub region_id: String,
    pub ssl_vpn_client_cert_id: String,
    pub name: String,
    pub ssl_vpn_server_id: String,
    pub ca_cert: String,
    pub client_cert: String,
    pub client_key: String,
    pub client_config: String,
    pub create_time: i64,
    pub end_time: i64,
    pub status: String,
    pub resource_group_id: String,
}

/// One item of DescribeSslVpnClientCerts (no key material).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CertKey {
    pub region_id: String,
    pub ssl_vpn_client_cert_id: String,
    pub name: String,
    pub ssl_vpn_server_id: String,
    pub create_time: i64,
    pub end_time: i64,
    pub status: String,
    pub resource_group_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CertsPage {
    pub total_count: u64,
    pub page_number: i64,
    pub page_size: i64,
    pub ssl_vpn_client_cert_keys: CertKeys,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CertKeys {
    pub ssl_vpn_client_cert_key: Vec<CertKey>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ClientInfo {
    pub common_name: String,
    pub ip: String,
    pub port: i64,
    pub private_ip: String,
    pub connected_time: i64,
    pub receive_bytes: i64,
    pub send_bytes: i64,
    pub status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ClientsPage {
    pub vpn_gateway_id: String,
    pub region_id: String,
    pub total_count: u64,
    pub page_number: i64,
    pub page_size: i64,
    pub client_info_list: Vec<ClientInfo>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct LogsPage {
    pub count: usize,
    pub is_completed: bool,
    pub page_number: i64,
    pub page_size: i64,
    pub data: Logs,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Logs {
    pub logs: Vec<String>,
}

/// vpngw's DescribeSslVpnServerPki (the agent's read).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Pki {
    pub ssl_vpn_server_id: String,
    pub ca_cert: String,
    pub server_cert: String,
    pub server_key: String,
    pub crl: String,
    pub revoked_common_names: Vec<String>,
}
