//! Built-in system policies, verbatim from the RAM "System policy reference" pages
//! (alibabacloud.com/help/en/ram/developer-reference/<policy-name-lowercase>).
//!
//! Note on coverage: the real `AliyunVPCReadOnlyAccess` (v9) and `AliyunVPCFullAccess` (v12)
//! do **not** cover VPN Gateway actions (`vpc:*Vpc*` does not match `DescribeVpnConnection`);
//! Alibaba Cloud ships separate `AliyunVPNGateway*` policies for that. We reproduce the real
//! documents and add `AliyunVPNGatewayReadOnlyAccess` (v9), which is what grants
//! `vpc:DescribeVpnConnection*` etc. in the cloud.

use crate::document::PolicyDocument;

/// `AdministratorAccess`: every action on every resource. (Its reference page was not in the
/// search index; the document is the well-known one-statement `*`/`*` Allow.)
pub const ADMINISTRATOR_ACCESS: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Action": "*",
      "Effect": "Allow",
      "Resource": "*"
    }
  ]
}"#;

/// `AliyunVPCFullAccess` v12 (updated 2023-04-07).
pub const ALIYUN_VPC_FULL_ACCESS: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Action": [
        "vpc:*HaVip*",
        "vpc:*RouteTable*",
        "vpc:*VRouter*",
        "vpc:*RouteEntry*",
        "vpc:*RouteEntries*",
        "vpc:*VSwitch*",
        "vpc:*Vpc*",
        "vpc:*Cen*",
        "vpc:*Tag*",
        "vpc:*NetworkAcl*",
        "vpc:*FlowLog*",
        "vpc:*Ipv4Gateway*",
        "vpc:*PrefixList*",
        "vpc:*DhcpOptionsSet*",
        "vpc:DeletionProtection",
        "vpc:*TagResource*",
        "vpc:MoveResourceGroup"
      ],
      "Resource": "*",
      "Effect": "Allow"
    }
  ]
}"#;

/// `AliyunVPCReadOnlyAccess` v9 (updated 2025-08-07).
pub const ALIYUN_VPC_READ_ONLY_ACCESS: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Action": [
        "vpc:DescribeHaVip*",
        "vpc:DescribeRouteTable*",
        "vpc:DescribeRouteEntry*",
        "vpc:DescribeVSwitch*",
        "vpc:DescribeVRouter*",
        "vpc:DescribeVpc*",
        "vpc:Describe*Cen*",
        "vpc:ListTag*",
        "vpc:DescribeTag*",
        "vpc:DescribeNetworkAcl*",
        "vpc:DescribeFlowLog*",
        "vpc:CheckCanAllocateVpcPrivateIpAddress",
        "vpc:ListIpv4Gateways",
        "vpc:GetIpv4GatewayAttribute",
        "vpc:ListDhcpOptionsSets",
        "vpc:GetDhcpOptionsSet"
      ],
      "Resource": "*",
      "Effect": "Allow"
    }
  ]
}"#;

/// `AliyunVPNGatewayReadOnlyAccess` v9.
pub const ALIYUN_VPN_GATEWAY_READ_ONLY_ACCESS: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Action": [
        "vpc:DescribeVpnGateway*",
        "vpc:DescribeVpnConnection*",
        "vpc:DescribeCustomerGateway*",
        "vpc:DescribeSslVpnServer*",
        "vpc:DescribeSslVpnClientCert*",
        "vpc:DescribeSslVpnClients",
        "vpc:DescribeVpn*",
        "vpc:GetVpn*",
        "vpc:ListVpn*",
        "vpc:ListIpsecServer*",
        "vpc:DescribeVpnCrossAccountAuthorizations",
        "vpc:DescribeVcoRouteEntries",
        "vpc:DescribeVpnAttachments",
        "vpc:CheckVpnBgpEnabled",
        "vpc:GetVpnReplacementStatus",
        "vpc:DownloadVpnConnectionConfig"
      ],
      "Resource": "*",
      "Effect": "Allow"
    }
  ]
}"#;

/// `AliyunSTSAssumeRoleAccess` v1: lets a RAM identity call `sts:AssumeRole`.
pub const ALIYUN_STS_ASSUME_ROLE_ACCESS: &str = r#"{
  "Statement": [
    {
      "Action": "sts:AssumeRole",
      "Effect": "Allow",
      "Resource": "*"
    }
  ],
  "Version": "1"
}"#;

/// A system policy as listed by ListPolicies (`PolicyType` = `System`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemPolicy {
    pub name: &'static str,
    pub description: &'static str,
    /// The policy's current version id at the cloud (`DefaultVersion`).
    pub default_version: &'static str,
    pub document: &'static str,
}

impl SystemPolicy {
    /// Parse the document. The built-in documents are tested to parse.
    pub fn parse(&self) -> PolicyDocument {
        match PolicyDocument::parse(self.document) {
            Ok(d) => d,
            // Unreachable: covered by `system_policies_parse` tests. Fall back to deny-all.
            Err(_) => PolicyDocument::from_statements(crate::PolicyKind::Permission, Vec::new()),
        }
    }
}

/// Every built-in system policy.
pub const SYSTEM_POLICIES: &[SystemPolicy] = &[
    SystemPolicy {
        name: "AdministratorAccess",
        description: "Provides full access to Alibaba Cloud services and resources.",
        default_version: "v1",
        document: ADMINISTRATOR_ACCESS,
    },
    SystemPolicy {
        name: "AliyunVPCFullAccess",
        description: "Provides full access to Virtual Private Cloud(VPC) via Management Console.",
        default_version: "v12",
        document: ALIYUN_VPC_FULL_ACCESS,
    },
    SystemPolicy {
        name: "AliyunVPCReadOnlyAccess",
        description: "Provides read-only access to Virtual Private Cloud(VPC) via Management Console.",
        default_version: "v9",
        document: ALIYUN_VPC_READ_ONLY_ACCESS,
    },
    SystemPolicy {
        name: "AliyunVPNGatewayReadOnlyAccess",
        description: "Provides read-only access to VPN Gateway via Management Console.",
        default_version: "v9",
        document: ALIYUN_VPN_GATEWAY_READ_ONLY_ACCESS,
    },
    SystemPolicy {
        name: "AliyunSTSAssumeRoleAccess",
        description: "Provides access to the API AssumeRole of Security Token Service(STS).",
        default_version: "v1",
        document: ALIYUN_STS_ASSUME_ROLE_ACCESS,
    },
];

/// Look up a system policy by name (exact, as RAM policy names are matched by the API).
pub fn system_policy(name: &str) -> Option<&'static SystemPolicy> {
    SYSTEM_POLICIES.iter().find(|p| p.name == name)
}
