//! The RAM rules every backend enforces, written once: what blocks the
//! delete of a user, group or role (and in which order the first blocker is
//! reported), what goes with it, and the rows each quota counts. Backends
//! only run the SQL these produce inside the write's transaction, with the
//! account as the first parameter and the entity's id or name second
//! ([`Rows::by`]); the conformance suite checks that they do.

use crate::{
    StoreError,
    identity::{Dependent, PrincipalKind},
};

/// How a backend writes query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `?1`, `?2`.
    Sqlite,
    /// `$1`, `$2`.
    Postgres,
}

impl Dialect {
    fn param(self, n: u8) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

/// Which identifier of an entity its rows name it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The user, group or role id (rows that survive a rename).
    Id,
    /// The name (access keys name their user; versions their policy).
    Name,
}

/// The rows of `table` that belong to one entity of an account.
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    pub table: &'static str,
    /// The column that names the entity.
    pub column: &'static str,
    /// A constant condition more (`principal_type = 'User'`), or "".
    pub and: &'static str,
    pub by: By,
}

impl Rows {
    fn filter(&self, d: Dialect) -> String {
        let and = if self.and.is_empty() {
            String::new()
        } else {
            format!(" AND {}", self.and)
        };
        format!(
            "account_id = {} AND {} = {}{and}",
            d.param(1),
            self.column,
            d.param(2)
        )
    }

    /// `SELECT COUNT(*)` of these rows.
    pub fn count_sql(&self, d: Dialect) -> String {
        format!(
            "SELECT COUNT(*) FROM {} WHERE {}",
            self.table,
            self.filter(d)
        )
    }

    /// `DELETE` of these rows.
    pub fn delete_sql(&self, d: Dialect) -> String {
        format!("DELETE FROM {} WHERE {}", self.table, self.filter(d))
    }
}

/// What deleting one kind of principal means.
#[derive(Debug)]
pub struct PrincipalDelete {
    /// What must be gone first, in the order checked: the first found is
    /// the one reported (the cloud does not document its order).
    pub blockers: &'static [(Rows, Dependent)],
    /// The principal's own row.
    pub row: Rows,
    /// What goes with it in the same transaction.
    pub cascade: &'static [Rows],
}

const fn attachments_of(kind: &'static str) -> Rows {
    Rows {
        table: "ram_attachments",
        column: "principal_id",
        and: kind,
        by: By::Id,
    }
}

const USER_ATTACHMENTS: Rows = attachments_of("principal_type = 'User'");
const GROUP_ATTACHMENTS: Rows = attachments_of("principal_type = 'Group'");
const ROLE_ATTACHMENTS: Rows = attachments_of("principal_type = 'Role'");

/// A user's access keys (the 2-per-user quota counts them).
pub const ACCESS_KEYS_OF_USER: Rows = Rows {
    table: "access_keys",
    column: "principal",
    and: "",
    by: By::Name,
};

/// The groups a user is in (the 5-per-user quota counts them).
pub const GROUPS_OF_USER: Rows = Rows {
    table: "ram_group_members",
    column: "user_id",
    and: "",
    by: By::Id,
};

/// A custom policy's versions (the 5-per-policy quota counts them).
pub const VERSIONS_OF_POLICY: Rows = Rows {
    table: "ram_policy_versions",
    column: "policy_name",
    and: "",
    by: By::Name,
};

/// The policies attached to a principal (the 25-per-principal quota).
pub fn attachments(kind: PrincipalKind) -> Rows {
    match kind {
        PrincipalKind::User => USER_ATTACHMENTS,
        PrincipalKind::Group => GROUP_ATTACHMENTS,
        PrincipalKind::Role => ROLE_ATTACHMENTS,
    }
}

const DELETE_USER: PrincipalDelete = PrincipalDelete {
    blockers: &[
        (ACCESS_KEYS_OF_USER, Dependent::UserAccessKey),
        (
            USER_ATTACHMENTS,
            Dependent::AttachedPolicy(PrincipalKind::User),
        ),
        (GROUPS_OF_USER, Dependent::UserGroup),
    ],
    row: Rows {
        table: "ram_users",
        column: "user_id",
        and: "",
        by: By::Id,
    },
    cascade: &[],
};

const DELETE_GROUP: PrincipalDelete = PrincipalDelete {
    blockers: &[
        (
            Rows {
                table: "ram_group_members",
                column: "group_id",
                and: "",
                by: By::Id,
            },
            Dependent::GroupUser,
        ),
        (
            GROUP_ATTACHMENTS,
            Dependent::AttachedPolicy(PrincipalKind::Group),
        ),
    ],
    row: Rows {
        table: "ram_groups",
        column: "group_id",
        and: "",
        by: By::Id,
    },
    cascade: &[],
};

const DELETE_ROLE: PrincipalDelete = PrincipalDelete {
    blockers: &[(
        ROLE_ATTACHMENTS,
        Dependent::AttachedPolicy(PrincipalKind::Role),
    )],
    row: Rows {
        table: "ram_roles",
        column: "role_id",
        and: "",
        by: By::Id,
    },
    // Its sessions die with it: a role of the same name created later is
    // another role (#13).
    cascade: &[Rows {
        table: "sts_credentials",
        column: "role_id",
        and: "",
        by: By::Id,
    }],
};

/// The rules of deleting a `kind` of principal.
pub fn principal_delete(kind: PrincipalKind) -> &'static PrincipalDelete {
    match kind {
        PrincipalKind::User => &DELETE_USER,
        PrincipalKind::Group => &DELETE_GROUP,
        PrincipalKind::Role => &DELETE_ROLE,
    }
}

/// `QuotaExceeded` when `count` rows already fill `limit` (0: no limit).
pub fn check_quota(count: i64, limit: u32) -> Result<(), StoreError> {
    if limit > 0 && count >= i64::from(limit) {
        return Err(StoreError::QuotaExceeded { limit });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_writes_its_own_parameters() {
        let rows = attachments(PrincipalKind::Role);
        assert_eq!(
            rows.count_sql(Dialect::Sqlite),
            "SELECT COUNT(*) FROM ram_attachments WHERE account_id = ?1 AND principal_id = ?2 \
             AND principal_type = 'Role'"
        );
        assert_eq!(
            ACCESS_KEYS_OF_USER.delete_sql(Dialect::Postgres),
            "DELETE FROM access_keys WHERE account_id = $1 AND principal = $2"
        );
    }

    #[test]
    fn a_quota_of_zero_is_no_limit() {
        assert!(check_quota(1_000_000, 0).is_ok());
        assert!(check_quota(1, 2).is_ok());
        assert!(matches!(
            check_quota(2, 2),
            Err(StoreError::QuotaExceeded { limit: 2 })
        ));
    }
}
