//! Tests of `[[providers]]`: loading, defaults, and every refusal naming its key.

use std::time::Duration;

use super::{tests::toml_error, Config, ProviderKind};

const ODDS: &str = "[[providers]]\nid = \"odds\"\nkind = \"the-odds-api\"\n\
                    base_url = \"https://api.the-odds-api.com\"\nfeeds = [\"soccer_epl\"]\n";

#[test]
fn providers_load_with_defaults_and_keys_from_the_environment() {
    let text = format!(
        "{ODDS}api_key_env = \"ODDS_KEY\"\npriority = 7\n\n[[providers]]\nid = \"espn\"\n\
         kind = \"espn\"\nbase_url = \"http://127.0.0.1:9\"\nfeeds = [\"football/nfl\"]\ntimeout_ms = 500\n"
    );
    let env = |name: &str| (name == "ODDS_KEY").then(|| "k".to_owned());
    let config = Config::from_toml_str(&text, &env).expect("loads");
    let [odds, espn] = &config.providers[..] else {
        panic!("two providers: {:?}", config.providers)
    };
    assert_eq!(
        (odds.kind, odds.priority, odds.key(&env)),
        (ProviderKind::TheOddsApi, 7, "k".to_owned())
    );
    assert_eq!(
        (odds.timeout, odds.max_retries, odds.breaker_failures),
        (Duration::from_secs(10), 2, 5)
    );
    assert_eq!(
        (espn.priority, espn.timeout, espn.enabled),
        (100, Duration::from_millis(500), true)
    );
}

const DEMO: &str = "[[providers]]\nid = \"demo-beta\"\nkind = \"demo\"\n";

#[test]
fn a_demo_entry_needs_no_url_or_feeds() {
    let text = format!("{DEMO}enabled = false\npriority = 3\n");
    let config = Config::from_toml_str(&text, &|_| None).expect("loads");
    let beta = &config.providers[0];
    assert_eq!(
        (beta.kind, beta.enabled, beta.priority),
        (ProviderKind::Demo, false, 3)
    );
    assert!(beta.base_url.is_empty() && beta.feeds.is_empty());
}

#[test]
fn bad_providers_are_refused_naming_the_key() {
    let cases: &[(String, &str)] = &[
        (format!("{ODDS}colour = 1\n"), "providers[0].colour"),
        (ODDS.replace("the-odds-api", "betfair"), "providers[0].kind"),
        (
            ODDS.replace("https://api.the-odds-api.com", "ftp://x"),
            "providers[0].base_url",
        ),
        (ODDS.replace("\"odds\"", "\"Odds!\""), "providers[0].id"),
        (
            ODDS.replace("\"odds\"", "\"demo-alpha\""),
            "providers[0].id",
        ),
        (format!("{ODDS}\n{ODDS}"), "providers[1].id"),
        (ODDS.replace("[\"soccer_epl\"]", "[]"), "providers[0].feeds"),
        (
            ODDS.replace("feeds = [\"soccer_epl\"]\n", ""),
            "providers[0].feeds",
        ),
        (
            ODDS.replace("the-odds-api", "espn"),
            "providers[0].feeds[0]",
        ),
        (
            ODDS.replace("the-odds-api", "api-football"),
            "providers[0].feeds[0]",
        ),
        (
            format!("{ODDS}api_key_env = \"NOT_SET_ANYWHERE\"\n"),
            "providers[0].api_key_env",
        ),
        (format!("{ODDS}timeout_ms = 0\n"), "providers[0].timeout_ms"),
        ("providers = 3\n".to_owned(), "providers"),
        (DEMO.replace("demo-beta", "beta"), "providers[0].id"),
        (format!("{DEMO}feeds = [\"x\"]\n"), "providers[0].feeds"),
    ];
    for (text, key) in cases {
        let e = toml_error(text);
        assert!(e.contains(key), "{key}: {e}");
    }
}
