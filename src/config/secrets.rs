//! Secrets read from files the config names: `auth.jwt_secret_file`, `postgres.password_file`
//! and `redis.url_file`.
//!
//! Container platforms hand secrets over as files (Docker and Kubernetes secrets, systemd
//! credentials), and a file keeps a secret out of the process environment, which other tools
//! print and child processes inherit. Each file is read once, at start-up, after the rest of
//! the config is checked and before the rules between keys (so a placeholder secret in a file is
//! refused like one in `JWT_SECRET`). Trailing line ends are trimmed, since editors and
//! `echo` add one. Messages name the key and the file, never the secret.

use std::{fs, path::PathBuf};

use super::{
    error::{ConfigError, Origin},
    schema::redis_url_ok,
    Config, Sources,
};

/// One `*_file` key and the key whose value it supplies.
struct SecretFile {
    /// Dotted path of the file key, e.g. `auth.jwt_secret_file`.
    file_key: &'static str,
    /// Dotted path of the key it sets, e.g. `auth.jwt_secret`.
    value_key: &'static str,
}

const FILES: [SecretFile; 3] = [
    SecretFile {
        file_key: "auth.jwt_secret_file",
        value_key: "auth.jwt_secret",
    },
    SecretFile {
        file_key: "postgres.password_file",
        value_key: "postgres.password",
    },
    SecretFile {
        file_key: "redis.url_file",
        value_key: "redis.url",
    },
];

// === impl Config ===

impl Config {
    /// Replaces each secret whose `*_file` key is set by the file's contents.
    ///
    /// # Errors
    /// [`ConfigError::SecretFile`] naming the key and file when a file cannot be read, is not
    /// UTF-8, is empty, or (for `redis.url_file`) holds no Redis URL; and when the secret is
    /// also set directly, since then it is unclear which one is meant.
    pub(super) fn read_secret_files(&mut self, sources: &Sources) -> Result<(), ConfigError> {
        for file in &FILES {
            let path = self.secret_path(file.file_key);
            if path.is_empty() {
                continue;
            }
            let path = PathBuf::from(path);
            let fail = |reason: String| ConfigError::SecretFile {
                key: file.file_key,
                path: path.clone(),
                origin: sources.origin_of(file.file_key),
                reason,
            };
            if !self.secret_value(file.file_key).is_empty() && sources.is_set(file.value_key) {
                let origin = sources.origin_of(file.value_key);
                return Err(fail(format!(
                    "{}{origin} is set too: set one of them, not both",
                    file.value_key
                )));
            }
            let secret = read_secret(&path).map_err(fail)?;
            if file.value_key == "redis.url" && !redis_url_ok(&secret) {
                return Err(fail(
                    "it holds no Redis URL (redis://, rediss://, redis+unix:// or unix://)".into(),
                ));
            }
            *self.secret_value(file.file_key) = secret;
        }
        Ok(())
    }

    /// Where a secret's value came from when a `*_file` key supplied it: that file.
    pub(super) fn secret_origin(&mut self, value_key: &str) -> Option<Origin> {
        let file = FILES.iter().find(|f| f.value_key == value_key)?;
        let path = self.secret_path(file.file_key);
        (!path.is_empty()).then(|| Origin::File(PathBuf::from(path)))
    }

    /// The path a `*_file` key holds.
    fn secret_path(&mut self, file_key: &str) -> &str {
        self.secret_slot(file_key).0
    }

    /// The secret a `*_file` key supplies.
    fn secret_value(&mut self, file_key: &str) -> &mut String {
        self.secret_slot(file_key).1
    }

    /// The path a `*_file` key holds and the secret it supplies.
    fn secret_slot(&mut self, file_key: &str) -> (&str, &mut String) {
        match file_key {
            "auth.jwt_secret_file" => (&self.auth.jwt_secret_file, &mut self.auth.jwt_secret),
            "postgres.password_file" => (&self.postgres.password_file, &mut self.postgres.password),
            _ => (&self.redis.url_file, &mut self.redis.url),
        }
    }
}

/// A secret file's contents without trailing line ends.
fn read_secret(path: &std::path::Path) -> Result<String, String> {
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err("it is empty".into());
    }
    Ok(secret.to_owned())
}
