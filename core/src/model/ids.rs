//! Identifier newtypes. Cheap to clone (`Arc<str>`), compared by value.

use std::{fmt, sync::Arc};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps an id string as is.
            pub fn new(id: impl AsRef<str>) -> Self {
                Self(Arc::from(id.as_ref()))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        // Hash and Eq of `Arc<str>` are those of `str`, so maps keyed by ids can be queried
        // with a plain `&str` (no allocation on lookups).
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::new(s)
            }
        }
    };
}

id_type!(
    /// inplay's own stable id of a match, assigned by the match's owner (never a provider's id).
    MatchId
);
id_type!(
    /// A configured provider (`demo-alpha`, `odds-api`, ...). For aggregator feeds that carry
    /// several bookmakers, each bookmaker is its own provider id (`odds-api/fanduel`).
    ProviderId
);
id_type!(
    /// One market of one match: `<matchId>:<type>[:<line>]`, e.g. `nfl-3fa2c19b-1:spread:-3.5`.
    MarketId
);
