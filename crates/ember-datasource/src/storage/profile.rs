//! The AWS shared profile files, as the AWS SDKs read them: `~/.aws/credentials`
//! (or `AWS_SHARED_CREDENTIALS_FILE`) and `~/.aws/config` (or `AWS_CONFIG_FILE`),
//! profile `AWS_PROFILE` or `default`.

use std::collections::HashMap;
use std::path::PathBuf;

/// Static credentials of a profile.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

fn profile_name() -> String {
    std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".to_string())
}

fn home_file(env: &str, rel: &str) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    std::env::var("HOME")
        .ok()
        .map(|h| PathBuf::from(h).join(".aws").join(rel))
}

/// The `key = value` pairs of section `section` of an INI text.
pub(crate) fn section(text: &str, section: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            inside =
                name == section || name.strip_prefix("profile ").map(str::trim) == Some(section);
            continue;
        }
        if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
    }
    out
}

fn read_section(env: &str, rel: &str) -> HashMap<String, String> {
    home_file(env, rel)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| section(&t, &profile_name()))
        .unwrap_or_default()
}

/// Credentials of the active profile, if its files define them.
pub(crate) fn credentials() -> Option<Credentials> {
    let mut s = read_section("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    if s.is_empty() {
        s = read_section("AWS_CONFIG_FILE", "config");
    }
    Some(Credentials {
        access_key_id: s.get("aws_access_key_id")?.clone(),
        secret_access_key: s.get("aws_secret_access_key")?.clone(),
        session_token: s.get("aws_session_token").cloned(),
    })
}

/// Region of the active profile (`~/.aws/config`).
pub(crate) fn region() -> Option<String> {
    read_section("AWS_CONFIG_FILE", "config")
        .get("region")
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_sections() {
        let text = "[default]\naws_access_key_id = AK\naws_secret_access_key=SK\n\n[profile dev]\nregion = eu-west-1\n";
        let d = section(text, "default");
        assert_eq!(d.get("aws_access_key_id").map(String::as_str), Some("AK"));
        assert_eq!(
            d.get("aws_secret_access_key").map(String::as_str),
            Some("SK")
        );
        let dev = section(text, "dev");
        assert_eq!(dev.get("region").map(String::as_str), Some("eu-west-1"));
        assert!(section(text, "none").is_empty());
    }
}
