//! The XML agency formats: NITF 3.x ([`nitf`]) and NewsML-G2
//! news items ([`newsml`]), and what they share: decoding,
//! safe parsing, text extraction, paragraphs from XHTML/NITF markup, bylines,
//! datelines and ISO times.
//!
//! Safety: the document is parsed by `roxmltree` with DTDs refused, so no
//! external entity is ever resolved and no entity can expand. A `<!DOCTYPE>`
//! that only names an external DTD (`<!DOCTYPE nitf SYSTEM "nitf-3-2.dtd">`,
//! common in NITF) declares nothing: it is blanked out, never fetched. One
//! with an internal subset (`[...]`, where entities are declared) is refused.
//! The node count is capped, and the paragraph walker's depth is bounded,
//! so no document can exhaust memory or the stack.
//!
//! Charset: a BOM wins, then the XML declaration's `encoding`; without one
//! the bytes are detected like plain text (UTF-8, else a legacy charset).
//! A document that declares a single-byte charset (ISO-8859-1) but whose
//! bytes are valid UTF-8 with non-ASCII characters was written as UTF-8 by
//! mistake (Latin-1 text is practically never valid UTF-8): it is read as
//! UTF-8, with a warning. Control characters XML 1.0 forbids are removed
//! before parsing (with the plain-text cleaning), so one stray byte does not
//! cost the whole story, and every field is cleaned again after entities
//! are resolved.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use roxmltree::{Document, Node, ParsingOptions};

use super::super::layout::{self, Line};
use super::super::{byline, dateline, decode, time};
use crate::domain::Dateline;
use crate::wire::{ParseError, ParseOptions, Story, StoryTime, WireFormat};

use super::{newsml, nitf};

/// Bytes looked at for the root element: the prolog (declaration, comments,
/// DOCTYPE) sits before it.
const PROLOG: usize = 64 * 1024;

/// Most nodes a document may have: a long story has a few thousand.
const NODES_LIMIT: u32 = 200_000;

/// Deepest markup the paragraph walker follows; deeper content is read as text.
const MAX_DEPTH: usize = 48;

/// The format named by the document's root element, when it is XML of a kind we read.
pub fn root_format(bytes: &[u8]) -> Option<WireFormat> {
    format_of(local_part(&root_name(bytes)?))
}

fn format_of(local: &str) -> Option<WireFormat> {
    match local {
        "nitf" => Some(WireFormat::Nitf),
        "newsItem" | "newsMessage" => Some(WireFormat::NewsmlG2),
        _ => None,
    }
}

fn local_part(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The root element's name as written (`ns0:newsMessage`), read from the
/// prolog without parsing the document.
fn root_name(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(PROLOG)];
    let text: Cow<'_, str> = match encoding_rs::Encoding::for_bom(head) {
        Some((encoding, bom)) => encoding.decode_without_bom_handling(&head[bom..]).0,
        // Every charset a declaration can name here is ASCII-compatible, and
        // names are ASCII: a lossy view is enough.
        None => String::from_utf8_lossy(head),
    };
    let mut s = text.trim_start_matches('\u{FEFF}');
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("<?") {
            s = &rest[rest.find("?>")? + 2..];
        } else if let Some(rest) = s.strip_prefix("<!--") {
            s = &rest[rest.find("-->")? + 3..];
        } else if s.starts_with("<!DOCTYPE") {
            s = &s[doctype(s)?.0..];
        } else if let Some(rest) = s.strip_prefix('<') {
            let end = rest.find(|c: char| c.is_whitespace() || matches!(c, '>' | '/')).unwrap_or(rest.len());
            return (end > 0).then(|| rest[..end].to_owned());
        } else {
            return None;
        }
    }
}

/// The length of the `<!DOCTYPE ...>` at the start of `s` and whether it
/// has an internal subset (`[...]`, where entities are declared).
fn doctype(s: &str) -> Option<(usize, bool)> {
    let mut quote = None;
    let mut depth = 0usize;
    let mut subset = false;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => {
                depth += 1;
                subset = true;
            }
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '>') if depth == 0 => return Some((i + 1, subset)),
            _ => {}
        }
    }
    None
}

/// What the format readers need besides the document.
pub struct Ctx<'a> {
    pub options: &'a ParseOptions,
    pub encoding: &'static str,
    /// The decoded, cleaned document: identical text is the identical story.
    pub text: String,
    pub warnings: Vec<String>,
}

impl Ctx<'_> {
    pub fn time_ctx(&self) -> time::Context {
        time::Context { tz: self.options.source_tz, received: self.options.received }
    }

    /// A story with everything but the fields the reader fills.
    pub fn story(self, format: WireFormat) -> Story {
        Story {
            headline: String::new(),
            paragraphs: Vec::new(),
            authors: Vec::new(),
            dateline: None,
            published: StoryTime::Instant(self.options.received.fixed_offset()),
            updated: None,
            time_source: crate::domain::TimeSource::Received,
            section: None,
            related: Vec::new(),
            warnings: self.warnings,
            encoding: self.encoding.to_owned(),
            wire: crate::wire::Wire { format, ..Default::default() },
            notes: Vec::new(),
            correction: None,
            embargo: None,
            embargo_unreadable: false,
            text: self.text,
        }
    }
}

/// Reads one NITF document or NewsML-G2 news item.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Story, ParseError> {
    let mut warnings = Vec::new();
    let decoded = decode_xml(bytes, &mut warnings)?;
    if decoded.text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    if decoded.removed > 0 {
        warnings.push(format!(
            "removed {} control character(s) that XML and feeds cannot carry (first on line {})",
            decoded.removed, decoded.removed_line
        ));
    }
    let source = without_doctype(&decoded.text)?;
    let opts = || ParsingOptions { allow_dtd: false, nodes_limit: NODES_LIMIT, ..ParsingOptions::default() };
    let bad = |e: roxmltree::Error| ParseError::BadXml(e.to_string());
    let replaced;
    let doc = match Document::parse_with_options(&source, opts()) {
        Ok(doc) => doc,
        // HTML's named entities (`&nbsp;`) are not XML's, but agencies'
        // XHTML uses them; with no DTD they can only mean the HTML ones.
        Err(roxmltree::Error::UnknownEntityReference(name, _)) if html_entity(&name).is_some() => {
            replaced = with_html_entities(&source);
            warnings.push("HTML named entities (such as &nbsp;) were read as their characters".to_owned());
            Document::parse_with_options(&replaced, opts()).map_err(bad)?
        }
        Err(e) => return Err(bad(e)),
    };
    let root = doc.root_element();
    let ctx = Ctx { options, encoding: decoded.encoding, text: decoded.text.clone(), warnings };
    match format_of(root.tag_name().name()) {
        Some(WireFormat::Nitf) => nitf::read(root, ctx),
        Some(WireFormat::NewsmlG2) => newsml::read(root, ctx),
        _ => Err(ParseError::UnknownXml(root.tag_name().name().to_owned())),
    }
}

/// The document as text: BOM, then the declared charset, then detection;
/// cleaned of the characters XML 1.0 forbids.
fn decode_xml(bytes: &[u8], warnings: &mut Vec<String>) -> Result<decode::Decoded, ParseError> {
    if encoding_rs::Encoding::for_bom(bytes).is_some() {
        return decode::decode(bytes);
    }
    let declared = declared_encoding(bytes).and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()));
    match declared {
        Some(encoding) if encoding.is_single_byte() => {
            let utf8 = std::str::from_utf8(bytes).ok().filter(|s| !s.is_ascii());
            if let Some(text) = utf8 {
                warnings
                    .push(format!("the document declares {} but its bytes are UTF-8; read as UTF-8", encoding.name()));
                return decode::clean(text, encoding_rs::UTF_8.name());
            }
            let (text, _) = encoding.decode_without_bom_handling(bytes);
            decode::clean(&text, encoding.name())
        }
        // UTF-8 declared, none, or one we cannot name: read like plain text,
        // which also copes with stray legacy bytes in UTF-8.
        _ => decode::decode(bytes),
    }
}

/// The `encoding` of the XML declaration, if the bytes start with one.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let head = String::from_utf8_lossy(head);
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].trim().to_owned())
}

/// The document with a DOCTYPE that only names an external DTD blanked out
/// (positions kept); one that declares anything is refused.
fn without_doctype(text: &str) -> Result<Cow<'_, str>, ParseError> {
    let mut s = text;
    loop {
        let trimmed = s.trim_start();
        let skipped = s.len() - trimmed.len();
        s = trimmed;
        let offset = text.len() - s.len();
        if let Some(rest) = s.strip_prefix("<?") {
            let Some(end) = rest.find("?>") else { return Ok(Cow::Borrowed(text)) };
            s = &rest[end + 2..];
        } else if let Some(rest) = s.strip_prefix("<!--") {
            let Some(end) = rest.find("-->") else { return Ok(Cow::Borrowed(text)) };
            s = &rest[end + 3..];
        } else if s.starts_with("<!DOCTYPE") {
            let Some((len, subset)) = doctype(s) else {
                return Err(ParseError::BadXml("the DOCTYPE declaration is not closed".to_owned()));
            };
            if subset {
                return Err(ParseError::BadXml(
                    "a DTD with declarations (entities) is refused; send the document without its internal DTD"
                        .to_owned(),
                ));
            }
            let mut owned = String::with_capacity(text.len());
            owned.push_str(&text[..offset]);
            owned.extend(s[..len].chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
            owned.push_str(&text[offset + len..]);
            return Ok(Cow::Owned(owned));
        } else {
            let _ = skipped;
            return Ok(Cow::Borrowed(text));
        }
    }
}

/// HTML's named entities that agency XHTML uses, as code points.
fn html_entity(name: &str) -> Option<u32> {
    const TABLE: &[(&str, u32)] = &[
        ("nbsp", 160),
        ("iexcl", 161),
        ("cent", 162),
        ("pound", 163),
        ("euro", 8364),
        ("yen", 165),
        ("sect", 167),
        ("copy", 169),
        ("laquo", 171),
        ("raquo", 187),
        ("reg", 174),
        ("deg", 176),
        ("plusmn", 177),
        ("middot", 183),
        ("frac14", 188),
        ("frac12", 189),
        ("frac34", 190),
        ("iquest", 191),
        ("times", 215),
        ("shy", 173),
        ("ndash", 8211),
        ("mdash", 8212),
        ("lsquo", 8216),
        ("rsquo", 8217),
        ("sbquo", 8218),
        ("ldquo", 8220),
        ("rdquo", 8221),
        ("bdquo", 8222),
        ("bull", 8226),
        ("hellip", 8230),
        ("trade", 8482),
        ("szlig", 223),
        ("Agrave", 192),
        ("Aacute", 193),
        ("Acirc", 194),
        ("Auml", 196),
        ("Aring", 197),
        ("Ccedil", 199),
        ("Egrave", 200),
        ("Eacute", 201),
        ("Ntilde", 209),
        ("Ouml", 214),
        ("Oslash", 216),
        ("Uuml", 220),
        ("agrave", 224),
        ("aacute", 225),
        ("acirc", 226),
        ("atilde", 227),
        ("auml", 228),
        ("aring", 229),
        ("aelig", 230),
        ("ccedil", 231),
        ("egrave", 232),
        ("eacute", 233),
        ("ecirc", 234),
        ("euml", 235),
        ("igrave", 236),
        ("iacute", 237),
        ("icirc", 238),
        ("iuml", 239),
        ("ntilde", 241),
        ("ograve", 242),
        ("oacute", 243),
        ("ocirc", 244),
        ("otilde", 245),
        ("ouml", 246),
        ("oslash", 248),
        ("ugrave", 249),
        ("uacute", 250),
        ("ucirc", 251),
        ("uuml", 252),
    ];
    TABLE.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// Entities left in text (HTML sent escaped: `&amp;nbsp;` arrives as
/// `&nbsp;`) as their characters: HTML's named ones, XML's five and
/// numeric references. Anything else stays as written.
pub fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // An entity is short: look no further than its longest form.
        let end = rest.as_bytes().iter().take(12).position(|&b| b == b';').filter(|&e| e > 1 && e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let code = match name {
                "amp" => Some(38),
                "lt" => Some(60),
                "gt" => Some(62),
                "quot" => Some(34),
                "apos" => Some(39),
                _ if name.starts_with("#x") || name.starts_with("#X") => u32::from_str_radix(&name[2..], 16).ok(),
                _ if name.starts_with('#') => name[1..].parse().ok(),
                _ => html_entity(name),
            };
            code.and_then(char::from_u32).map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `&nbsp;` and the like as character references.
fn with_html_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let name_end = rest[1..].find(|c: char| !c.is_ascii_alphanumeric()).map(|i| i + 1);
        match name_end {
            Some(end) if rest[end..].starts_with(';') => {
                if let Some(code) = html_entity(&rest[1..end]) {
                    out.push_str(&format!("&#{code};"));
                } else {
                    out.push_str(&rest[..=end]);
                }
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------
// Navigation, namespace-blind: agencies use the default namespace, a prefix
// (`ns0:`), or none, so elements are matched by their local name.

pub fn name<'a>(node: Node<'a, '_>) -> &'a str {
    node.tag_name().name()
}

pub fn child<'a, 'i>(node: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.is_element() && name(*c) == local)
}

pub fn children<'a, 'i: 'a>(node: Node<'a, 'i>, local: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.is_element() && name(*c) == local)
}

pub fn path<'a, 'i>(node: Node<'a, 'i>, steps: &[&str]) -> Option<Node<'a, 'i>> {
    steps.iter().try_fold(node, |n, step| child(n, step))
}

/// The first descendant element with this local name.
pub fn descendant<'a, 'i>(node: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    node.descendants().skip(1).find(|c| c.is_element() && name(*c) == local)
}

/// An attribute by its local name, trimmed; `None` when absent or empty.
pub fn attr<'a>(node: Node<'a, '_>, local: &str) -> Option<&'a str> {
    node.attributes().find(|a| a.name() == local).map(|a| a.value().trim()).filter(|v| !v.is_empty())
}

/// The 1-based line a node starts on.
pub fn line_of(node: Node<'_, '_>) -> usize {
    node.document().text_pos_at(node.range().start).row as usize
}

// ---------------------------------------------------------------------------
// Text.

/// A field's text: cleaned like plain text (controls, bidi overrides,
/// odd spaces) and its whitespace collapsed.
pub fn norm(s: &str) -> String {
    let unescaped;
    let s = if s.contains('<') {
        unescaped = without_escaped_tags(s).replace(PARAGRAPH_BREAK, " ");
        unescaped.as_str()
    } else {
        s
    };
    let cleaned: String = match decode::clean(s, "UTF-8") {
        Ok(d) => d.text,
        // Mostly controls: drop them all.
        Err(_) => s.chars().filter(|c| !c.is_control()).collect(),
    };
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where an escaped block tag (`&lt;p&gt;`) broke the text.
pub const PARAGRAPH_BREAK: char = '\u{2029}';

/// Text with markup that was sent escaped (`35&lt;endash&gt;-&lt;/endash&gt;40`,
/// `&lt;p&gt;`) read as the agency meant it: an `endash`/`emdash` element is
/// its dash, a block tag a paragraph break, any other tag nothing. Only tag
/// shapes are touched (`<name ...>`, `</name>`, `<name/>`): `a < b`, an
/// address in angle brackets (`<jane@example.org>`) stay.
pub fn without_escaped_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut skip_until: Option<String> = None;
    while let Some(at) = rest.find('<') {
        let (before, tail) = rest.split_at(at);
        if skip_until.is_none() {
            out.push_str(before);
        }
        // The tag ends at the next `>`, unless another `<` comes first
        // (then this one is text): linear in the text, whatever it holds.
        let Some(end) = tail[1..].find(['<', '>']).map(|e| e + 1).filter(|&e| tail.as_bytes()[e] == b'>') else {
            if skip_until.is_none() {
                out.push('<');
            }
            rest = &tail[1..];
            continue;
        };
        let inner = &tail[1..end];
        let closing = inner.starts_with('/');
        let body = inner.trim_start_matches('/').trim_end_matches('/');
        let tag: String = body.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-').collect();
        let after = &body[tag.len()..];
        let is_tag = !tag.is_empty()
            && tag.starts_with(|c: char| c.is_ascii_alphabetic())
            && (after.is_empty() || after.starts_with(char::is_whitespace))
            && !inner.contains('@');
        if !is_tag {
            if skip_until.is_none() {
                out.push('<');
            }
            rest = &tail[1..];
            continue;
        }
        let lower = tag.to_ascii_lowercase();
        match (lower.as_str(), closing) {
            ("endash" | "ndash", false) => {
                out.push('\u{2013}');
                skip_until = Some(lower.clone());
            }
            ("emdash" | "mdash", false) => {
                out.push('\u{2014}');
                skip_until = Some(lower.clone());
            }
            (name, true) if skip_until.as_deref() == Some(name) => skip_until = None,
            ("p" | "br" | "div" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr", _) if skip_until.is_none() => {
                out.push(PARAGRAPH_BREAK)
            }
            _ => {}
        }
        rest = &tail[end + 1..];
    }
    if skip_until.is_none() {
        out.push_str(rest);
    }
    out
}

/// Inline elements whose content is not the text around them.
fn skipped_inline(local: &str) -> bool {
    matches!(
        local,
        "media" | "media-caption" | "media-reference" | "img" | "script" | "style" | "object" | "iframe" | "noscript"
    )
}

/// All text below `node`, as written (line breaks kept; `<br>` as a line end).
pub fn raw_text(node: Node<'_, '_>) -> String {
    let mut out = String::new();
    gather(node, &mut out, &|_| false);
    out
}

/// Appends the text below `node`, leaving out the subtrees `skip` names.
fn gather(node: Node<'_, '_>, out: &mut String, skip: &dyn Fn(Node<'_, '_>) -> bool) {
    if node.is_text() {
        out.push_str(node.text().unwrap_or(""));
        return;
    }
    let mut skip_end = 0;
    for d in node.descendants().skip(1) {
        let range = d.range();
        if range.start < skip_end {
            continue;
        }
        if d.is_element() {
            if skipped_inline(name(d)) || skip(d) {
                skip_end = range.end.max(range.start + 1);
            } else if name(d) == "br" {
                out.push('\n');
            }
        } else if d.is_text() {
            out.push_str(d.text().unwrap_or(""));
        }
    }
}

/// The normalised text of a node, without the subtrees `skip` names.
pub fn text_without(node: Node<'_, '_>, skip: &dyn Fn(Node<'_, '_>) -> bool) -> String {
    let mut out = String::new();
    gather(node, &mut out, skip);
    norm(&out)
}

/// The normalised text of a node.
pub fn text(node: Node<'_, '_>) -> String {
    norm(&raw_text(node))
}

/// The normalised text of the first child with this name, when not empty.
pub fn child_text(node: Node<'_, '_>, local: &str) -> Option<String> {
    child(node, local).map(text).filter(|t| !t.is_empty())
}

// ---------------------------------------------------------------------------
// Paragraphs from markup (NITF body.content, XHTML body).

/// Paragraphs and the notes met among them.
#[derive(Debug, Default)]
pub struct Blocks {
    pub paragraphs: Vec<String>,
    pub notes: Vec<String>,
}

/// Elements that hold paragraphs rather than being one.
fn is_container(local: &str) -> bool {
    matches!(
        local,
        "block"
            | "body.content"
            | "body"
            | "html"
            | "div"
            | "section"
            | "article"
            | "main"
            | "bq"
            | "blockquote"
            | "ul"
            | "ol"
            | "dl"
            | "nitf"
            | "header"
            | "footer"
            | "center"
    )
}

/// Elements that are one paragraph (or break one).
fn is_block(local: &str) -> bool {
    is_container(local)
        || matches!(
            local,
            "p" | "li"
                | "dt"
                | "dd"
                | "hl1"
                | "hl2"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "table"
                | "nitf-table"
                | "pre"
                | "note"
                | "tagline"
                | "credit"
                | "media"
                | "figure"
                | "hr"
        )
}

/// Elements never read as body text.
fn is_skipped(local: &str) -> bool {
    skipped_inline(local)
        || matches!(
            local,
            "figure" | "figcaption" | "head" | "title" | "meta" | "link" | "hr" | "br" | "embed" | "video" | "audio"
        )
}

impl Blocks {
    /// Reads the paragraphs below `node` (its children, in order).
    pub fn read(node: Node<'_, '_>) -> Blocks {
        let mut blocks = Blocks::default();
        blocks.children(node, 0);
        blocks
    }

    /// Reads one element as the paragraphs it makes.
    pub fn read_element(node: Node<'_, '_>) -> Blocks {
        let mut blocks = Blocks::default();
        blocks.element(node, 1);
        blocks
    }

    fn children(&mut self, node: Node<'_, '_>, depth: usize) {
        for c in node.children() {
            if c.is_text() {
                self.push_raw(c.text().unwrap_or(""));
            } else if c.is_element() {
                self.element(c, depth + 1);
            }
        }
    }

    fn element(&mut self, node: Node<'_, '_>, depth: usize) {
        let local = name(node);
        if depth > MAX_DEPTH {
            self.push_raw(&raw_text(node));
            return;
        }
        match local {
            _ if is_skipped(local) => {}
            "table" | "nitf-table" => self.table(node),
            "pre" => self.pre(node),
            "note" => {
                // NITF: type "npa" (or an editors' note) is not publishable;
                // "pa" is meant for readers.
                if attr(node, "type") == Some("pa") {
                    self.children(node, depth);
                } else {
                    let t = text(node);
                    if !t.is_empty() {
                        self.notes.push(t);
                    }
                }
            }
            _ if is_container(local) => self.children(node, depth),
            _ => self.mixed(node, depth),
        }
    }

    /// A paragraph-like element whose content may hold blocks (`<p><h3>..</h3></p>`):
    /// inline runs become paragraphs, blocks are read as blocks.
    fn mixed(&mut self, node: Node<'_, '_>, depth: usize) {
        let mut run = String::new();
        for c in node.children() {
            if c.is_element() && is_block(name(c)) {
                self.push_raw(&std::mem::take(&mut run));
                self.element(c, depth + 1);
            } else if c.is_element() && name(c) == "br" {
                run.push('\n');
            } else if !(c.is_element() && skipped_inline(name(c))) {
                gather(c, &mut run, &|_| false);
            }
        }
        self.push_raw(&run);
    }

    /// The paragraphs of one element's raw text (one, or several in wire layout).
    #[cfg(test)]
    fn read_text(raw: &str) -> Vec<String> {
        let mut blocks = Blocks::default();
        blocks.push_raw(raw);
        blocks.paragraphs
    }

    /// One paragraph's raw text; Reuters' wire layout (a whole story in one
    /// element, paragraphs starting at indented lines) becomes several.
    fn push_raw(&mut self, raw: &str) {
        if is_embed(raw) {
            return;
        }
        if raw.contains('<') {
            let unescaped = without_escaped_tags(raw);
            if unescaped.contains(PARAGRAPH_BREAK) {
                for piece in unescaped.split(PARAGRAPH_BREAK) {
                    self.push_raw(piece);
                }
                return;
            }
        }
        match wire_layout(raw) {
            Some(paragraphs) => self.paragraphs.extend(paragraphs),
            None => {
                let t = norm(raw);
                if !t.is_empty() {
                    self.paragraphs.push(t);
                }
            }
        }
    }

    /// A table as one preformatted paragraph: rows on lines, columns aligned.
    fn table(&mut self, node: Node<'_, '_>) {
        let rows: Vec<Vec<String>> = node
            .descendants()
            .filter(|d| d.is_element() && name(*d) == "tr")
            .map(|tr| tr.children().filter(|c| c.is_element() && matches!(name(*c), "td" | "th")).map(text).collect())
            .filter(|cells: &Vec<String>| cells.iter().any(|c| !c.is_empty()))
            .collect();
        if rows.is_empty() {
            // A table without rows: its text, if any, is one paragraph.
            self.push_raw(&raw_text(node));
            return;
        }
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0))
            .collect();
        let lines: Vec<String> = rows
            .iter()
            .map(|r| {
                let mut line = String::new();
                for (i, cell) in r.iter().enumerate() {
                    if i > 0 {
                        line.push_str("  ");
                    }
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
                }
                line.trim_end().to_owned()
            })
            .collect();
        self.paragraphs.push(lines.join("\n"));
    }

    /// Preformatted text: one paragraph, its lines kept.
    fn pre(&mut self, node: Node<'_, '_>) {
        let raw = raw_text(node);
        let lines: Vec<String> = raw
            .lines()
            .map(|l| {
                let cleaned = decode::clean(l, "UTF-8").map(|d| d.text).unwrap_or_default();
                cleaned.trim_end().replace('\t', "    ")
            })
            .collect();
        let first = lines.iter().position(|l| !l.trim().is_empty());
        let last = lines.iter().rposition(|l| !l.trim().is_empty());
        if let (Some(a), Some(b)) = (first, last) {
            self.paragraphs.push(lines[a..=b].join("\n"));
        }
    }
}

/// Reuters' wire layout inside one element: a paragraph starts at each line
/// indented (4 spaces, or a tab) and after a blank line; unindented lines
/// are hard wraps. Told from pretty-printed markup (where every line is
/// indented) by needing at least two 4-space lines and an unindented one.
fn wire_layout(raw: &str) -> Option<Vec<String>> {
    if !raw.contains('\n') {
        return None;
    }
    let indent = |l: &&str| l.len() - l.trim_start_matches(' ').len();
    let lines = || raw.split('\n').skip(1).filter(|l| !l.trim().is_empty());
    let four = lines().filter(|l| indent(l) == 4 || l.starts_with('\t')).count();
    let flush = lines().filter(|l| !l.starts_with([' ', '\t'])).count();
    (four >= 2 && flush > 0).then(|| layout_text(raw))
}

/// Plain text to paragraphs the way the plain-text reader lays out a body:
/// blank-line separated runs, hard wraps joined, a deeper-indented line
/// starting a paragraph, fixed-width tables kept as one preformatted
/// paragraph.
pub fn layout_text(raw: &str) -> Vec<String> {
    let cleaned = decode::clean(raw, "UTF-8")
        .map(|d| d.text)
        .unwrap_or_else(|_| raw.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect());
    let lines: Vec<Line<'_>> = cleaned.split('\n').enumerate().map(|(n, l)| Line::new(n + 1, l)).collect();
    let mut out = Vec::new();
    for run in lines.split(Line::is_blank).filter(|r| !r.is_empty()) {
        layout::paragraphs(run, &mut out);
    }
    out.retain(|p| !p.trim().is_empty());
    out
}

// ---------------------------------------------------------------------------
// Bylines, datelines, slugs.

/// Words that make a byline part an organisation, not a person; lowercase.
const ORG_WORDS: &[&str] = &[
    "press",
    "presse",
    "prensa",
    "stampa",
    "news",
    "nachrichten",
    "nyheter",
    "uutiset",
    "agency",
    "agence",
    "agencia",
    "agenzia",
    "agentur",
    "media",
    "times",
    "post",
    "herald",
    "tribune",
    "journal",
    "group",
    "inc",
    "inc.",
    "ltd",
    "ltd.",
    "llc",
    "service",
    "services",
    "network",
    "online",
    "television",
    "radio",
    "tv",
    "newswire",
    "wire",
    "wires",
    "daily",
    "magazine",
    "gazette",
    "desk",
    "redaktion",
    "redaksjonen",
    "staff",
];

/// Byline prefixes: `By`, and the same word in the agencies' languages.
const BY: &[&str] = &["by", "av", "von", "par", "por", "door", "af", "kirjoittanut"];

/// The persons a byline names: `By NAME, Agency`, `A, B and C`,
/// `NAME / Outlet`, `Av A og B`. Agencies (`agencies`, the known list, and
/// parts with organisation words), titles and one-word parts are left out.
pub fn authors(byline_text: &str, agencies: &[String]) -> Vec<String> {
    let text = norm(&without_brackets(byline_text));
    let rest = strip_by(&text);
    let mut out: Vec<String> = Vec::new();
    for part in rest.split([',', ';', '/', '|']) {
        for candidate in split_and(part) {
            if let Some(name) = person(candidate, agencies) {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// The text after a leading `By` (or `By:`), when there is one.
fn strip_by(text: &str) -> &str {
    for by in BY {
        if let Some(head) = text.get(..by.len()) {
            let rest = &text[by.len()..];
            if head.eq_ignore_ascii_case(by) && (rest.starts_with(' ') || rest.starts_with(':')) {
                return rest.trim_start_matches(':').trim();
            }
        }
    }
    text
}

/// `A and B`, `A & B`, and the same in the agencies' languages.
fn split_and(part: &str) -> Vec<&str> {
    const SEPARATORS: &[&str] =
        &[" and ", " & ", " with ", " und ", " og ", " och ", " ja ", " et ", " avec ", " y ", " e ", " en "];
    let mut names = Vec::new();
    let mut rest = part;
    loop {
        let lower = rest.to_lowercase();
        // Lowercasing may change byte lengths outside ASCII; only use the
        // position when it is a boundary of the original too.
        let found = SEPARATORS
            .iter()
            .filter_map(|s| lower.find(s).map(|i| (i, s.len())))
            .filter(|(i, len)| rest.is_char_boundary(*i) && rest.is_char_boundary(i + len))
            .min();
        match found {
            Some((i, len)) => {
                names.push(&rest[..i]);
                rest = &rest[i + len..];
            }
            None => {
                names.push(rest);
                return names;
            }
        }
    }
}

/// Agencies named in one word after a byline name (`JOHN SMITH AP Sports
/// Writer`), and the words of a title; lowercase.
const AFTER_NAME: &[&str] = &[
    "ap",
    "afp",
    "reuters",
    "dpa",
    "efe",
    "ansa",
    "apa",
    "sda",
    "ntb",
    "tt",
    "stt",
    "ritzau",
    "anp",
    "belga",
    "pa",
    "aap",
    "cp",
    "kyodo",
    "xinhua",
    "tass",
    "upi",
    "bloomberg",
    "writer",
    "writers",
    "correspondent",
    "correspondents",
    "reporter",
    "reporters",
    "editor",
    "editors",
    "columnist",
    "contributor",
    "bureau",
    "chief",
    "special",
    "senior",
    "photographer",
    "staff",
];

/// A person's name as the plain-text byline reader writes it, or `None`
/// for an agency, a title, one word or anything that is not a name. A name
/// followed by its agency or title in the same part (`JOHN SMITH AP Sports
/// Writer`, no comma) is cut before the first such word.
fn person(candidate: &str, agencies: &[String]) -> Option<String> {
    let mut name = candidate.trim().trim_end_matches([':', '-']).trim();
    // `Jane Doe in London`, `Jean Dupont à Lyon`: the place is no part of the name.
    for place in [" in ", " à ", " aus ", " from ", " i "] {
        if let Some(at) = name.find(place) {
            name = &name[..at];
        }
    }
    whole_name(name, agencies).or_else(|| {
        let words: Vec<&str> = name.split_whitespace().collect();
        let cut = words.iter().skip(2).position(|w| {
            let w = w.to_lowercase();
            AFTER_NAME.contains(&w.as_str())
        })?;
        whole_name(&words[..cut + 2].join(" "), agencies)
    })
}

fn whole_name(name: &str, agencies: &[String]) -> Option<String> {
    let words = name.split_whitespace().count();
    if !(2..=5).contains(&words) {
        return None;
    }
    let lower = name.to_lowercase();
    if agencies.iter().any(|a| a.to_lowercase() == lower)
        || lower.starts_with("the ")
        || lower.split_whitespace().any(|w| ORG_WORDS.contains(&w) || AFTER_NAME.contains(&w))
        || byline::is_agency_line(name)
    {
        return None;
    }
    match byline::byline(&format!("By {name}")) {
        Some(names) if names.len() == 1 => names.into_iter().next(),
        _ => None,
    }
}

/// The text without bracketed asides (`Jane Doe (dpa)`, an e-mail address).
fn without_brackets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => {
                depth = depth.saturating_sub(1);
                out.push(' ');
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whether a dateline part is a date (`Oct 18`, `18.10.2016`), not a place.
fn is_date_part(part: &str) -> bool {
    part.chars().any(|c| c.is_ascii_digit())
        || part.split_whitespace().any(|w| time::month(&w.trim_end_matches('.').to_lowercase()).is_some())
}

/// The place of a dateline written as text: `BERLIN, Oct 18 (Reuters) -`
/// gives `BERLIN`, `Newport News, VA` stays whole.
pub fn place_of(text: &str) -> Option<String> {
    let t = norm(text);
    let t = t.split('(').next().unwrap_or("");
    let t = t.trim_end_matches(|c: char| matches!(c, '-' | '—' | '–' | ':') || c.is_whitespace());
    let parts: Vec<&str> =
        t.split(',').map(str::trim).take_while(|p| !is_date_part(p)).filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The dateline at the start of the story: the first paragraph's, looking
/// past a short update note or bullet lines (`(Adds comments)`, `* ...`).
/// A "place" that is a date (`Jan 30 (Reuters) -`) is no place.
pub fn first_dateline(paragraphs: &[String]) -> Option<Dateline> {
    for p in paragraphs.iter().take(6) {
        if let Some(d) = dateline::dateline(p) {
            return (!is_date_part(&d.place)).then_some(d);
        }
        if p.chars().count() >= 120 {
            break;
        }
    }
    None
}

/// A dateline element's place, with the agency from the first paragraph's
/// dateline when that names the same place.
pub fn dateline_with(place: String, paragraphs: &[String]) -> Dateline {
    let agency = first_dateline(paragraphs)
        .filter(|d| {
            let head = |s: &str| s.split(',').next().unwrap_or("").trim().to_lowercase();
            head(&d.place) == head(&place)
        })
        .and_then(|d| d.agency);
    Dateline { place, agency }
}

/// Takes a leading `By NAME` paragraph out of the body (Reuters sends the
/// byline as the first paragraph); gives the authors it names.
pub fn take_byline_paragraph(paragraphs: &mut Vec<String>, agencies: &[String]) -> Option<Vec<String>> {
    let limit = paragraphs.len().min(6);
    for i in 0..limit {
        let p = &paragraphs[i];
        if dateline::dateline(p).is_some() || p.chars().count() >= 120 {
            return None;
        }
        if strip_by(p).len() < p.len() && p.len() <= 120 {
            if let Some(names) = byline::byline(p) {
                let names =
                    if names.is_empty() { names } else { authors(p, agencies).into_iter().chain(names).collect() };
                paragraphs.remove(i);
                let mut unique: Vec<String> = Vec::new();
                for n in names {
                    if !unique.iter().any(|u| u.eq_ignore_ascii_case(&n)) {
                        unique.push(n);
                    }
                }
                return Some(unique);
            }
        }
    }
    None
}

/// Whether a title looks like a slug (`1 SHOWBIZ BakeOff`, `US-Finance-Fed`)
/// rather than a headline.
pub fn looks_like_slug(title: &str, headline: &str) -> bool {
    let words = title.split_whitespace().count();
    !title.is_empty()
        && !title.eq_ignore_ascii_case(headline)
        && title.chars().count() <= 40
        && (words == 1 || (words <= 3 && !title.ends_with(['.', '?', '!'])))
}

/// A trailing sign-off marker (PA's `ends`), not a paragraph.
pub fn is_end_marker(p: &str) -> bool {
    let t = p.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    matches!(t.as_str(), "ends" | "end" | "endit")
}

/// Markup sent as escaped text (an embed code): not readable copy.
pub fn is_escaped_markup(p: &str) -> bool {
    let t = p.trim();
    t.starts_with('<') && t.ends_with('>') && (t.contains("</") || t.contains("/>"))
}

/// Embed code sent as escaped text (a tweet, a video player): no copy.
fn is_embed(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    is_escaped_markup(&lower)
        && ["<iframe", "<script", "twitter-tweet", "instagram-media", "<embed", "<object", "<video"]
            .iter()
            .any(|m| lower.contains(m))
}

/// The body paragraphs without trailing end markers and escaped embed code.
pub fn tidy(paragraphs: &mut Vec<String>) {
    paragraphs.retain(|p| !is_escaped_markup(p));
    while paragraphs.last().is_some_and(|p| is_end_marker(p)) {
        paragraphs.pop();
    }
}

/// Pushes a note once, when not empty.
pub fn note(notes: &mut Vec<String>, text: String) {
    if !text.is_empty() && !notes.contains(&text) {
        notes.push(text);
    }
}

// ---------------------------------------------------------------------------
// Times.

/// An ISO 8601 time as agencies write it: basic (`20151210T191044Z`,
/// `20170102T222800+0000`) or extended (`2016-10-21T16:25:32-05:00`,
/// `2017-01-31T03:47:29.000Z`), a date alone, or any form the plain-text
/// reader knows. Without a zone the time is in `source_tz`.
pub fn parse_time(value: &str, ctx: &time::Context) -> Option<StoryTime> {
    let v = value.trim();
    iso(v, ctx.tz).or_else(|| time::parse_time(v, ctx).map(|(t, _)| t))
}

fn iso(v: &str, tz: chrono_tz::Tz) -> Option<StoryTime> {
    let (date, rest) = if v.len() >= 10 && v.as_bytes().get(4) == Some(&b'-') {
        (NaiveDate::parse_from_str(v.get(..10)?, "%Y-%m-%d").ok()?, &v[10..])
    } else {
        (NaiveDate::parse_from_str(v.get(..8)?, "%Y%m%d").ok()?, &v[8..])
    };
    let Some(rest) = rest.strip_prefix(['T', 't', ' ']) else {
        return rest.is_empty().then_some(StoryTime::Date(date));
    };
    // The clock: digits and colons, then an optional fraction.
    let clock_end = rest.find(|c: char| !(c.is_ascii_digit() || c == ':')).unwrap_or(rest.len());
    let digits: String = rest[..clock_end].chars().filter(char::is_ascii_digit).collect();
    let (h, m, s) = match digits.len() {
        2 => (digits[..2].parse().ok()?, 0, 0),
        4 => (digits[..2].parse().ok()?, digits[2..4].parse().ok()?, 0),
        6 => (digits[..2].parse().ok()?, digits[2..4].parse().ok()?, digits[4..6].parse().ok()?),
        _ => return None,
    };
    let mut zone = &rest[clock_end..];
    if let Some(fraction) = zone.strip_prefix(['.', ',']) {
        zone = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let naive = NaiveDateTime::new(date, NaiveTime::from_hms_opt(h, m, s)?);
    let zone = zone.trim();
    let instant = if zone.is_empty() {
        time::in_zone(tz, naive)?
    } else if zone.eq_ignore_ascii_case("z") {
        naive.and_utc().fixed_offset()
    } else {
        let sign = match zone.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
        if zone[1..].chars().any(|c| !(c.is_ascii_digit() || c == ':')) {
            return None;
        }
        let (oh, om): (i32, i32) = match digits.len() {
            2 => (digits.parse().ok()?, 0),
            4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
            _ => return None,
        };
        let offset = FixedOffset::east_opt(sign * (oh * 3600 + om * 60))?;
        naive.and_local_timezone(offset).single()?
    };
    Some(StoryTime::Instant(instant))
}

/// A time as an instant, when it is one (embargoes need the time of day).
pub fn instant(t: StoryTime) -> Option<DateTime<FixedOffset>> {
    match t {
        StoryTime::Instant(i) => Some(i),
        StoryTime::Date(_) => None,
    }
}

/// Whether `a` is later than `b` (dates compared at the start of the day).
pub fn later(a: &StoryTime, b: &StoryTime) -> bool {
    let key = |t: &StoryTime| match t {
        StoryTime::Instant(i) => i.with_timezone(&chrono::Utc).naive_utc(),
        StoryTime::Date(d) => d.and_time(NaiveTime::MIN),
    };
    key(a) > key(b)
}

/// A word count attribute.
pub fn count(value: Option<&str>) -> Option<u32> {
    value?.trim().parse().ok().filter(|&n| n > 0)
}

/// An urgency or priority: a digit from 1.
pub fn priority(value: Option<&str>) -> Option<u8> {
    value?.trim().parse().ok().filter(|&n| (1..=9).contains(&n))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::wire::{parse_as, Media};

    fn options() -> ParseOptions {
        ParseOptions {
            source_tz: chrono_tz::Europe::Helsinki,
            received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            max_bytes: 1 << 20,
        }
    }

    fn read(xml: &str) -> Result<Story, ParseError> {
        parse_as(xml.as_bytes(), Media::Xml, &options())
    }

    /// Parses and says how long it took: hostile documents must fail fast.
    fn timed(xml: &str) -> (Result<Story, ParseError>, Duration) {
        let start = Instant::now();
        let result = read(xml);
        (result, start.elapsed())
    }

    fn nitf(body_content: &str) -> String {
        format!(
            "<nitf><head><docdata><date.issue norm=\"20240101T120000Z\"/></docdata></head><body><body.head>\
             <hedline><hl1>A headline</hl1></hedline></body.head><body.content>{body_content}</body.content></body></nitf>"
        )
    }

    fn item(content_meta: &str, body: &str) -> String {
        format!(
            "<newsItem xmlns=\"http://iptc.org/std/nar/2006-10-01/\"><itemMeta>\
             <firstCreated>2024-01-01T12:00:00Z</firstCreated></itemMeta><contentMeta>\
             <headline>A headline</headline>{content_meta}</contentMeta><contentSet><inlineXML>\
             <html xmlns=\"http://www.w3.org/1999/xhtml\"><body>{body}</body></html></inlineXML></contentSet></newsItem>"
        )
    }

    #[test]
    fn billion_laughs_is_refused_quickly() {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
        for i in 1..10 {
            let prev = if i == 1 { "lol".to_owned() } else { format!("lol{}", i - 1) };
            xml.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
        }
        xml.push_str("]>\n<nitf><body><body.head><hedline><hl1>&lol9;</hl1></hedline></body.head></body></nitf>");
        let (result, took) = timed(&xml);
        assert!(matches!(result, Err(ParseError::BadXml(_))), "{result:?}");
        assert!(took < Duration::from_millis(200), "took {took:?}");
    }

    #[test]
    fn external_entities_are_refused() {
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\
                   <nitf><body><body.head><hedline><hl1>&e;</hl1></hedline></body.head>\
                   <body.content><p>&e;</p></body.content></body></nitf>";
        let (result, took) = timed(xml);
        assert!(matches!(result, Err(ParseError::BadXml(_))), "{result:?}");
        assert!(took < Duration::from_millis(200));
        // Without the DOCTYPE the entity is simply unknown: still refused.
        let bare = "<nitf><body><body.content><p>&e;</p></body.content></body></nitf>";
        assert!(matches!(read(bare), Err(ParseError::BadXml(_))));
    }

    #[test]
    fn a_doctype_naming_an_external_dtd_is_ignored_not_fetched() {
        let xml = format!(
            "<?xml version=\"1.0\"?>\n<!-- c -->\n<!DOCTYPE nitf SYSTEM \"http://127.0.0.1:9/nitf.dtd\">\n{}",
            nitf("<p>Text.</p>")
        );
        let story = read(&xml).unwrap();
        assert_eq!(story.paragraphs, ["Text."]);
    }

    #[test]
    fn several_items_or_none_are_counted() {
        let two = "<newsMessage xmlns=\"http://iptc.org/std/nar/2006-10-01/\"><header/><itemSet>\
                   <newsItem/><newsItem/></itemSet></newsMessage>";
        assert_eq!(read(two), Err(ParseError::ItemCount(2)));
        let none =
            "<ns0:newsMessage xmlns:ns0=\"http://iptc.org/std/nar/2006-10-01/\"><ns0:itemSet/></ns0:newsMessage>";
        assert_eq!(read(none), Err(ParseError::ItemCount(0)));
        assert_eq!(read("<nitf><head><title>T</title></head></nitf>"), Err(ParseError::ItemCount(0)));
        assert_eq!(read("<nitf><body/><body/></nitf>"), Err(ParseError::ItemCount(2)));
    }

    #[test]
    fn broken_and_foreign_xml_are_told_apart() {
        let (result, took) = timed("<nitf><body><p>unclosed</body></nitf>");
        assert!(matches!(result, Err(ParseError::BadXml(_))), "{result:?}");
        assert!(took < Duration::from_millis(200));
        assert!(matches!(read("<nitf"), Err(ParseError::BadXml(_))));
        assert_eq!(read("<rss version=\"2.0\"><channel/></rss>"), Err(ParseError::UnknownXml("rss".into())));
        assert_eq!(read("   "), Err(ParseError::Empty));
    }

    #[test]
    fn body_and_headline_are_required() {
        let no_body = nitf("<media><media-caption>Only a caption</media-caption></media>");
        assert!(matches!(read(&no_body), Err(ParseError::NoBody { .. })));
        assert!(matches!(read(&item("", "")), Err(ParseError::NoBody { .. })));
        let no_headline = "<nitf><body><body.content><p>Text.</p></body.content></body></nitf>";
        assert!(matches!(read(no_headline), Err(ParseError::NoHeadline { .. })));
    }

    #[test]
    fn deep_nesting_neither_overflows_nor_stalls() {
        let depth = 20_000;
        let xml = nitf(&format!("{}<p>deep</p>{}", "<block>".repeat(depth), "</block>".repeat(depth)));
        let (result, took) = timed(&xml);
        assert_eq!(result.unwrap().paragraphs, ["deep"]);
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }

    #[test]
    fn root_format_reads_the_prolog() {
        let f = |s: &str| root_format(s.as_bytes());
        assert_eq!(f("<?xml version=\"1.0\"?>\n<!-- x -->\n<nitf>"), Some(WireFormat::Nitf));
        assert_eq!(f("\u{FEFF}<!DOCTYPE nitf SYSTEM \"x.dtd\"><nitf version=\"3.4\">"), Some(WireFormat::Nitf));
        assert_eq!(f("<ns0:newsMessage xmlns:ns0=\"x\">"), Some(WireFormat::NewsmlG2));
        assert_eq!(f("<newsItem guid=\"a\">"), Some(WireFormat::NewsmlG2));
        assert_eq!(f("<html><body>"), None);
        assert_eq!(f("Plain text headline\n\nBody."), None);
        assert_eq!(f("<"), None);
    }

    #[test]
    fn the_declared_charset_wins() {
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>".to_vec();
        bytes.extend(nitf("<p>Caf\u{e9}</p>").bytes().filter(|b| b.is_ascii()));
        // Latin-1 bytes: caf\xE9 and a pound sign.
        let at = bytes.windows(4).position(|w| w == b"Caf<").unwrap() + 3;
        bytes.splice(at..at, [0xE9, b' ', 0xA3, b'5']);
        let story = parse_as(&bytes, Media::Xml, &options()).unwrap();
        assert_eq!(story.paragraphs, ["Caf\u{e9} \u{a3}5"]);
        assert_eq!(story.encoding, "windows-1252");
        // Declared Latin-1, written as UTF-8: read as UTF-8, with a warning.
        let utf8 = format!("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>{}", nitf("<p>\u{a3}25 million</p>"));
        let story = read(&utf8).unwrap();
        assert_eq!(story.paragraphs, ["\u{a3}25 million"]);
        assert_eq!(story.warnings.len(), 1);
    }

    #[test]
    fn utf16_with_a_bom_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in format!("<?xml version=\"1.0\" encoding=\"UTF-16\"?>{}", nitf("<p>\u{17d}ivot</p>")).encode_utf16()
        {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(root_format(&bytes), Some(WireFormat::Nitf));
        assert_eq!(parse_as(&bytes, Media::Xml, &options()).unwrap().paragraphs, ["\u{17d}ivot"]);
    }

    #[test]
    fn controls_and_html_entities_never_reach_a_field() {
        let xml = nitf("<p>Bell\u{7}ed&#x85; text&nbsp;here &#x202E;flipped&mdash;end</p>");
        let story = read(&xml).unwrap();
        assert_eq!(story.paragraphs, ["Belled text here flipped\u{2014}end"]);
        assert!(story.paragraphs.iter().chain([&story.headline]).all(|p| !p.chars().any(char::is_control)));
    }

    #[test]
    fn iso_times_in_agency_forms() {
        let ctx = time::Context { tz: chrono_tz::Europe::Helsinki, received: Utc::now() };
        let t = |s: &str| parse_time(s, &ctx).map(|t| serde_json::to_value(t).unwrap().as_str().unwrap().to_owned());
        assert_eq!(t("20151210T191044Z").as_deref(), Some("2015-12-10T19:10:44+00:00"));
        assert_eq!(t("20170102T222800+0000").as_deref(), Some("2017-01-02T22:28:00+00:00"));
        assert_eq!(t("20020225T143000-0500").as_deref(), Some("2002-02-25T14:30:00-05:00"));
        assert_eq!(t("2017-01-31T03:47:29.000Z").as_deref(), Some("2017-01-31T03:47:29+00:00"));
        assert_eq!(t("2016-10-21T16:25:32-05:00").as_deref(), Some("2016-10-21T16:25:32-05:00"));
        // No zone: the source zone (Helsinki, UTC+2 in winter).
        assert_eq!(t("2017-01-31T21:52:11").as_deref(), Some("2017-01-31T21:52:11+02:00"));
        assert_eq!(t("20200907T144527").as_deref(), Some("2020-09-07T14:45:27+03:00"));
        assert_eq!(t("20240311").as_deref(), Some("2024-03-11"));
        assert_eq!(t("not a time"), None);
        assert_eq!(t("2024-13-45T00:00:00Z"), None);
    }

    #[test]
    fn bylines_name_persons_only() {
        let a = |s: &str| authors(s, &["Example Wire".to_owned()]);
        assert_eq!(a("By JANE DOE, Example Wire"), ["Jane Doe"]);
        assert_eq!(a("By Jane Doe and John Roe"), ["Jane Doe", "John Roe"]);
        assert_eq!(a("ANTTI KOSKI, HELMI LAHTI "), ["Antti Koski", "Helmi Lahti"]);
        assert_eq!(a("Kari Nordmann / Faktasjekk.no"), ["Kari Nordmann"]);
        assert_eq!(a("Av Kari Nordmann og Ola Hansen, NTB"), ["Kari Nordmann", "Ola Hansen"]);
        assert_eq!(a("By Ana de la Cruz, Staff Writer"), ["Ana de la Cruz"]);
        assert_eq!(a("By Jane Doe, The Daily Example"), ["Jane Doe"]);
        assert!(a("Reuters").is_empty());
        assert!(a("By Example Wire").is_empty());
        assert_eq!(a("By JOHN SMITH AP Sports Writer"), ["John Smith"]);
        assert_eq!(a("Jean DUPONT avec Marie Curie à Lyon"), ["Jean DUPONT", "Marie Curie"]);
        assert_eq!(a("By Arpan Varghese in Bengaluru"), ["Arpan Varghese"]);
        assert_eq!(a("By Mary Ann Smith Staff Writer"), ["Mary Ann Smith"]);
        assert_eq!(a("Von Hans Meier (dpa)"), ["Hans Meier"]);
        assert_eq!(a("Jane Doe (jane.doe@example.org)"), ["Jane Doe"]);
        assert!(a("By The Associated Press").is_empty());
    }

    #[test]
    fn wire_layout_is_split_but_pretty_printing_is_not() {
        let wire = "(Adds detail)\n    LONDON, Feb 6 (Wire) - Copper rose\non Tuesday.\n    Traders said\nso.\n";
        assert_eq!(
            Blocks::read_text(wire),
            ["(Adds detail)", "LONDON, Feb 6 (Wire) - Copper rose on Tuesday.", "Traders said so."]
        );
        let pretty = "\n        A sentence that is\n        pretty-printed\n        <a>link</a>\n      ";
        // Escaped markup is read as meant: the link's text, no tags.
        assert_eq!(Blocks::read_text(pretty), ["A sentence that is pretty-printed link"]);
    }

    #[test]
    fn escaped_markup_is_read_as_meant() {
        let xml = nitf("<p>Temperatures of 35&lt;endash&gt;-&lt;/endash&gt;40 degrees.&lt;p&gt;Second &lt;b&gt;one&lt;/b&gt; &lt;x@y.org&gt;, a &lt; b.</p>");
        let story = read(&xml).unwrap();
        assert_eq!(story.paragraphs, ["Temperatures of 35\u{2013}40 degrees.", "Second one <x@y.org>, a < b."]);
    }

    #[test]
    fn escaped_markup_reading_is_linear() {
        let hostile = format!("{}>", "<".repeat(200_000));
        let started = Instant::now();
        assert_eq!(without_escaped_tags(&hostile).len(), hostile.len());
        assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    }

    #[test]
    fn escaped_html_in_inline_data_is_read_as_meant() {
        let xml = item(
            "",
            "",
        )
        .replace(
            "<inlineXML>",
            "<inlineData contenttype=\"text/plain\">&lt;p&gt;Primo paragrafo&amp;nbsp;qui.&lt;/p&gt;&lt;p&gt;Secondo &lt;b&gt;qui&lt;/b&gt;.&lt;br&gt;</inlineData><inlineXML>",
        );
        let story = read(&xml).unwrap();
        assert_eq!(story.paragraphs, ["Primo paragrafo qui.", "Secondo qui."]);
    }

    #[test]
    fn nitf_embargo_and_status() {
        let xml = "<nitf><head><docdata management-status=\"embargoed\"><date.issue norm=\"20250602T220000Z\"/>\
                   <date.release norm=\"20250603T050000Z\"/></docdata></head><body><body.head><hedline><hl1>H</hl1>\
                   </hedline></body.head><body.content><p>P.</p></body.content></body></nitf>";
        let story = read(xml).unwrap();
        assert_eq!(story.embargo.unwrap().to_rfc3339(), "2025-06-03T05:00:00+00:00");
        let xml = xml.replace("<date.release norm=\"20250603T050000Z\"/>", "");
        let story = read(&xml).unwrap();
        assert_eq!(story.embargo, None);
        assert!(story.embargo_unreadable, "marked embargoed without a time: held");
        assert_eq!(story.warnings.len(), 1);
    }

    #[test]
    fn nitf_advisories_in_the_body_are_never_published() {
        let xml = "<nitf><head><docdata><date.issue norm=\"20250602T220000Z\"/></docdata></head><body><body.head>\
                   <hedline><hl1>H</hl1></hedline></body.head><body.content><p>EMBARGOED UNTIL 0500 GMT JUNE 3</p>\
                   <p>OSLO - P.</p><p>Q.</p><p>Not for publication: call the desk.</p><p>Desk phone 123.</p>\
                   </body.content></body></nitf>";
        let story = read(xml).unwrap();
        assert_eq!(story.paragraphs, ["OSLO - P.", "Q."]);
        assert_eq!(story.embargo.unwrap().to_rfc3339(), "2025-06-03T05:00:00+00:00");
        assert_eq!(story.notes.len(), 3, "{:?}", story.notes);
    }

    #[test]
    fn newsml_subheads_bylines_and_notes() {
        let xml = item(
            "<headline role=\"hld:subHeadline\">Sub</headline><by>By Reuters Staff</by>",
            "<p>By Ravi Menon</p><p>LONDON (Wire) - Copper rose.</p><h3>More</h3><p>Traders <b>said</b> so.</p>",
        );
        let story = read(&xml).unwrap();
        assert_eq!(story.headline, "A headline");
        assert_eq!(story.authors, ["Ravi Menon"]);
        assert_eq!(story.paragraphs, ["LONDON (Wire) - Copper rose.", "More", "Traders said so."]);
        assert_eq!(story.dateline.map(|d| d.place), Some("LONDON".to_owned()));
    }

    fn forbidden(c: char) -> bool {
        (c.is_control() && !matches!(c, '\n' | '\t'))
            || matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Whatever bytes sit inside or around the markup, no field carries
        /// a control character, and nothing panics.
        #[test]
        fn no_control_character_reaches_a_field(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..48),
            at in 0usize..400,
            inside in proptest::prelude::any::<bool>(),
        ) {
            let doc = nitf("<p>First paragraph.</p><p>Second one.</p>");
            let mut bytes = doc.into_bytes();
            if inside {
                let p = bytes.windows(5).position(|w| w == b"First").unwrap();
                bytes.splice(p..p, noise.iter().copied());
            } else {
                let at = at.min(bytes.len());
                bytes.splice(at..at, noise.iter().copied());
            }
            if let Ok(story) = parse_as(&bytes, Media::Xml, &options()) {
                let fields = std::iter::once(&story.headline)
                    .chain(&story.paragraphs)
                    .chain(&story.authors)
                    .chain(&story.notes);
                for f in fields {
                    proptest::prop_assert!(!f.chars().any(forbidden), "{:?}", f);
                }
            }
        }
    }
}
