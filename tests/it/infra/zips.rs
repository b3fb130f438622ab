//! Every function's Lambda zip runs on provided.al2023.

use super::*;

/// Reads a zip through the venv's Python: each entry's name and Unix mode, and the `bootstrap`
/// bytes written to `out`.
fn unzip(zip: &std::path::Path, out: &std::path::Path) -> Vec<(String, u32)> {
    let python = std::env::var("ONBOARDING_PYTHON").expect("cargo xtask test sets ONBOARDING_PYTHON");
    let script = "import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nopen(sys.argv[2], 'wb').write(z.read('bootstrap'))\nprint(json.dumps([[i.filename, i.external_attr >> 16] for i in z.infolist()]))";
    let o = std::process::Command::new(python).args(["-c", script]).arg(zip).arg(out).output().expect("python");
    assert!(o.status.success(), "{}: {}", zip.display(), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<Vec<(String, u32)>>(&o.stdout).expect("entries")
}

#[test]
fn every_function_zip_runs_on_provided_al2023() {
    // Built by `cargo xtask package --dev` (which `cargo xtask test` runs first), the same way
    // `cargo xtask package` builds the release zips.
    let dir = std::path::PathBuf::from(
        std::env::var("ONBOARDING_PACKAGES").expect("cargo xtask test sets ONBOARDING_PACKAGES"),
    );
    let template = template();
    let functions: Vec<String> = resources(&template, "AWS::Serverless::Function")
        .iter()
        .filter_map(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"].as_str().map(str::to_owned))
        .collect();
    let mut archs = 0;
    for (arch, machine) in [("x86_64", 62), ("arm64", 183)] {
        let arch_dir = dir.join(arch);
        if arch == "arm64" && !arch_dir.exists() {
            // `package` skips an architecture the toolchain cannot target, and says so.
            continue;
        }
        archs += 1;
        for f in &functions {
            let zip = arch_dir.join(format!("{f}.zip"));
            assert!(zip.exists(), "{} is missing", zip.display());
            let bootstrap = std::env::temp_dir().join(format!("bootstrap-{}-{arch}-{f}", std::process::id()));
            let entries = unzip(&zip, &bootstrap);
            assert_eq!(entries.len(), 1, "{}: {entries:?}", zip.display());
            assert_eq!(entries[0].0, "bootstrap");
            assert_eq!(entries[0].1 & 0o111, 0o111, "{}: bootstrap is not executable", zip.display());
            let bytes = std::fs::read(&bootstrap).expect("bootstrap");
            let _ = std::fs::remove_file(&bootstrap);
            let needs = tests::elf::needs(&bytes).unwrap_or_else(|| panic!("{}: not a 64-bit ELF", zip.display()));
            assert_eq!(needs.machine, machine, "{}: wrong architecture", zip.display());
            assert!(!needs.glibc.is_empty(), "{}: no glibc versions read, so nothing was proven", zip.display());
            let newest = needs.glibc.last().copied().unwrap_or_default();
            assert!(
                newest <= (2, 34),
                "{}: needs GLIBC_{}.{} (provided.al2023 has 2.34)",
                zip.display(),
                newest.0,
                newest.1
            );
        }
    }
    assert!(archs >= 1);
}

#[test]
fn the_elf_reader_reads_a_known_binary() {
    // This test binary itself: built for the host, against the host's glibc.
    let me = std::fs::read("/proc/self/exe").expect("own binary");
    let needs = tests::elf::needs(&me).expect("ELF");
    assert_eq!(needs.machine, if cfg!(target_arch = "aarch64") { 183 } else { 62 });
    assert!(needs.glibc.contains(&(2, 2)) || needs.glibc.contains(&(2, 17)), "{:?}", needs.glibc);
    assert!(tests::elf::needs(b"#!/bin/sh\n").is_none());
}
