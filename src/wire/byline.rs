//! Bylines: `By Jane Doe`, `By Jane Doe and John Roe`, `by Janie Gabbett,
//! Reuters`, `BY TED D'AFFLISIO, Reuters`.
//!
//! A byline is read only under the headline, before the first paragraph, and
//! only when every part of it is a name, an agency or a role: `By Saturday
//! morning, Trump ...` is a sentence. Agencies and roles after a comma
//! (`Reuters`, `Staff Writer`, or any single word: `Politico`) are not
//! authors. Names written in capitals are turned into title case
//! (`Ted D'Afflisio`); other names are kept as written.

use super::text::{collapse, find_ci, strip_prefix_ci};

/// News agencies and outlets named after an author; lowercase.
const AGENCIES: &[&str] = &[
    "reuters",
    "reuter",
    "ap",
    "the associated press",
    "associated press",
    "afp",
    "agence france-presse",
    "dpa",
    "bloomberg",
    "bloomberg news",
    "cnn",
    "bbc",
    "bbc news",
    "tass",
    "ria novosti",
    "xinhua",
    "kyodo",
    "efe",
    "ansa",
    "apa",
    "sda",
    "epd",
    "kna",
    "aap",
    "stt",
    "ntb",
    "upi",
    "pa",
    "press association",
    "the new york times",
    "the washington post",
    "npr",
    "usa today",
    "wsj",
];

/// Words that make a byline part a role, not a name (`Staff Writer`, `AP
/// Business Writers`, `Moscow Correspondent`); lowercase.
const ROLES: &[&str] = &[
    "staff",
    "writer",
    "writers",
    "reporter",
    "reporters",
    "correspondent",
    "correspondents",
    "editor",
    "editors",
    "contributor",
    "columnist",
    "bureau",
    "chief",
    "special",
];

/// A byline part that names an agency or a role, not an author.
fn is_agency_or_role(part: &str) -> bool {
    let lower = part.to_lowercase();
    AGENCIES.contains(&lower.as_str()) || lower.split_whitespace().any(|w| ROLES.contains(&w))
}

/// A line that is nothing but an agency or role, as under a byline
/// (`By JANE DOE` / `Associated Press`).
pub fn is_agency_line(content: &str) -> bool {
    content.len() <= 60 && content.split_whitespace().count() <= 5 && is_agency_or_role(content)
}

const PARTICLES: &[&str] = &[
    "de", "da", "del", "della", "der", "den", "van", "von", "la", "le", "al", "bin", "ibn", "y", "di", "du", "dos",
    "das", "ter", "ten", "st.",
];

/// The authors of a byline line, or `None` when the line is not a byline.
/// `Some(vec![])` is a byline naming only an agency (`By Reuters Staff`).
pub fn byline(content: &str) -> Option<Vec<String>> {
    if content.len() > 120 {
        return None;
    }
    let rest = ["by ", "par ", "von ", "por "].iter().find_map(|p| strip_prefix_ci(content, p))?.trim();
    // `Von Hans Meier (dpa)`: the agency in brackets.
    let rest = match rest.rfind('(') {
        Some(at) if rest.ends_with(')') && is_agency_or_role(&rest[at + 1..rest.len() - 1]) => rest[..at].trim(),
        _ => rest,
    };
    let mut authors = Vec::new();
    for (n, part) in rest.split([',', ';']).enumerate() {
        let part = part.trim();
        // After a comma, one word is an outlet (`Jane Doe, Politico`), not a person.
        if n > 0 && !part.is_empty() && !part.contains(' ') && is_name(part) {
            continue;
        }
        for name in split_and(part) {
            let name = name.trim();
            if name.is_empty() {
                return None;
            }
            if is_agency_or_role(name) {
                continue;
            }
            if !is_name(name) {
                return None;
            }
            authors.push(normalise(name));
        }
    }
    Some(authors)
}

/// `Jane Doe and John Roe`, `Jane Doe & John Roe`, `Jean Dupont et Marie Roe`.
fn split_and(part: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = part;
    while let Some((i, len)) = [" and ", " & ", " et ", " und ", " y "]
        .iter()
        .filter_map(|sep| find_ci(rest, sep).map(|i| (i, sep.len())))
        .min()
    {
        names.push(&rest[..i]);
        rest = &rest[i + len..];
    }
    names.push(rest);
    names
}

fn is_name(name: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 || !words[0].chars().next().is_some_and(char::is_uppercase) {
        return false;
    }
    words.iter().all(|w| {
        let letters_only = w.chars().all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '’' | '-'));
        let capital = w.chars().next().is_some_and(char::is_uppercase);
        let particle = PARTICLES.contains(&w.to_lowercase().as_str())
            || w.starts_with("al-")
            || w.starts_with("el-")
            || w.starts_with("d'");
        letters_only && (capital || particle)
    })
}

/// A name in capitals to title case (`TED D'AFFLISIO` → `Ted D'Afflisio`).
fn normalise(name: &str) -> String {
    let words = collapse(name);
    let letters = words.chars().filter(|c| c.is_alphabetic()).count();
    if letters < 2 || words.chars().any(char::is_lowercase) {
        return words;
    }
    let mut out = String::with_capacity(words.len());
    let mut start = true;
    for c in words.chars() {
        if start {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphabetic();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Option<Vec<String>> {
        byline(line)
    }

    #[test]
    fn bylines_are_read() {
        assert_eq!(names("By Jane Doe"), Some(vec!["Jane Doe".into()]));
        assert_eq!(names("By Jane Doe and John Roe"), Some(vec!["Jane Doe".into(), "John Roe".into()]));
        assert_eq!(names("by Janie Gabbett, Reuters"), Some(vec!["Janie Gabbett".into()]));
        assert_eq!(names("BY TED D'AFFLISIO, Reuters"), Some(vec!["Ted D'Afflisio".into()]));
        assert_eq!(names("By Ana de la Cruz, Staff Writer"), Some(vec!["Ana de la Cruz".into()]));
        assert_eq!(names("By J.R. SMITH-JONES"), Some(vec!["J.R. Smith-Jones".into()]));
        assert_eq!(
            names("By Jane Doe and John Roe, Associated Press Writers"),
            Some(vec!["Jane Doe".into(), "John Roe".into()])
        );
        assert_eq!(names("By Reuters Staff"), Some(vec![]));
        assert_eq!(
            names("Von Marco Krefting und Sunrita Sen, dpa"),
            Some(vec!["Marco Krefting".into(), "Sunrita Sen".into()])
        );
        assert_eq!(names("Von Hans Meier (dpa)"), Some(vec!["Hans Meier".into()]));
        assert_eq!(names("By Jane Doe, Politico"), Some(vec!["Jane Doe".into()]));
        assert_eq!(
            names("By Jane Doe, John Roe and Ann Poe"),
            Some(vec!["Jane Doe".into(), "John Roe".into(), "Ann Poe".into()])
        );
    }

    #[test]
    fn sentences_are_not_bylines() {
        assert_eq!(names("By Saturday morning, Trump was directly responding to Romney"), None);
        assert_eq!(names("By the end of the year"), None);
        assert_eq!(names("Byron Smith said"), None);
        assert_eq!(names("Von Montag an gilt das neue Gesetz"), None);
        assert_eq!(names("Von Berlin aus fahren Züge"), None);
    }
}
