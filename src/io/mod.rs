//! The I/O thread's clients: what the shards hand over for PostgreSQL (and later Redis), and the
//! code that writes it.
//!
//! The shards never block and never wait on a database. They send [`record::Record`] batches over
//! a bounded channel to one plain thread running a tokio `current_thread` runtime, which owns
//! every connection to the outside and absorbs its outages (see [`pg`] for PostgreSQL).
// Wired in by the I/O thread: until then nothing outside the tests calls into this module.
#![allow(dead_code)]

pub(crate) mod pg;
pub(crate) mod record;
