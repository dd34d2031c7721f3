//! Agency wire formats: IPTC 7901, ANPA-1312 and AAP's ZCZC text, NITF and
//! NewsML-G2 XML. [`detect`] tells them from each other and from plain text
//! by their framing; each module reads one format into a [`Story`](super::Story),
//! putting what the agency marks as not for publication into `notes`.

pub mod anpa;
pub mod iptc7901;
pub mod newsml;
pub mod nitf;
pub(crate) mod text;
pub mod xhtml;
pub mod xml;
pub mod zczc;

use super::{Media, WireFormat};

pub(crate) use text::plain_advisories;

/// Bytes looked at to tell formats apart: every header sits near the start.
const SNIFF: usize = 2048;

/// The format of a transmission, from its content (and, for XML, its media type).
pub fn detect(bytes: &[u8], media: Media) -> WireFormat {
    let head = &bytes[..bytes.len().min(SNIFF)];
    let start = skip_bom_and_space(head);
    if media == Media::Xml || start.first() == Some(&b'<') {
        if let Some(format) = xml::root_format(bytes) {
            return format;
        }
        if media == Media::Xml {
            // Sent as XML: the XML reader says what is wrong with it.
            return WireFormat::Nitf;
        }
    }
    if zczc::detect(head) {
        WireFormat::Zczc
    } else if anpa::detect(head) {
        WireFormat::Anpa1312
    } else if iptc7901::detect(head) {
        WireFormat::Iptc7901
    } else {
        WireFormat::Plain
    }
}

/// The home zone of an agency a transmission names (its originator,
/// provider or credit): times it writes without a zone are in it. `None`
/// for an agency not known here (the configured source zone is then used).
pub fn home_zone(agency: &str) -> Option<chrono_tz::Tz> {
    use chrono_tz::{America, Asia, Australia, Europe};
    let a = agency.trim().to_lowercase();
    let a = a.rsplit(':').next().unwrap_or(&a);
    let first = a.split(|c: char| !c.is_alphanumeric() && c != '-').next().unwrap_or("");
    Some(match first {
        "dpa" | "dpa-afx" | "ddp" | "epd" | "kna" | "sid" => Europe::Berlin,
        "apa" => Europe::Vienna,
        "sda" | "keystone-sda" => Europe::Zurich,
        "ansa" => Europe::Rome,
        "efe" => Europe::Madrid,
        "afp" => Europe::Paris,
        "anp" => Europe::Amsterdam,
        "belga" => Europe::Brussels,
        "stt" => Europe::Helsinki,
        "ntb" => Europe::Oslo,
        "tt" => Europe::Stockholm,
        "ritzau" => Europe::Copenhagen,
        "ctk" => Europe::Prague,
        "pap" => Europe::Warsaw,
        "aap" => Australia::Sydney,
        "ap" => America::New_York,
        "kyodo" => Asia::Tokyo,
        "xinhua" => Asia::Shanghai,
        _ if a.starts_with("deutsche presse") => Europe::Berlin,
        _ => return None,
    })
}

fn skip_bom_and_space(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let n = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[n..]
}
