//! Settings: every setting is a command-line flag and a `WIREFEED_*` variable
//! (the flag wins), parsed by clap into typed values. No globals: the parsed
//! [`Cli`] is passed to whatever needs it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::{LicenceError, Licensed, Section};
use crate::edge::{EdgeError, EdgeSettings};
use crate::import::ImportSettings;
use crate::urls::{ForwardedHeader, DEFAULT_FORWARDED_HEADERS};

/// wirefeed: plain wire-story text in, RSS/Atom/JSON feeds out.
#[derive(Debug, Parser)]
#[command(name = "wirefeed", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub parse: ParseArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve feeds and pages (the default); seeds an empty store from `seed/`.
    Serve,
    /// Bulk-import story files or folders (recursively) into the store, offline.
    Import {
        /// Files or folders of story texts.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Section for every story, overriding what the text says.
        #[arg(long)]
        section: Option<String>,
    },
    /// Parse one story and print what would be stored, as JSON; stores nothing.
    Check {
        /// The story file.
        file: PathBuf,
    },
    /// Write every article as JSON Lines.
    Export {
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Load a JSON Lines export into an empty data directory.
    Restore {
        /// The export file.
        file: PathBuf,
    },
    /// Read every article and index entry, and every archive record, and report damage;
    /// exit 1 when any is found.
    Verify,
    /// Make the store again from the archive alone (the old store is set aside, not deleted).
    Rebuild {
        /// Make it beside the live store and report how many articles would change; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Ask the server on `WIREFEED_BIND` for `/healthz`; exit 0 when it answers 200
    /// (the container HEALTHCHECK, so the image needs no curl).
    Healthcheck,
    /// Manage subscribers of licensed sections on the running server at `WIREFEED_BIND`,
    /// with the import token.
    Subscribers {
        #[command(subcommand)]
        action: SubscribersAction,
    },
}

/// What `wirefeed subscribers` does.
#[derive(Debug, Subcommand)]
pub enum SubscribersAction {
    /// Add a subscriber; prints its key (shown once) and keyed OPML URL.
    Add {
        name: String,
        /// Comma-separated section slugs it may read, or `*` for all.
        #[arg(long, value_delimiter = ',', required = true)]
        sections: Vec<String>,
    },
    /// List subscribers (names, sections, creation time, key prefix; never keys).
    List,
    /// Change the sections a subscriber may read.
    Update {
        name: String,
        #[arg(long, value_delimiter = ',', required = true)]
        sections: Vec<String>,
    },
    /// Revoke a subscriber: its key stops working at once.
    Revoke { name: String },
    /// Give a subscriber a new key; the old one keeps working for `--grace` seconds.
    Rotate {
        name: String,
        #[arg(long)]
        grace: Option<u64>,
    },
}

/// Where the store lives and how much memory it may use.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Data directory holding the sled store.
    #[arg(long, env = "WIREFEED_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// sled page cache capacity in MiB.
    #[arg(long, env = "WIREFEED_CACHE_MIB", default_value_t = 8, global = true,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub cache_mib: u64,
}

/// How story text is read.
#[derive(Debug, Clone, Args)]
pub struct ParseArgs {
    /// IANA time zone of story times written without one.
    #[arg(long, env = "WIREFEED_SOURCE_TZ", default_value = "UTC", global = true)]
    pub source_tz: chrono_tz::Tz,
    /// Section of stories that name none.
    #[arg(long, env = "WIREFEED_DEFAULT_SECTION", default_value = "news", global = true)]
    pub default_section: String,
    /// Largest story body accepted, in bytes.
    #[arg(long, env = "WIREFEED_MAX_BODY", default_value_t = 1024 * 1024, global = true,
          value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    pub max_body: u64,
    /// Free space (MiB) the data directory keeps: below it imports answer 507.
    /// Default: 32 times WIREFEED_MAX_BODY, at least 16 MiB; 0 turns the check off.
    #[arg(long, env = "WIREFEED_MIN_FREE_MIB", global = true)]
    pub min_free_mib: Option<u64>,
    /// Most sections: an import that would make one more answers 422.
    #[arg(long, env = "WIREFEED_MAX_SECTIONS", default_value_t = 1000, global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_sections: u64,
}

impl ParseArgs {
    /// Settings for turning stories into articles.
    pub fn import_settings(&self) -> anyhow::Result<ImportSettings> {
        let default_section = Section::from_setting(&self.default_section)
            .with_context(|| format!("WIREFEED_DEFAULT_SECTION {:?} makes no slug", self.default_section))?;
        Ok(ImportSettings { source_tz: self.source_tz, default_section, max_body: self.max_body as usize })
    }

    /// The free-space threshold in bytes.
    pub fn min_free_bytes(&self) -> u64 {
        match self.min_free_mib {
            Some(mib) => mib.saturating_mul(1024 * 1024),
            None => crate::store::space::default_min_free(self.max_body as usize),
        }
    }
}

/// The HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port and logs it).
    #[arg(long, env = "WIREFEED_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,
    /// Public base URL for absolute links, e.g. https://example.org/news/.
    // The line above is also `--help` text, so the URL stays bare.
    #[allow(rustdoc::bare_urls)]
    #[arg(long, env = "WIREFEED_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Comma-separated addresses or CIDR ranges whose forwarding headers are trusted.
    #[arg(long, env = "WIREFEED_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<String>,
    /// Comma-separated forwarding headers the trusted proxies set (and so overwrite
    /// whatever a client sent): X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host,
    /// X-Forwarded-Prefix, Forwarded. Any other is ignored even from a trusted proxy.
    #[arg(long, env = "WIREFEED_FORWARDED_HEADERS", value_delimiter = ',', value_enum, ignore_case = true,
          default_values_t = DEFAULT_FORWARDED_HEADERS,
          global = true)]
    pub forwarded_headers: Vec<ForwardedHeader>,
    /// A second, private address (loopback or an internal network) where
    /// `/metrics` and the detailed `/healthz` answer without the token.
    #[arg(long, env = "WIREFEED_ADMIN_BIND", global = true)]
    pub admin_bind: Option<SocketAddr>,
    /// Bearer token for writes; generated and kept in the data directory when unset.
    #[arg(long, env = "WIREFEED_IMPORT_TOKEN", hide_env_values = true, global = true)]
    pub import_token: Option<String>,
    /// Site title shown in feeds and pages.
    #[arg(long, env = "WIREFEED_SITE_TITLE", default_value = "wirefeed", global = true)]
    pub site_title: String,
    /// Language of the feeds (RSS language, Atom xml:lang, HTML lang).
    #[arg(long, env = "WIREFEED_LANGUAGE", default_value = "en", global = true)]
    pub language: String,
    /// Items per feed and section page (1 to 1000).
    #[arg(long, env = "WIREFEED_FEED_ITEMS", default_value_t = 50, global = true,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub feed_items: u16,
    /// Cache-Control max-age of feeds and pages, in seconds.
    #[arg(long, env = "WIREFEED_CACHE_MAX_AGE", default_value_t = 300, global = true)]
    pub cache_max_age: u32,
    /// Folder of stories that seeds an empty store.
    #[arg(long, env = "WIREFEED_SEED_DIR", default_value = "seed", global = true)]
    pub seed_dir: PathBuf,
    /// Log format.
    #[arg(long, env = "WIREFEED_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, ignore_case = true, global = true)]
    pub log_format: LogFormat,
    /// Seconds a connection may leave sent data unread before it is closed
    /// (TCP_USER_TIMEOUT): a client that stops reading holds no memory for long.
    #[arg(long, env = "WIREFEED_WRITE_TIMEOUT", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub write_timeout: u64,
    /// Most connections served at once.
    #[arg(long, env = "WIREFEED_MAX_CONNECTIONS", default_value_t = 10_000, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Response header naming what a document contains, for a cache tier to purge by
    /// (`Surrogate-Key` for Fastly, `Cache-Tag` for Cloudflare, `xkey` for Varnish).
    #[arg(long, env = "WIREFEED_CACHE_TAG_HEADER", default_value = "Surrogate-Key", global = true)]
    pub cache_tag_header: String,
    /// Comma-separated purge targets told of every change: `xkey+URL`, `nginx+URL`, `webhook+URL`.
    #[arg(long, env = "WIREFEED_PURGE", value_delimiter = ',', global = true)]
    pub purge: Vec<String>,
    /// Shared-cache lifetime (`s-maxage`) in seconds, used when purge targets are set.
    #[arg(long, env = "WIREFEED_EDGE_MAX_AGE", default_value_t = 86_400, global = true)]
    pub edge_max_age: u32,
    /// Comma-separated WebSub hub URLs that feeds advertise and that are told of every change.
    #[arg(long, env = "WIREFEED_WEBSUB_HUBS", value_delimiter = ',', global = true)]
    pub websub_hubs: Vec<String>,
    /// Comma-separated slugs of licensed sections, or `*` for all: their stories are only
    /// under subscribers' keyed URLs (`/k/{key}/`), never in a public document.
    #[arg(long, env = "WIREFEED_LICENSED_SECTIONS", value_delimiter = ',', global = true)]
    pub licensed_sections: Vec<String>,
}

impl ServeArgs {
    /// The cache tier and WebSub settings, checked.
    pub fn edge_settings(&self) -> Result<EdgeSettings, EdgeError> {
        EdgeSettings::parse(&self.cache_tag_header, &self.purge, self.edge_max_age, &self.websub_hubs)
    }

    /// The licensed sections, checked.
    pub fn licensed(&self) -> Result<Licensed, LicenceError> {
        Licensed::parse(&self.licensed_sections)
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
