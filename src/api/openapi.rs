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

    use super::DOCUMENT;
    use crate::{api::ROUTES, http::Method};

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
}
