//! The import token: the one secret that allows writes. It is configured,
//! or made once and kept in the data directory, and checks a presented
//! token in constant time.

use std::path::Path;

use anyhow::{bail, Context};
use subtle::ConstantTimeEq;

/// Shortest token accepted.
const MIN_CHARS: usize = 16;

/// The import token. It never appears in `Debug` output.
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// The configured token, else the one kept in `data_dir` (made and
    /// logged once, at first start).
    pub fn configured_or_kept(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Token> {
        if let Some(token) = configured {
            if token.chars().count() < MIN_CHARS {
                bail!("WIREFEED_IMPORT_TOKEN is shorter than {MIN_CHARS} characters; use a long random token");
            }
            return Ok(Token(token.to_owned()));
        }
        let path = data_dir.join("import-token");
        // The file is the operator's: only a missing one is made. Replacing an
        // unusable one would lock out every client that has the old token.
        let fix = format!(
            "put a token of at least {MIN_CHARS} characters in it, set WIREFEED_IMPORT_TOKEN, or delete the file to have one generated"
        );
        match std::fs::read(&path) {
            Ok(bytes) => {
                let shown = path.display();
                let text = String::from_utf8(bytes)
                    .map_err(|_| anyhow::anyhow!("the import token file {shown} is not UTF-8 text: {fix}"))?;
                let token = text.trim();
                if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    bail!("the import token file {shown} holds spaces, line breaks or control characters inside the token: {fix}");
                }
                if token.chars().count() < MIN_CHARS {
                    bail!(
                        "the import token file {shown} holds {} characters, fewer than {MIN_CHARS}: {fix}",
                        token.chars().count()
                    );
                }
                return Ok(Token(token.to_owned()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("the import token file {} cannot be read ({e}): {fix}", path.display()),
        }
        let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        write_private(&path, &token).with_context(|| format!("writing {}", path.display()))?;
        tracing::warn!(
            token = %token,
            file = %path.display(),
            "no WIREFEED_IMPORT_TOKEN set: generated an import token (shown this once; it is kept in the file)"
        );
        Ok(Token(token))
    }

    /// Whether `given` is this token, compared in constant time.
    pub fn admits(&self, given: &str) -> bool {
        !given.is_empty() && bool::from(given.as_bytes().ct_eq(self.0.as_bytes()))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_itself_is_admitted() {
        let token = Token("a-long-enough-token-1234".into());
        assert!(token.admits("a-long-enough-token-1234"));
        assert!(!token.admits("a-long-enough-token-123"));
        assert!(!token.admits(""));
        assert_eq!(format!("{token:?}"), "Token(…)");
    }

    #[test]
    fn a_kept_token_is_made_once_and_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let made = Token::configured_or_kept(None, dir.path()).unwrap();
        let read = Token::configured_or_kept(None, dir.path()).unwrap();
        assert_eq!(made.0, read.0);
        assert!(Token::configured_or_kept(Some("short"), dir.path()).is_err());
    }
}
