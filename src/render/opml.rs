//! OPML 2.0: every section's RSS feed, to subscribe to all at once.
//!
//! One feed per section and nothing else: importers ignore outline nesting,
//! so listing the all-sections feed (or a second format) beside the section
//! feeds would subscribe a reader to every story twice. The all-sections
//! feeds are offered on the home page and by autodiscovery instead.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use chrono::{DateTime, Utc};

use super::Site;
use crate::domain::SectionMeta;
use crate::urls::{Base, Feed, Format};

/// Renders the OPML list of `sections`; `updated` is when the store last changed.
pub fn render(site: &Site, base: &Base, sections: &[SectionMeta], updated: DateTime<Utc>) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut w, site, base, sections, updated).expect("writing OPML into memory");
    w.into_inner()
}

fn write(
    w: &mut Writer<Vec<u8>>,
    site: &Site,
    base: &Base,
    sections: &[SectionMeta],
    updated: DateTime<Utc>,
) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new("opml").with_attributes([("version", "2.0")])))?;
    w.write_event(Event::Start(BytesStart::new("head")))?;
    text(w, "title", &format!("{}: all section feeds", site.title))?;
    text(w, "dateModified", &updated.to_rfc2822())?;
    text(w, "docs", "http://opml.org/spec2.opml")?;
    w.write_event(Event::End(BytesEnd::new("head")))?;
    w.write_event(Event::Start(BytesStart::new("body")))?;
    for meta in sections {
        let title = format!("{}: {}", site.title, meta.section.name);
        let feed = Feed { section: Some(meta.section.slug.clone()), urgent: false };
        outline(w, &title, &base.feed(&feed, Format::Rss, None), &base.section(&meta.section.slug))?;
    }
    w.write_event(Event::End(BytesEnd::new("body")))?;
    w.write_event(Event::End(BytesEnd::new("opml")))?;
    Ok(())
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(value)))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn outline(w: &mut Writer<Vec<u8>>, title: &str, xml_url: &str, html_url: &str) -> std::io::Result<()> {
    let element = BytesStart::new("outline").with_attributes([
        ("type", "rss"),
        ("text", title),
        ("title", title),
        ("xmlUrl", xml_url),
        ("htmlUrl", html_url),
    ]);
    w.write_event(Event::Empty(element))
}
