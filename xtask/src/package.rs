//! `cargo xtask package`: every function as a Lambda zip, linked for provided.al2023.

use super::*;

/// glibc of `provided.al2023`: binaries must not need a newer symbol.
pub(crate) const GLIBC: &str = "2.34";

/// `cargo xtask package [--dev]`: zips in `target/lambda[-dev]/<arch>/<function>.zip`; returns
/// that directory.
pub(crate) fn package(args: &[String]) -> Result<PathBuf> {
    let dev = args.iter().any(|a| a == "--dev");
    let host_only = args.iter().any(|a| a == "--host-arch");
    let python = venv_python()?;
    let target = target_dir()?;
    let functions = functions()?;
    let bin = python.parent().ok_or("venv without bin")?.to_path_buf();
    // cargo finds `cargo-zigbuild` on PATH; it finds Zig (the `ziglang` package) by itself.
    let path = std::env::join_paths(
        std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .map_err(|e| e.to_string())?;
    let out = target.join(if dev { "lambda-dev" } else { "lambda" });
    for (arch, triple) in [("x86_64", "x86_64-unknown-linux-gnu"), ("arm64", "aarch64-unknown-linux-gnu")] {
        let host = if cfg!(target_arch = "aarch64") { "arm64" } else { "x86_64" };
        if host_only && arch != host {
            eprintln!("xtask: skipping {arch} zips (the host's architecture only; --all-arches or CI builds both)");
            continue;
        }
        if !has_target(triple) {
            eprintln!("xtask: skipping {arch}: the toolchain has no {triple} (rustup target add {triple})");
            continue;
        }
        let dir = out.join(arch);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        // One package per build, so each links only the features it uses.
        for f in &functions {
            let mut c = cargo();
            c.env("PATH", &path).args([
                "zigbuild",
                "--quiet",
                "--package",
                f,
                "--target",
                &format!("{triple}.{GLIBC}"),
            ]);
            if !dev {
                c.arg("--release");
            }
            run(&mut c)?;
            let built = target.join(triple).join(if dev { "debug" } else { "release" }).join(f);
            let zip = dir.join(format!("{f}.zip"));
            run(Command::new(&python).args(["-c", ZIP_BOOTSTRAP]).arg(&built).arg(&zip))?;
        }
        println!("{}: {} zips", dir.display(), functions.len());
    }
    Ok(out)
}

/// Zips one binary as `bootstrap` (mode 755), the layout `provided.al2023` runs.
pub(crate) const ZIP_BOOTSTRAP: &str = r#"
import sys, zipfile
info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.create_system = 3
info.compress_type = zipfile.ZIP_DEFLATED
with open(sys.argv[1], "rb") as f, zipfile.ZipFile(sys.argv[2], "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
"#;

/// Whether the toolchain has the standard library for `triple`, installing it when rustup can.
pub(crate) fn has_target(triple: &str) -> bool {
    let installed = |t: &str| {
        Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == t))
    };
    installed(triple)
        || (Command::new("rustup").args(["target", "add", triple]).status().is_ok_and(|s| s.success())
            && installed(triple))
}
