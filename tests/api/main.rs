//! One integration-test binary: every test starts the real server.

mod edge;
mod end_to_end;
mod feeds;
mod helpers;
mod hostile;
mod newsroom;
mod observability;
mod proxy;
mod store;
mod wire;
