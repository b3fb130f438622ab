//! `cargo xtask bench`: each function release-built on its own and measured (docs/measured.md).

use super::*;

pub(crate) fn bench() -> Result {
    let python = venv_python()?;
    let functions = functions()?;
    // One package per build: features are resolved per build, so `create-user` does not get the
    // Secrets Manager feature `store-password` turns on.
    for f in &functions {
        run(cargo().args(["build", "--release", "--quiet", "--package", f]))?;
    }
    run(cargo().args(["build", "--release", "--quiet", "--package", "onboarding"]))?;
    run(cargo().args(["build", "--quiet", "--package", "tests", "--bins"]))?;
    let target = target_dir()?;
    let release = target.join("release");
    // Zipped as `package` zips them (the host build; `package` links the same code for glibc 2.34).
    let zips = target.join("lambda-bench");
    std::fs::create_dir_all(&zips).map_err(|e| e.to_string())?;
    for f in &functions {
        run(Command::new(&python).args(["-c", ZIP_BOOTSTRAP]).arg(release.join(f)).arg(zips.join(format!("{f}.zip"))))?;
    }
    run(Command::new(target.join("debug").join("bench-functions"))
        .arg(release)
        .arg(zips)
        .current_dir(root())
        .env("ONBOARDING_PYTHON", python))
}
