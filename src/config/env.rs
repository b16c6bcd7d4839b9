//! Environment overrides: `INPLAY_<SECTION>_<KEY>` and the original service's variables.
//!
//! The environment is read through a lookup function so tests can inject their own (never
//! `std::env::set_var`, which races with other threads). Overrides are written into the parsed
//! file as TOML values and then checked exactly like file values, so both get the same messages.

use std::collections::BTreeMap;

use toml::{Table, Value};

use super::{
    error::{Bad, ConfigError, Origin},
    schema::{Key, Kind, ENV_PREFIX, KEYS},
};

/// Which variable set each overridden key: dotted key → variable name.
pub(super) type Overrides = BTreeMap<String, String>;

/// Writes every set variable into `root` and returns which key each one set.
///
/// # Errors
/// [`ConfigError::Invalid`] if a value cannot be read as its key's type,
/// [`ConfigError::EnvUnsupported`] for a variable naming a file-only key.
pub(super) fn apply(
    root: &mut Table,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Overrides, ConfigError> {
    let mut overrides = Overrides::new();
    for key in KEYS {
        let Some((var, raw)) = lookup(key, env) else {
            continue;
        };
        let value = match key.kind.parse_env(&raw) {
            Some(Ok(value)) => value,
            Some(Err(expected)) => {
                let bad = Bad::new(key.path(), format!("{raw:?}"), expected);
                return Err(bad.at(Origin::Env(var)));
            }
            None => {
                return Err(ConfigError::EnvUnsupported {
                    name: var,
                    key: key.path(),
                })
            }
        };
        let section = root
            .entry(key.section)
            .or_insert_with(|| Value::Table(Table::new()));
        // A section that is not a table is left alone: the schema check reports it, naming the file.
        if let Value::Table(section) = section {
            section.insert(key.name.to_owned(), value);
            overrides.insert(key.path(), var);
        }
    }
    Ok(overrides)
}

/// The variable that sets `key` and its text: `INPLAY_*` first, then the original's variable.
fn lookup(key: &Key, env: &dyn Fn(&str) -> Option<String>) -> Option<(String, String)> {
    let var = key.env_var();
    if let Some(raw) = env(&var) {
        return Some((var, raw));
    }
    // The original read `process.env.X || default`, so an empty variable there means "unset".
    let legacy = key.legacy?;
    env(legacy)
        .filter(|raw| !raw.is_empty())
        .map(|raw| (legacy.to_owned(), raw))
}

/// Checks that every `INPLAY_*` name among `names` sets a config key, so a typo in a variable
/// name stops start-up instead of being ignored. Names without the prefix are skipped.
///
/// # Errors
/// [`ConfigError::UnknownVar`] for the first name that matches no key,
/// [`ConfigError::EnvUnsupported`] for one that names a file-only key.
pub fn check_env_names<I>(names: I) -> Result<(), ConfigError>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    for name in names {
        let name = name.as_ref();
        if !name.starts_with(ENV_PREFIX) {
            continue;
        }
        match KEYS.iter().find(|key| key.env_var() == name) {
            None => {
                return Err(ConfigError::UnknownVar {
                    name: name.to_owned(),
                })
            }
            Some(key) if matches!(key.kind, Kind::AliasTable) => {
                let (name, key) = (name.to_owned(), key.path());
                return Err(ConfigError::EnvUnsupported { name, key });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The process environment as a lookup function for [`Config::load`](super::Config::load).
/// A value that is not valid UTF-8 is converted lossily (and then usually fails its check).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
}

/// Names of the process's `INPLAY_*` variables, for [`check_env_names`].
pub fn inplay_var_names() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| name.starts_with(ENV_PREFIX))
        .collect()
}
