//! Unit tests of the JWT verifier: every refusal, at a pinned time.

use std::{path::Path, time::Duration};

use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

use super::*;
use crate::auth::Role;

const SECRET: &str = "unit-test-secret-that-is-long-enough-32";
/// Unix seconds the tests run "at".
const NOW: i64 = 1_800_000_000;
const NOW_MS: i64 = NOW * 1000;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jwt")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn config(algorithms: &[&str]) -> AuthConfig {
    AuthConfig {
        jwt_secret: SECRET.into(),
        algorithms: algorithms.iter().map(|&a| a.to_owned()).collect(),
        leeway: Duration::from_secs(30),
        ..AuthConfig::default()
    }
}

fn hs(alg: Algorithm, claims: &Value, secret: &[u8]) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn claims(roles: &[&str]) -> Value {
    json!({"sub": "u1", "roles": roles, "exp": NOW + 60})
}

fn verify(v: &Verifier, token: &str) -> Result<Claims, AuthError> {
    v.verify(token, NOW_MS)
}

/// base64url without padding, for hand-made tokens.
fn b64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[test]
fn accepts_a_valid_hs256_token_with_roles() {
    let v = Verifier::try_new(&config(&["HS256"])).unwrap();
    let c = verify(
        &v,
        &hs(
            Algorithm::HS256,
            &claims(&["admin", "other"]),
            SECRET.as_bytes(),
        ),
    )
    .unwrap();
    assert_eq!(c.sub.as_deref(), Some("u1"));
    assert!(c.roles.contains(Role::Admin) && !c.roles.contains(Role::Service));
    assert_eq!(c.valid_until_ms, (NOW + 60) * 1000 + 30_000);
}

#[test]
fn refuses_forged_and_confused_tokens() {
    let v = Verifier::try_new(&config(&["HS256"])).unwrap();
    let forged = hs(Algorithm::HS256, &claims(&["admin"]), b"not-the-secret");
    assert_eq!(verify(&v, &forged), Err(AuthError::BadSignature));
    let hs384 = hs(Algorithm::HS384, &claims(&["admin"]), SECRET.as_bytes());
    assert_eq!(
        verify(&v, &hs384),
        Err(AuthError::AlgorithmNotAccepted("HS384".into()))
    );
    // alg: none, with an empty signature.
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims(&["admin"]).to_string().as_bytes())
    );
    assert_eq!(verify(&v, &none), Err(AuthError::Malformed));
    for garbage in ["", "a.b", "a.b.c", "....", "\u{0}.\u{1}.\u{2}"] {
        assert_eq!(
            verify(&v, garbage),
            Err(AuthError::Malformed),
            "{garbage:?}"
        );
    }
}

#[test]
fn rs256_key_confusion_is_refused() {
    let public_pem = std::fs::read(fixture("rsa_public.pem")).unwrap();
    let mut cfg = config(&["RS256"]);
    cfg.public_key_file = fixture("rsa_public.pem");
    let v = Verifier::try_new(&cfg).unwrap();
    // HMAC over the public key's bytes: HS256 is not pinned.
    let confused = hs(Algorithm::HS256, &claims(&["admin"]), &public_pem);
    assert_eq!(
        verify(&v, &confused),
        Err(AuthError::AlgorithmNotAccepted("HS256".into()))
    );
    // Even with HS256 pinned too, HS tokens are checked with the secret, not the public key.
    cfg.algorithms = vec!["RS256".into(), "HS256".into()];
    let v = Verifier::try_new(&cfg).unwrap();
    assert_eq!(verify(&v, &confused), Err(AuthError::BadSignature));
    // A real RS256 token passes.
    let private = std::fs::read(fixture("rsa_private.pem")).unwrap();
    let key = EncodingKey::from_rsa_pem(&private).unwrap();
    let token = encode(&Header::new(Algorithm::RS256), &claims(&["service"]), &key).unwrap();
    assert!(verify(&v, &token).unwrap().roles.contains(Role::Service));
}

#[test]
fn es256_tokens_verify_with_the_public_key() {
    let mut cfg = config(&["ES256"]);
    cfg.public_key_file = fixture("ec_public.pem");
    let v = Verifier::try_new(&cfg).unwrap();
    let private = std::fs::read(fixture("ec_private.pem")).unwrap();
    let key = EncodingKey::from_ec_pem(&private).unwrap();
    let token = encode(&Header::new(Algorithm::ES256), &claims(&["admin"]), &key).unwrap();
    assert!(verify(&v, &token).is_ok());
    // No secret is used for ES256, and an HS256 token is not accepted.
    let hs256 = hs(Algorithm::HS256, &claims(&["admin"]), SECRET.as_bytes());
    assert!(matches!(
        verify(&v, &hs256),
        Err(AuthError::AlgorithmNotAccepted(_))
    ));
}

#[test]
fn time_claims_use_the_leeway() {
    let v = Verifier::try_new(&config(&["HS256"])).unwrap();
    let at = |claims: Value| verify(&v, &hs(Algorithm::HS256, &claims, SECRET.as_bytes()));
    assert_eq!(at(json!({"exp": NOW - 31})), Err(AuthError::Expired));
    assert!(
        at(json!({"exp": NOW - 29})).is_ok(),
        "inside the 30 s leeway"
    );
    assert_eq!(
        at(json!({"exp": NOW - 30})),
        Err(AuthError::Expired),
        "exp + leeway is the end"
    );
    assert_eq!(
        at(json!({"exp": NOW + 60, "nbf": NOW + 31})),
        Err(AuthError::NotYetValid)
    );
    assert!(at(json!({"exp": NOW + 60, "nbf": NOW + 29})).is_ok());
    assert_eq!(at(json!({"roles": ["admin"]})), Err(AuthError::NoExpiry));
    assert!(
        at(json!({"exp": NOW as f64 + 0.5})).is_ok(),
        "fractional NumericDate"
    );
    assert_eq!(
        at(json!({"exp": NOW + 60, "roles": "admin"})),
        Err(AuthError::BadClaims)
    );
    assert_eq!(
        at(json!({"exp": 1e300})).map(|c| c.valid_until_ms),
        Ok(i64::MAX)
    );
}

#[test]
fn issuer_and_audience_when_configured() {
    let mut cfg = config(&["HS256"]);
    cfg.issuer = "https://idp.example".into();
    cfg.audience = "inplay".into();
    let v = Verifier::try_new(&cfg).unwrap();
    let at = |claims: Value| verify(&v, &hs(Algorithm::HS256, &claims, SECRET.as_bytes()));
    let exp = NOW + 60;
    assert!(at(json!({"exp": exp, "iss": "https://idp.example", "aud": "inplay"})).is_ok());
    assert!(at(json!({"exp": exp, "iss": "https://idp.example", "aud": ["x", "inplay"]})).is_ok());
    assert_eq!(
        at(json!({"exp": exp, "iss": "https://evil.example", "aud": "inplay"})),
        Err(AuthError::WrongIssuer)
    );
    assert_eq!(
        at(json!({"exp": exp, "aud": "inplay"})),
        Err(AuthError::WrongIssuer)
    );
    assert_eq!(
        at(json!({"exp": exp, "iss": "https://idp.example", "aud": "other"})),
        Err(AuthError::WrongAudience)
    );
    // Not configured: not checked, whatever the token says.
    let v = Verifier::try_new(&config(&["HS256"])).unwrap();
    let t = hs(
        Algorithm::HS256,
        &json!({"exp": exp, "aud": "anyone"}),
        SECRET.as_bytes(),
    );
    assert!(verify(&v, &t).is_ok());
}

#[test]
fn missing_keys_and_bad_key_files() {
    let mut cfg = config(&["HS256"]);
    cfg.jwt_secret.clear();
    let v = Verifier::try_new(&cfg).unwrap();
    assert!(!v.has_keys());
    let token = hs(Algorithm::HS256, &claims(&["admin"]), SECRET.as_bytes());
    assert_eq!(verify(&v, &token), Err(AuthError::NoKey));

    let mut cfg = config(&["RS256"]);
    cfg.public_key_file = fixture("no-such.pem");
    let err = Verifier::try_new(&cfg).err().unwrap();
    assert!(
        err.contains("auth.public_key_file") && err.contains("no-such.pem"),
        "{err}"
    );
    cfg.public_key_file = fixture("ec_public.pem");
    let err = Verifier::try_new(&cfg).err().unwrap();
    assert!(err.contains("not an RSA public key"), "{err}");
}
