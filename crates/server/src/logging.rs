//! Logs on stderr, for `vpngw serve` and `vpngw agent`: one JSON object a
//! line, or text for people. Text logs have colours only on a terminal,
//! and every field and message is written with its control characters
//! escaped ([`crate::text`]), so a value taken from a request cannot start a
//! line that looks like another entry or hide one (#13).

use std::io::IsTerminal;

use tracing_subscriber::{
    EnvFilter,
    field::MakeExt,
    fmt::format::{Writer, debug_fn},
};

use crate::text::Escaping;

/// Installs the global subscriber.
pub fn init(json: bool, filter: EnvFilter) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        // One JSON object per line (JSON escapes control characters); the
        // request span's fields (RequestId, Action) are flattened into
        // every line logged inside it.
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
        return;
    }
    let fields = debug_fn(|w: &mut Writer<'_>, field, value| {
        use std::fmt::Write;
        if field.name() != "message" {
            write!(w, "{}=", field.name())?;
        }
        write!(Escaping(w), "{value:?}")
    })
    .delimited(" ");
    builder
        .with_ansi(std::io::stderr().is_terminal())
        .fmt_fields(fields)
        .init();
}
