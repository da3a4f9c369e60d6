//! `vpngw-codegen [--check] [--root DIR]`: regenerates every file that
//! follows from `spec/` (with `--check`, only reports whether the committed
//! files are current).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    let mut root = vpngw_codegen::workspace_root();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => return usage(&arg),
            },
            _ => return usage(&arg),
        }
    }

    let outputs = match vpngw_codegen::generate_in(&root) {
        Ok(outputs) => outputs,
        Err(e) => {
            eprintln!("vpngw-codegen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = Vec::new();
    for out in &outputs {
        let path = root.join(&out.path);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == out.text {
            continue;
        }
        if check {
            stale.push(out.path.clone());
            continue;
        }
        if let Some(dir) = path.parent()
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            eprintln!("vpngw-codegen: creating {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        if let Err(e) = std::fs::write(&path, &out.text) {
            eprintln!("vpngw-codegen: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", out.path);
    }
    for extra in vpngw_codegen::stale_files(&root, &outputs) {
        if check {
            stale.push(format!("{extra} (no longer generated)"));
        } else if let Err(e) = std::fs::remove_file(root.join(&extra)) {
            eprintln!("vpngw-codegen: removing {extra}: {e}");
            return ExitCode::FAILURE;
        } else {
            println!("removed {extra}");
        }
    }
    if !stale.is_empty() {
        for s in &stale {
            eprintln!("{s} is stale");
        }
        eprintln!("run `cargo run -p vpngw-codegen`");
        return ExitCode::FAILURE;
    }
    println!("generated files are up to date");
    ExitCode::SUCCESS
}

fn usage(bad: &str) -> ExitCode {
    eprintln!(
        "vpngw-codegen: unexpected argument {bad:?}\nusage: vpngw-codegen [--check] [--root DIR]"
    );
    ExitCode::from(2)
}
