//! Slow readers: what a connection that does not read its responses may hold.
//!
//! actix-http answers at most 16 pipelined requests of a connection before
//! it reads more, and fills its write buffer only up to 32 KiB from a
//! response body, but it copies a body chunk into that buffer whole: a feed
//! sent as one 400 KiB chunk sat in memory once per connection that did not
//! read it, for as long as the connection lived. Two limits here:
//!
//! - bodies go out in [`SLICE`]-byte slices of the one shared (cached)
//!   document, so a connection holds at most its 32 KiB buffer and a slice;
//! - a connection whose sent data stays unacknowledged (the client's
//!   window closed) for `WIREFEED_WRITE_TIMEOUT` is closed by the kernel
//!   (`TCP_USER_TIMEOUT`, which also ends zero-window probing since Linux
//!   4.20), so a client that never reads does not hold even that for long.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::Bytes;

/// Bytes of a body handed to actix at a time.
pub const SLICE: usize = 16 * 1024;

/// A body of one known buffer, given out in slices (each a cheap view of it).
struct Slices {
    rest: Bytes,
}

impl MessageBody for Slices {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.rest.len() as u64)
    }

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        let n = self.rest.len().min(SLICE);
        Poll::Ready(Some(Ok(self.rest.split_to(n))))
    }
}

/// A document's body: given out in slices when it is larger than one.
pub fn in_slices(bytes: Bytes) -> BoxBody {
    if bytes.len() > SLICE {
        BoxBody::new(Slices { rest: bytes })
    } else {
        BoxBody::new(bytes)
    }
}

/// The `on_connect` hook of each accepted connection: its write timeout,
/// and no Nagle delay. A body goes out in slices, and with Nagle the last
/// short segment of an answer waited for the reader's delayed ACK of the
/// one before: 40 ms on every large feed over a kept-alive connection.
pub fn on_connect(timeout: Duration) -> impl Fn(&dyn std::any::Any, &mut actix_web::dev::Extensions) + Send + Sync {
    move |conn, _| {
        if let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot turn off Nagle's algorithm on a connection");
            }
            if let Err(e) = set_user_timeout(stream, timeout) {
                tracing::debug!(error = %e, "cannot set the write timeout of a connection");
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn set_user_timeout(stream: &actix_web::rt::net::TcpStream, timeout: Duration) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let millis = libc::c_uint::try_from(timeout.as_millis()).unwrap_or(libc::c_uint::MAX);
    // SAFETY: the descriptor is the open socket `stream` owns, and the
    // option value is a c_uint of the size passed, as TCP_USER_TIMEOUT takes.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_USER_TIMEOUT,
            (&millis as *const libc::c_uint).cast(),
            std::mem::size_of::<libc::c_uint>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Elsewhere the kernel's own timeouts apply.
#[cfg(not(target_os = "linux"))]
fn set_user_timeout(_: &actix_web::rt::net::TcpStream, _: Duration) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_large_body_goes_out_in_slices_of_the_same_bytes() {
        let doc = Bytes::from(vec![7u8; SLICE * 2 + 5]);
        let body = in_slices(doc.clone());
        assert_eq!(body.size(), BodySize::Sized(doc.len() as u64));
        let mut body = std::pin::pin!(body);
        let mut sizes = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            sizes.push(chunk.unwrap().len());
        }
        assert_eq!(sizes, [SLICE, SLICE, 5]);
    }
}
