//! Roles a token may carry, and what each route asks for.

/// A role in a token's `roles` claim that a route may require.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Management: polling intervals, and future operational routes.
    Admin,
    /// The betting platform and provider pushes: bet validation, settlement, ingest.
    Service,
}

/// The known roles a token carries; unknown role names are ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RoleSet(u8);

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anyone, always (`/health`, `/metrics`, `/openapi.json`).
    Public,
    /// Anyone, unless `auth.protect_reads`: then any valid token.
    Read,
    /// A WebSocket stream: any valid token when `websocket.require_auth` or
    /// `auth.protect_reads`; the token's expiry then ends the session.
    Stream,
    /// A valid token carrying this role. Roles are not ranked: `admin` does not imply
    /// `service`, so each caller holds exactly the rights it was given.
    Role(Role),
}

// === impl Role ===

impl Role {
    /// The role's name in tokens.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }

    /// The role named `name`, if it is one inplay knows.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "admin" => Some(Role::Admin),
            "service" => Some(Role::Service),
            _ => None,
        }
    }

    fn bit(self) -> u8 {
        match self {
            Role::Admin => 1,
            Role::Service => 2,
        }
    }
}

// === impl RoleSet ===

impl RoleSet {
    /// The known roles among `names`.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            names
                .into_iter()
                .filter_map(Role::parse)
                .fold(0, |bits, role| bits | role.bit()),
        )
    }

    /// Whether `role` is in the set.
    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_do_not_imply_each_other() {
        let set = RoleSet::from_names(["admin", "reader", "Admin"]);
        assert!(set.contains(Role::Admin) && !set.contains(Role::Service));
        assert_eq!(RoleSet::from_names([]), RoleSet::default());
        assert!(RoleSet::from_names(["service", "admin"]).contains(Role::Service));
    }
}
