//! criterion microbenchmarks (filled in below).
fn main() {}
