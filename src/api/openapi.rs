//! `GET /openapi.json`: the API description, kept true by a test against [`super::ROUTES`].

use crate::http::{Body, Response};

/// The OpenAPI 3.1 document, shipped in the binary.
pub(crate) const DOCUMENT: &str = include_str!("openapi.json");

/// The document as a response.
pub(crate) fn response() -> Response {
    Response::json(Body::Static(DOCUMENT.as_bytes()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::DOCUMENT;
    use crate::{api::ROUTES, auth::Access, http::Method, ratelimit::Class};

    #[test]
    fn document_lists_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json parses");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
        let routed: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|(m, p, _)| {
                let m = if *m == Method::Post { "POST" } else { "GET" };
                (m.to_owned(), (*p).to_owned())
            })
            .collect();
        assert_eq!(documented, routed);
    }

    /// Every route's security and refusals are documented as its policy says: roles need a
    /// bearer token and may answer 401/403; reads and streams take an optional one (401 when
    /// protected); every rate-limited route may answer 429, exempt ones never.
    #[test]
    fn document_matches_route_policies() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json parses");
        assert!(doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");
        for (method, path, route) in ROUTES {
            let method = if *method == Method::Post {
                "post"
            } else {
                "get"
            };
            let op = &doc["paths"][path][method];
            let responses = op["responses"].as_object().expect("responses");
            let policy = route.policy();
            let (security, refusals): (serde_json::Value, &[&str]) = match policy.access {
                Access::Public => (serde_json::Value::Null, &[]),
                Access::Read | Access::Stream => (json!([{}, {"bearer": []}]), &["401"]),
                Access::Role(role) => {
                    assert_eq!(op["x-required-role"], role.name(), "{path}");
                    (json!([{"bearer": []}]), &["401", "403"])
                }
            };
            assert_eq!(op["security"], security, "{method} {path}");
            for code in ["401", "403"] {
                assert_eq!(
                    responses.contains_key(code),
                    refusals.contains(&code),
                    "{code} {path}"
                );
            }
            let limited = policy.class != Class::Exempt;
            assert_eq!(responses.contains_key("429"), limited, "429 {path}");
        }
    }
}
