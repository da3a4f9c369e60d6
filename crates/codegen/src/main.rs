//! `vpngw-codegen [--check] [--root DIR]`: regenerates
//! `crates/model/src/operations.rs` from the spec files (with `--check`, only
//! reports whether the committed file is current).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    let mut root = vpngw_codegen::workspace_root();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--check", next) => {
                check = true;
                if let Some(extra) = next {
                    return usage(&extra);
                }
            }
            ("--root", Some(dir)) => root = PathBuf::from(dir),
            _ => return usage(&arg),
        }
    }

    let text = match vpngw_codegen::generate_in(&root) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("vpngw-codegen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = root.join(vpngw_codegen::OUTPUT);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == text {
        println!("{} is up to date", vpngw_codegen::OUTPUT);
        return ExitCode::SUCCESS;
    }
    if check {
        eprintln!(
            "{} is stale: run `cargo run -p vpngw-codegen`",
            vpngw_codegen::OUTPUT
        );
        return ExitCode::FAILURE;
    }
    match std::fs::write(&path, text) {
        Ok(()) => {
            println!("wrote {}", vpngw_codegen::OUTPUT);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vpngw-codegen: writing {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

fn usage(bad: &str) -> ExitCode {
    eprintln!(
        "vpngw-codegen: unexpected argument {bad:?}\nusage: vpngw-codegen [--check] [--root DIR]"
    );
    ExitCode::from(2)
}
