//! One integration-test binary: every test starts the real server.

mod end_to_end;
mod helpers;
mod observability;
mod proxy;
