//! One integration-test binary: every test starts the real server.

mod archive;
mod edge;
mod end_to_end;
mod engines;
mod faults;
mod feeds;
mod helpers;
mod holds;
mod hostile;
mod integrity;
mod licensed;
mod newsroom;
mod observability;
mod proxy;
mod readers;
mod store;
mod wire;
