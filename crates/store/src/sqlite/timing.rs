//! Store operation latency, recorded through the `metrics` facade as
//! `vpngw_store_operation_duration_seconds{op,mode}` (a no-op unless the
//! process installed a recorder).
//!
//! Every operation goes through [`super::SqliteStore::read`] or
//! [`super::writer::Writer::write`] with a closure defined inside the
//! `Store` method, so the closure's type name names the operation
//! (`…SqliteStore as …Store>::get::{{closure}}` → `get`): no call site has
//! to pass a label.

use std::time::Instant;

/// The operation a closure type belongs to.
pub fn op_name<F>() -> &'static str {
    method_of(std::any::type_name::<F>())
}

/// `<…SqliteStore as …Store>::get<'_, '_>::{{closure}}::{{closure}}` → `get`.
fn method_of(mut name: &str) -> &str {
    while let Some(rest) = name.strip_suffix("::{{closure}}") {
        name = rest;
    }
    // Drop the method's own generic arguments (`get<'_, '_>`).
    if name.ends_with('>') {
        let mut depth = 0usize;
        for (i, c) in name.char_indices().rev() {
            match c {
                '>' => depth += 1,
                '<' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        name = &name[..i];
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    match name.rsplit_once("::") {
        Some((_, last))
            if !last.is_empty() && last.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            last
        }
        _ => "other",
    }
}

pub fn record(op: &'static str, mode: &'static str, started: Instant) {
    metrics::histogram!(
        "vpngw_store_operation_duration_seconds",
        "op" => op,
        "mode" => mode
    )
    .record(started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named<F>(_: &F) -> &'static str {
        op_name::<F>()
    }

    #[test]
    fn closure_names_their_method() {
        fn get() -> &'static str {
            let f = |x: i32| x + 1;
            named(&f)
        }
        assert_eq!(get(), "get");
        assert_eq!(op_name::<fn()>(), "other");
        assert_eq!(named(&crate::sqlite::timing::record), "record");
        assert_eq!(
            method_of(
                "<vpngw_store::sqlite::SqliteStore as vpngw_store::Store>::access_key<'_, '_, '_>::{{closure}}::{{closure}}"
            ),
            "access_key"
        );
        assert_eq!(method_of("Vec<u8>"), "other");
    }
}
