//! `cargo xtask test`: every tool installed, formatting checked, everything built, every test run.

use super::*;

/// About what a fresh clone's `cargo xtask test` leaves in its target directory, rounded up
/// (measured 2026-11-29: 8.7 GiB with both architectures' zips and incremental files, 6.4 GiB
/// as `.ci/run` builds, without incremental files).
pub(crate) const FRESH_TEST_GIB: u64 = 9;

/// Says so before building when the target directory's file system has less room than a fresh
/// test run writes: the build would otherwise fail late with "No space left on device".
pub(crate) fn warn_if_disk_is_short(target: &Path) {
    let mut dir = target;
    while !dir.exists() {
        match dir.parent() {
            Some(p) => dir = p,
            None => return,
        }
    }
    let Ok(out) = Command::new("df").arg("-Pk").arg(dir).output() else { return };
    if let Some(free) = df_available_kib(&String::from_utf8_lossy(&out.stdout)).map(|k| k / (1024 * 1024))
        && free < FRESH_TEST_GIB
    {
        eprintln!(
            "xtask: warning: {free} GiB free on the file system of {} and a fresh `cargo xtask test` \
             writes about {FRESH_TEST_GIB} GiB there: free some space or set CARGO_TARGET_DIR elsewhere",
            target.display()
        );
    }
}

/// The `Available` column (KiB) of `df -Pk`'s one data line.
pub(crate) fn df_available_kib(df: &str) -> Option<u64> {
    df.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

pub(crate) fn test(extra: &[String]) -> Result {
    let python = venv_python()?;
    install_node_tools()?;
    install_chromium()?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    let target = target_dir()?;
    warn_if_disk_is_short(&target);
    // The Lambda zips, unoptimised but built and linked exactly as `package` does; a test checks
    // them. Both architectures in CI (CI=true) or with --all-arches; the host's alone otherwise,
    // which halves the common loop's time.
    let all_arches = extra.iter().any(|a| a == "--all-arches") || std::env::var_os("CI").is_some();
    let extra: Vec<&String> = extra.iter().filter(|a| *a != "--all-arches").collect();
    let mut package_args = vec!["--dev".to_owned()];
    if !all_arches {
        package_args.push("--host-arch".to_owned());
    }
    let packages = package(&package_args)?;
    // One build for all: binaries (the tests run them) and test targets share a feature set.
    run(cargo().args(["build", "--workspace", "--bins"]))?;
    let on_path = |name: &str| {
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    if !["chromium", "chromium-browser", "google-chrome"].into_iter().any(on_path) {
        println!(
            "note: Chromium is not installed, so the HTML report's browser check will be skipped \
             (`.ci/run` installs Debian's `chromium`)"
        );
    }
    run(cargo()
        .args(["test", "--workspace"])
        .args(extra)
        .env("ONBOARDING_PYTHON", &python)
        .env("ONBOARDING_PACKAGES", &packages)
        .env("ONBOARDING_TARGET_DIR", target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_available_is_the_fourth_column_of_the_data_line() {
        let df = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                  /dev/vda         263174212 89128040 161342384      36% /\n";
        assert_eq!(df_available_kib(df), Some(161_342_384));
        assert_eq!(df_available_kib("Filesystem 1024-blocks Used Available Capacity Mounted on\n"), None);
        assert_eq!(df_available_kib(""), None);
    }
}
