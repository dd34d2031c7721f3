//! WebSub (W3C Recommendation, 2018) as a publisher: feeds name their hubs
//! (in the document and in `Link` headers), and after a change each hub is
//! told which feed URLs changed; the hub fetches them and pushes the new
//! content to its subscribers.

use actix_web::http::header::{self, HeaderName, HeaderValue};

/// `Link: <hub>; rel="hub", <self>; rel="self"` for a feed whose canonical
/// URL is `self_url`. The rel values are quoted: some hubs look for the
/// quoted form only before they accept a publish.
pub fn link_header(hubs: &[String], self_url: &str) -> Option<(HeaderName, HeaderValue)> {
    if hubs.is_empty() {
        return None;
    }
    let mut links: Vec<String> = hubs.iter().map(|hub| format!("<{hub}>; rel=\"hub\"")).collect();
    links.push(format!("<{self_url}>; rel=\"self\""));
    HeaderValue::from_str(&links.join(", ")).ok().map(|v| (header::LINK, v))
}

/// The body of a publish ping for `topic`. Hubs differ in which field they
/// read (`hub.url` in the PubSubHubbub tradition, `hub.topic` in WebSub's
/// wording), so both carry the URL.
pub fn publish_body(topic: &str) -> String {
    serde_urlencoded::to_string([("hub.mode", "publish"), ("hub.url", topic), ("hub.topic", topic)])
        .expect("strings encode as a form")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_names_hubs_and_self_with_quoted_rels() {
        let hubs = vec!["https://hub.example/".to_owned()];
        let (name, value) = link_header(&hubs, "https://example.org/rss.xml").unwrap();
        assert_eq!(name, header::LINK);
        assert_eq!(value, "<https://hub.example/>; rel=\"hub\", <https://example.org/rss.xml>; rel=\"self\"");
        assert!(link_header(&[], "https://example.org/rss.xml").is_none());
    }

    #[test]
    fn publish_body_is_form_encoded() {
        assert_eq!(
            publish_body("https://example.org/a b?x=1&y"),
            "hub.mode=publish&hub.url=https%3A%2F%2Fexample.org%2Fa+b%3Fx%3D1%26y&hub.topic=https%3A%2F%2Fexample.org%2Fa+b%3Fx%3D1%26y"
        );
    }
}
