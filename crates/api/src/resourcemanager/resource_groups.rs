//! ListResourceGroups and GetResourceGroup: the account's default resource
//! group, the one group vpngw knows as such.

use vpngw_ops::resourcemanager::{get_resource_group as get_op, list_resource_groups as list_op};
use vpngw_protocol::ApiError;

use crate::{Ctx, ram::iso8601, vpc::given};

/// The id of every account's default resource group (what resources created
/// without `ResourceGroupId` are in).
pub const DEFAULT_GROUP_ID: &str = "rg-default";
const DEFAULT_GROUP_NAME: &str = "default";
const DEFAULT_GROUP_DISPLAY_NAME: &str = "Default Resource Group";
/// The one status a group of vpngw has (the API also knows `Creating` and
/// `PendingDelete`).
const STATUS_OK: &str = "OK";

/// The parts of a group both answers carry.
struct Group {
    account_id: String,
    create_date: String,
}

/// The caller's default group, created with the account.
async fn default_group(ctx: &Ctx<'_>) -> Result<Group, ApiError> {
    let account_id = ctx.caller.account_id.clone();
    let accounts = ctx
        .store()
        .accounts()
        .await
        .map_err(crate::context::internal)?;
    let created_ms = accounts
        .iter()
        .find(|a| a.id == account_id)
        .map_or(0, |a| a.created_ms);
    Ok(Group {
        account_id,
        create_date: iso8601(created_ms),
    })
}

/// A `Name`/`DisplayName` filter: partial match, as the API documents.
fn matches_part(filter: &Option<String>, value: &str) -> bool {
    given(filter).is_none_or(|f| value.contains(f))
}

/// ListResourceGroups: the default group when the filters keep it.
/// `ResourceGroupIds` takes precedence over `ResourceGroupId`; a tag filter
/// keeps nothing (the default group has no tags).
pub async fn list(ctx: &Ctx<'_>, req: list_op::Request) -> Result<list_op::Answer, ApiError> {
    let page_number = req.page_number.unwrap_or(1);
    if page_number < 1 {
        return Err(ApiError::invalid_parameter("PageNumber"));
    }
    let page_size = req.page_size.unwrap_or(10);
    if !(1..=100).contains(&page_size) {
        return Err(ApiError::invalid_parameter("PageSize"));
    }
    let ids: Vec<&str> = if req.resource_group_ids.is_empty() {
        given(&req.resource_group_id).into_iter().collect()
    } else {
        req.resource_group_ids.iter().map(String::as_str).collect()
    };
    let tagged = req
        .tag
        .iter()
        .any(|t| t.key.as_deref().is_some_and(|k| !k.is_empty()));
    let kept = (ids.is_empty() || ids.contains(&DEFAULT_GROUP_ID))
        && matches_part(&req.name, DEFAULT_GROUP_NAME)
        && matches_part(&req.display_name, DEFAULT_GROUP_DISPLAY_NAME)
        && given(&req.status).is_none_or(|s| s == STATUS_OK)
        && !tagged;
    let mut groups = Vec::new();
    if kept {
        let g = default_group(ctx).await?;
        groups.push(list_op::ResourceGroup {
            account_id: g.account_id,
            create_date: g.create_date,
            display_name: DEFAULT_GROUP_DISPLAY_NAME.to_owned(),
            id: DEFAULT_GROUP_ID.to_owned(),
            name: DEFAULT_GROUP_NAME.to_owned(),
            status: STATUS_OK.to_owned(),
            tags: Default::default(),
        });
    }
    let total_count = i64::try_from(groups.len()).unwrap_or_default();
    if page_number > 1 {
        groups.clear();
    }
    Ok(list_op::Answer {
        page_number,
        page_size,
        resource_groups: list_op::ResourceGroups {
            resource_group: groups,
        },
        total_count,
    })
}

/// GetResourceGroup: the default group, its status in every region of the
/// catalogue; any other id is `EntityNotExists.ResourceGroup`.
pub async fn get(ctx: &Ctx<'_>, req: get_op::Request) -> Result<get_op::Answer, ApiError> {
    if req.resource_group_id != DEFAULT_GROUP_ID {
        return Err(ApiError::new(
            "EntityNotExists.ResourceGroup",
            "The resource group does not exist.",
        )
        .with_status(404));
    }
    let g = default_group(ctx).await?;
    let region_status = vpngw_model::catalog::regions()
        .iter()
        .map(|r| get_op::RegionStatus {
            region_id: r.id.to_owned(),
            status: STATUS_OK.to_owned(),
        })
        .collect();
    Ok(get_op::Answer {
        resource_group: get_op::ResourceGroup {
            account_id: g.account_id,
            create_date: g.create_date,
            display_name: DEFAULT_GROUP_DISPLAY_NAME.to_owned(),
            id: DEFAULT_GROUP_ID.to_owned(),
            name: DEFAULT_GROUP_NAME.to_owned(),
            region_statuses: get_op::RegionStatuses { region_status },
            status: STATUS_OK.to_owned(),
            tags: Default::default(),
        },
    })
}
