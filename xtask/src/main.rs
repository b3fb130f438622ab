//! Developer commands. Std only, so it builds in seconds.
//!
//! - `cargo xtask test`: installs the emulator (pinned moto, in ./.venv) and the independent IAM
//!   simulator and the review page's browser driver (pinned, `npm ci` in tests/simulator and
//!   tests/browser), headless Chromium (Debian's, when missing), checks formatting,
//!   builds everything and runs every test.
//! - `cargo xtask demo`: installs and starts the emulator, bootstraps, onboards the sample new
//!   hires from `events/`, resends one, feeds it a bad event, runs the sample transfer and
//!   departures, sweeps at a later date, and shows users and audit trail. With
//!   `--identity-center`: the same events against the emulator's Identity Center (the shipped
//!   config plus `onboarding.identity-center.toml`), showing users, groups and whom each
//!   permission set denies.
//! - `cargo xtask bench`: release-builds each function on its own (so each links only what it
//!   uses) and measures size, cold start, first invocation and peak memory under a Lambda
//!   Runtime API host, against the emulator.
//! - `cargo xtask lint`: `cargo fmt --check` and `cargo clippy --all-targets -D warnings`.
//! - `cargo xtask package [--dev]`: every function as a Lambda zip (`bootstrap` at the root) for
//!   x86_64 and arm64, linked against glibc 2.34 (provided.al2023) with cargo-zigbuild and Zig
//!   from the project venv; `--dev` builds unoptimised zips for the tests' checks.
//! - `cargo xtask gen-infra`: rewrites the state machines generated from `shared::steps` (it
//!   runs the test that checks them, which rewrites a stale file).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("lint") => lint(),
        Some("bench") => bench(),
        Some("package") => package(&args[1..]).map(|_| ()),
        Some("emulator") => emulator_forever(),
        Some("gen-infra") => gen_infra(),
        _ => {
            eprintln!(
                "usage: cargo xtask <test [--all-arches] [cargo test args]|demo [--identity-center]|bench|lint|emulator|gen-infra|package [--dev] [--host-arch]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Cargo's target directory as cargo itself resolves it (`CARGO_TARGET_DIR`, a config's
/// `build.target-dir`, or `./target`), from `cargo metadata`.
fn target_dir() -> Result<PathBuf> {
    target_dir_of(cargo())
}

fn target_dir_of(mut cargo: Command) -> Result<PathBuf> {
    let out = cargo
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", out.status));
    }
    target_directory(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| "cargo metadata gave no target_directory".to_owned())
}

/// The `target_directory` value of `cargo metadata`'s JSON (std only: no JSON parser here).
fn target_directory(json: &str) -> Option<PathBuf> {
    let start = json.find("\"target_directory\":\"")? + "\"target_directory\":\"".len();
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(PathBuf::from(value)),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

fn run(cmd: &mut Command) -> Result {
    let status = cmd.status().map_err(|e| format!("cannot start {}: {e}", shown(cmd)))?;
    if status.success() { Ok(()) } else { Err(format!("{} failed: {status}", shown(cmd))) }
}

/// A command as an error shows it: the program and its arguments, never its environment (the
/// demo passes a webhook signing secret there).
fn shown(cmd: &Command) -> String {
    std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
}

/// The project-local venv with the pinned emulator; created or updated when the pin changes.
fn venv_python() -> Result<PathBuf> {
    let root = root();
    let venv = root.join(".venv");
    let python = venv.join("bin").join("python");
    let requirements = root.join("tests").join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).map_err(|e| format!("{}: {e}", requirements.display()))?;
    let stamp = venv.join(".requirements");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    eprintln!("xtask: installing the AWS emulator (moto, pinned) into {}", venv.display());
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    if !python.exists() {
        run(Command::new(&system_python).args(["-m", "venv"]).arg(&venv))?;
    }
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements))?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(python)
}

/// The independent IAM simulator the trust tests cross-check with (`tests/simulator`) and the
/// browser driver of the review page's test (`tests/browser`), each pinned by its
/// `package-lock.json` and installed with `npm ci` when the lock changes.
fn install_node_tools() -> Result {
    for (dir, what) in [("simulator", "the independent IAM simulator"), ("browser", "the review page's browser driver")]
    {
        let dir = root().join("tests").join(dir);
        let lock = dir.join("package-lock.json");
        let wanted = std::fs::read_to_string(&lock).map_err(|e| format!("{}: {e}", lock.display()))?;
        let stamp = dir.join("node_modules").join(".xtask-lock");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            continue;
        }
        eprintln!("xtask: installing {what} (npm, pinned) into {}", dir.display());
        let npm = std::env::var("NPM").unwrap_or_else(|_| "npm".into());
        run(Command::new(&npm).args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir))
            .map_err(|e| format!("{e}: the tests need Node.js and npm (set NPM to another npm)"))?;
        std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Headless Chromium for the review page's test: `CHROMIUM` if set, else Debian's
/// `/usr/bin/chromium`, installed with apt-get when missing (as root; otherwise the error says
/// how).
fn install_chromium() -> Result {
    if let Some(c) = std::env::var_os("CHROMIUM") {
        return if Path::new(&c).is_file() {
            Ok(())
        } else {
            Err(format!("CHROMIUM={} is not a file", Path::new(&c).display()))
        };
    }
    if Path::new("/usr/bin/chromium").is_file() {
        return Ok(());
    }
    eprintln!("xtask: installing headless Chromium (Debian's chromium package) for the review page's test");
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let sudo = |args: &[&str]| {
        let mut c = if root { Command::new(args[0]) } else { Command::new("sudo") };
        if root {
            c.args(&args[1..])
        } else {
            c.arg("-n").args(args)
        };
        c.env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    if run(&mut sudo(&["apt-get", "install", "-y", "--no-install-recommends", "chromium"])).is_err() {
        run(&mut sudo(&["apt-get", "update"]))?;
        run(&mut sudo(&["apt-get", "install", "-y", "--no-install-recommends", "chromium"])).map_err(|e| {
            format!("{e}: the review page's test needs Chromium: install Debian's `chromium`, or set CHROMIUM to one")
        })?;
    }
    Ok(())
}

/// About what a fresh clone's `cargo xtask test` leaves in its target directory, rounded up
/// (measured 2026-11-29: 8.7 GiB with both architectures' zips and incremental files, 6.4 GiB
/// as `.ci/run` builds, without incremental files).
const FRESH_TEST_GIB: u64 = 9;

/// Says so before building when the target directory's file system has less room than a fresh
/// test run writes: the build would otherwise fail late with "No space left on device".
fn warn_if_disk_is_short(target: &Path) {
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
fn df_available_kib(df: &str) -> Option<u64> {
    df.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

fn test(extra: &[String]) -> Result {
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

/// Every Lambda binary: the directories under `functions/` (directory = package = binary).
fn functions() -> Result<Vec<String>> {
    let dir = root().join("functions");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// Rewrites the committed state machines from the flows (the infra test does it when stale).
fn gen_infra() -> Result {
    let status = cargo()
        .args(["test", "--quiet", "--package", "tests", "--test", "it", "--", "committed_state_machines"])
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        println!("infra/statemachines/ is up to date");
    } else {
        println!("infra/statemachines/ regenerated: review and commit it");
    }
    Ok(())
}

/// glibc of `provided.al2023`: binaries must not need a newer symbol.
const GLIBC: &str = "2.34";

/// `cargo xtask package [--dev]`: zips in `target/lambda[-dev]/<arch>/<function>.zip`; returns
/// that directory.
fn package(args: &[String]) -> Result<PathBuf> {
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
const ZIP_BOOTSTRAP: &str = r#"
import sys, zipfile
info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.create_system = 3
info.compress_type = zipfile.ZIP_DEFLATED
with open(sys.argv[1], "rb") as f, zipfile.ZipFile(sys.argv[2], "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
"#;

/// Whether the toolchain has the standard library for `triple`, installing it when rustup can.
fn has_target(triple: &str) -> bool {
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

fn bench() -> Result {
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

fn lint() -> Result {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
}

/// A running emulator; stops when dropped (its stdin closes).
struct Emulator {
    child: Child,
    endpoint: String,
    /// Kept open: the emulator must never write into a closed pipe.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn start_emulator() -> Result<Emulator> {
    let python = venv_python()?;
    let mut child = Command::new(python)
        .arg(root().join("tests").join("emulator.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no emulator stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line).map_err(|e| e.to_string())?;
    let port = line.trim().strip_prefix("port=").ok_or_else(|| format!("emulator said {line:?}"))?.to_owned();
    Ok(Emulator { child, endpoint: format!("http://127.0.0.1:{port}"), _stdout: stdout })
}

/// `cargo xtask emulator`: an emulator for manual runs, until Enter or Ctrl-C.
fn emulator_forever() -> Result {
    let emu = start_emulator()?;
    println!("AWS emulator at {}; for this shell:", emu.endpoint);
    println!(
        "  export AWS_ENDPOINT_URL={} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true",
        emu.endpoint
    );
    println!("Press Enter to stop.");
    let _ = std::io::stdin().read_line(&mut String::new());
    Ok(())
}

/// The demo's webhook signing secret (a sample, like the emulator's credentials).
const DEMO_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// The demo's hand-made users, through boto3 (moto's dependency, in the venv); argv[1] is the
/// emulator's endpoint.
const DEMO_HANDMADE: &str = r#"
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
for name in ("ghopper", "alan.turing"):
    if not any(u["UserName"] == name for u in iam.list_users()["Users"]):
        iam.create_user(UserName=name)
        print(f"  created {name} by hand")
if not iam.list_access_keys(UserName="ghopper")["AccessKeyMetadata"]:
    iam.create_access_key(UserName="ghopper")
try:
    iam.create_login_profile(UserName="alan.turing", Password="Enigma-1912-hand-made!")
except iam.exceptions.EntityAlreadyExistsException:
    pass
"#;

/// What a demo runs with: the emulator it started, the built binaries and its config file.
struct Demo {
    emu: Emulator,
    target: PathBuf,
    config: PathBuf,
}

impl Demo {
    /// Builds the binaries, starts the emulator and writes the demo's config (`name`, `text`).
    fn start(name: &str, text: &str) -> Result<Self> {
        run(cargo().args(["build", "--quiet", "--package", "onboarding", "--package", "tests", "--bins"]))?;
        let emu = start_emulator()?;
        let target = target_dir()?;
        let config = target.join(name);
        std::fs::write(&config, text).map_err(|e| e.to_string())?;
        Ok(Self { emu, target, config })
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.target.join("debug").join(name)
    }

    /// `c` talking to the emulator, with none of the caller's AWS settings.
    fn aws(&self, mut c: Command) -> Command {
        c.current_dir(root())
            .env("AWS_ENDPOINT_URL", &self.emu.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE");
        c
    }

    /// `onboarding --config <the demo's> args`, against the emulator.
    fn onboarding(&self, args: &[&str]) -> Command {
        let mut c = self.aws(Command::new(self.bin("onboarding")));
        c.arg("--config").arg(&self.config).args(args).env("WORKDAY_SIGNING_SECRET", DEMO_SECRET);
        c
    }

    /// A Python snippet run with the project's boto3, given the emulator's endpoint.
    fn python(&self, snippet: &str) -> Result {
        run(Command::new(venv_python()?).args(["-c", snippet, &self.emu.endpoint]))
    }
}

/// A demo step's title.
fn step(title: &str) {
    println!("\n==> {title}");
    let _ = std::io::stdout().flush();
}

/// The sample events: the hires, then the rest (a transfer and two departures).
fn sample_events() -> Result<(Vec<String>, Vec<String>)> {
    let mut all: Vec<String> = std::fs::read_dir(root().join("events"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.strip_prefix(root()).unwrap_or(&p).display().to_string())
        .collect();
    all.sort();
    Ok(all.into_iter().partition(|f| f.contains("/hire-")))
}

fn demo(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        None => demo_iam(),
        Some("--identity-center") => demo_identity_center(),
        Some(other) => Err(format!("demo: unknown option `{other}`; use no option (IAM users) or --identity-center")),
    }
}

fn demo_iam() -> Result {
    // The shipped config, except for what the emulator lacks (service-specific credentials),
    // and with HR's webhook source `workday`, whose signing secret is in the environment.
    let shipped = std::fs::read_to_string(root().join("onboarding.toml")).map_err(|e| e.to_string())?;
    let source = "\n[[intake.sources]]\nname = \"workday\"\nsecret_env = \"WORKDAY_SIGNING_SECRET\"\n";
    // Access reviews: links signed with a key from the environment, for a page at serve's address.
    let review = "\n[review]\nfallback_reviewer = \"security.lead@example.com\"\n\
                  base_url = \"http://127.0.0.1:8080\"\nkey_env = \"DEMO_REVIEW_KEY\"\n";
    let text = shipped.replace("[retry]", "skip_service_specific_credentials = true\n\n[retry]") + source + review;
    let d = Demo::start("demo-onboarding.toml", &text)?;
    let (emu, target) = (&d.emu, &d.target);
    let bin = |name: &str| d.bin(name);
    let with_aws = |c: Command| d.aws(c);
    // The review links' key (`[review] key_env`), for every command: serve answers the page too.
    let onboarding = |args: &[&str]| {
        let mut c = d.onboarding(args);
        c.env("DEMO_REVIEW_KEY", "demo-review-key-not-a-real-secret-0123456789");
        c
    };
    let (events, later) = sample_events()?;
    let webhooks: Vec<String> = events.iter().map(|e| e.replace("events/", "events/webhooks/")).collect();

    step(&format!("emulator (moto, pinned) at {}", emu.endpoint));
    step("onboarding bootstrap");
    run(&mut onboarding(&["bootstrap"]))?;
    run(with_aws(Command::new(bin("demo-trail"))).arg("subscribe"))?;
    step(
        "day one: users someone made by hand before this system (ghopper with an access key, alan.turing with a password)",
    );
    d.python(DEMO_HANDMADE)?;
    step("onboarding roster import events/roster/day-one.csv (the plan: nothing changes)");
    run(&mut onboarding(&["roster", "import", "events/roster/day-one.csv"]))?;
    step("onboarding roster import --apply: adopts the two (their credentials kept, no welcome), creates Ada");
    run(&mut onboarding(&["roster", "import", "events/roster/day-one.csv", "--apply"]))?;
    step("onboarding plan (dry run: nothing changes)");
    run(&mut onboarding(&["plan", &events[0]]))?;
    step("onboarding serve: HR's front door, signed webhooks (Standard Webhooks v1)");
    let mut serve =
        onboarding(&["serve", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let mut served = BufReader::new(serve.stdout.take().ok_or("no serve stdout")?);
    let mut line = String::new();
    served.read_line(&mut line).map_err(|e| e.to_string())?;
    print!("{line}");
    let url = line.trim().strip_prefix("listening on ").ok_or_else(|| format!("serve said {line:?}"))?.to_owned();
    // What serve prints from here on (one report per processed event) is shown as it comes.
    let echo = std::thread::spawn(move || {
        for l in served.lines().map_while(std::result::Result::ok) {
            println!("  [serve] {l}");
        }
    });
    let post = |title: &str, file: &str, id: &str, extra: &[&str]| -> Result {
        step(&format!("POST {file} ({title})"));
        let mut args = vec!["sign", "--source", "workday", "--id", id, "--post", &url];
        args.extend_from_slice(extra);
        args.push(file);
        let status = onboarding(&args).status().map_err(|e| e.to_string())?;
        println!("(exit code {})", status.code().unwrap_or(-1));
        Ok(())
    };
    for (i, file) in webhooks.iter().enumerate() {
        post("a hire, signed", file, &format!("demo-{i}"), &[])?;
    }
    post("HR resends the first: 200, the first answer, nothing handed on twice", &webhooks[0], "demo-0", &[])?;
    let stale =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() - 600).unwrap_or(0);
    post(
        "signed ten minutes ago: 400, outside the 5-minute tolerance",
        &webhooks[0],
        "demo-stale",
        &["--timestamp", &stale.to_string()],
    )?;
    step("a sender with the wrong secret: 401, nothing handed on");
    let status = onboarding(&["sign", "--source", "workday", "--id", "demo-forged", "--post", &url, &webhooks[0]])
        .env("WORKDAY_SIGNING_SECRET", "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .status()
        .map_err(|e| e.to_string())?;
    println!("(exit code {})", status.code().unwrap_or(-1));
    step("SIGTERM to serve: it finishes every accepted event, then exits");
    run(Command::new("kill").args(["-TERM", &serve.id().to_string()]))?;
    let status = serve.wait().map_err(|e| e.to_string())?;
    let _ = echo.join();
    println!("(serve exited with {})", status.code().unwrap_or(-1));
    step("a bad event: a clear error naming the field, exit code 1, nothing created");
    let status = onboarding(&["run", "events/invalid/smuggled-groups.json"]).status().map_err(|e| e.to_string())?;
    println!("(exit code {})", status.code().unwrap_or(-1));
    step("an access review: every managed person's access frozen, each manager sent their link");
    run(&mut onboarding(&["review", "start", "--campaign", "demo-q4", "--due", "14d"]))?;
    run(&mut onboarding(&["review", "status", "demo-q4"]))?;
    step("nobody decided: close gives every item the default (keep); the evidence pack with its manifest");
    run(&mut onboarding(&["review", "close", "demo-q4"]))?;
    let pack = target.join("demo-review.csv").to_string_lossy().into_owned();
    run(&mut onboarding(&["--format", "csv", "review", "report", "demo-q4", "--out", &pack]))?;
    step(&format!("HR sends a transfer and two departures (one immediate): onboarding run {}", later.join(" ")));
    let mut args = vec!["run"];
    args.extend(later.iter().map(String::as_str));
    run(&mut onboarding(&args))?;
    step("the scheduled sweep, as it would run in June 2030: the last day has passed, the grace period too");
    run(&mut onboarding(&["sweep", "--now", "2030-06-29T00:00:00Z", "--allow-future-now"]))?;
    step("what AWS now holds, and what the audit and notification topics carried");
    let archive = target.join("demo-trail");
    let _ = std::fs::remove_dir_all(&archive);
    let archive = archive.to_string_lossy().into_owned();
    run(with_aws(Command::new(bin("demo-trail"))).args(["show", &archive]))?;
    // What an auditor sees, from the trail laid out as the archiver writes it to the bucket.
    let html = target.join("demo-audit-report.html").to_string_lossy().into_owned();
    let period = ["--from", "2026-01-01", "--to", "2030-12-31"];
    let audit = |what: &[&str]| {
        let mut args = vec!["--now", "2030-06-29T00:00:00Z", "audit", "--source", &archive];
        args.extend(what);
        args.extend(period);
        onboarding(&args)
    };
    step("the auditor's leaver SLA: onboarding audit leavers --sla 24h (the sweep ran as of June 2030)");
    run(&mut audit(&["leavers", "--sla", "24h"]))?;
    step(
        "the auditor's completeness check: one terminal record per delivery (the bad event failed and \
         nobody retried it, so exit 1 says the period is not clean)",
    );
    let status = audit(&["completeness"]).status().map_err(|e| e.to_string())?;
    println!("(exit code {})", status.code().unwrap_or(-1));
    step("the auditor's report, one self-contained HTML file");
    run(&mut audit(&["report", "--html", &html]))?;
    Ok(())
}

/// Identity Center before this system: a Control-Tower-style group and a `jane.doe` someone else
/// made, a member of it and of Developers.
const DEMO_IC_HANDMADE: &str = r#"
import sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
store = boto3.client("sso-admin", **kw).list_instances()["Instances"][0]["IdentityStoreId"]
ids = boto3.client("identitystore", **kw)
groups = {g["DisplayName"]: g["GroupId"] for g in ids.list_groups(IdentityStoreId=store)["Groups"]}
if "AWSControlTowerAdmins" not in groups:
    groups["AWSControlTowerAdmins"] = ids.create_group(IdentityStoreId=store, DisplayName="AWSControlTowerAdmins")["GroupId"]
    print("  created group AWSControlTowerAdmins by hand")
users = {u["UserName"]: u["UserId"] for u in ids.list_users(IdentityStoreId=store)["Users"]}
if "jane.doe" not in users:
    jane = ids.create_user(IdentityStoreId=store, UserName="jane.doe", DisplayName="Jane Doe",
                           Name={"GivenName": "Jane", "FamilyName": "Doe"},
                           Emails=[{"Value": "jane@contractor.example", "Primary": True}])["UserId"]
    for g in ("AWSControlTowerAdmins", "Developers"):
        ids.create_group_membership(IdentityStoreId=store, GroupId=groups[g], MemberId={"UserId": jane})
    print("  created user jane.doe by hand, in AWSControlTowerAdmins and Developers")
"#;

/// What Identity Center holds now: each user with its groups, and whom each permission set's
/// inline policy denies.
const DEMO_IC_SHOW: &str = r#"
import sys, json, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
admin = boto3.client("sso-admin", **kw)
instance = admin.list_instances()["Instances"][0]
store, arn = instance["IdentityStoreId"], instance["InstanceArn"]
ids = boto3.client("identitystore", **kw)
groups = {g["GroupId"]: g["DisplayName"] for g in ids.list_groups(IdentityStoreId=store)["Groups"]}
names = {}
for u in sorted(ids.list_users(IdentityStoreId=store)["Users"], key=lambda u: u["UserName"]):
    names[u["UserId"]] = u["UserName"]
    member = ids.list_group_memberships_for_member(IdentityStoreId=store, MemberId={"UserId": u["UserId"]})
    mine = sorted(groups[m["GroupId"]] for m in member["GroupMemberships"])
    print(f"  user {u['UserName']:<14} groups: {', '.join(mine) or '-'}")
for ps in admin.list_permission_sets(InstanceArn=arn)["PermissionSets"]:
    name = admin.describe_permission_set(InstanceArn=arn, PermissionSetArn=ps)["PermissionSet"]["Name"]
    doc = admin.get_inline_policy_for_permission_set(InstanceArn=arn, PermissionSetArn=ps).get("InlinePolicy") or "{}"
    denied = [v for s in json.loads(doc).get("Statement", []) for v in
              s.get("Condition", {}).get("StringEquals", {}).get("identitystore:userId", [])]
    shown = ", ".join(names.get(d, d + " (deleted)") for d in denied) or "nobody"
    print(f"  permission set {name:<10} denies: {shown}")
"#;

fn demo_identity_center() -> Result {
    // The shipped config with the shipped Identity Center sample appended.
    let shipped = std::fs::read_to_string(root().join("onboarding.toml")).map_err(|e| e.to_string())?;
    let sample = std::fs::read_to_string(root().join("onboarding.identity-center.toml")).map_err(|e| e.to_string())?;
    let d = Demo::start("demo-identity-center.toml", &format!("{shipped}\n{sample}"))?;
    let (hires, later) = sample_events()?;
    let exit = |c: &mut Command| -> Result {
        let status = c.status().map_err(|e| e.to_string())?;
        println!("(exit code {})", status.code().unwrap_or(-1));
        Ok(())
    };

    step(&format!("emulator (moto, pinned) at {}; target.kind = \"identity-center\"", d.emu.endpoint));
    step("onboarding bootstrap: the allowed groups, the permission sets, their assignments, the people table");
    run(&mut d.onboarding(&["bootstrap"]))?;
    step("onboarding doctor: what bootstrap made, checked against the config");
    exit(&mut d.onboarding(&["doctor"]))?;
    step("before this system: a Control-Tower-style group and a `jane.doe` someone else made");
    d.python(DEMO_IC_HANDMADE)?;
    step("onboarding plan (dry run: nothing changes)");
    run(&mut d.onboarding(&["plan", &hires[0]]))?;
    let mut args = vec!["run"];
    args.extend(hires.iter().map(String::as_str));
    step(&format!("HR's hires: onboarding {}", args.join(" ")));
    run(&mut d.onboarding(&args))?;
    step("HR resends the first: nothing changes");
    run(&mut d.onboarding(&["run", &hires[0]]))?;
    step("who has what (the hand-made jane.doe is not this system's; the hires are jane.doe2 and jane.doe3)");
    d.python(DEMO_IC_SHOW)?;
    let mut args = vec!["run"];
    args.extend(later.iter().map(String::as_str));
    step(&format!("HR sends a transfer and two departures (one immediate): onboarding {}", args.join(" ")));
    run(&mut d.onboarding(&args))?;
    step("the leaver is denied in every permission set this system manages, and in no group");
    d.python(DEMO_IC_SHOW)?;
    step(
        "the scheduled sweep, as it would run in June 2030: the last day has passed, the grace period too, but \
         not 9 hours of real time (the longest session, PT8H, plus one) since the immediate leaver's access \
         ended, so their user is not deleted yet (exit 1 says so): the deny entry must outlive every session",
    );
    exit(&mut d.onboarding(&["sweep", "--now", "2030-06-29T00:00:00Z", "--allow-future-now"]))?;
    step("what Identity Center holds now: both leavers denied, in no group");
    d.python(DEMO_IC_SHOW)?;
    step("the auditor's view: onboarding audit access");
    run(&mut d.onboarding(&["audit", "access"]))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_command_is_shown_without_its_environment() {
        let mut c = Command::new("false");
        c.arg("--flag").env("WORKDAY_SIGNING_SECRET", "whsec_not-to-be-shown");
        let e = run(&mut c).expect_err("`false` fails");
        assert!(e.starts_with("false --flag failed"), "{e}");
        assert!(!e.contains("whsec_"), "{e}");
    }

    #[test]
    fn the_target_directory_is_cargos_own() {
        // A user's CARGO_TARGET_DIR is honoured (cargo metadata resolves it, as cargo builds).
        let elsewhere = std::env::temp_dir().join(format!("xtask-target-{}", std::process::id()));
        let mut c = cargo();
        c.env("CARGO_TARGET_DIR", &elsewhere);
        assert_eq!(target_dir_of(c).expect("cargo metadata"), elsewhere);
        // And escaped characters in the JSON are read back.
        let json = r#"{"packages":[],"target_directory":"/a/b \"c\"\\d","version":1}"#;
        assert_eq!(target_directory(json), Some(PathBuf::from("/a/b \"c\"\\d")));
        assert_eq!(target_directory("{}"), None);
    }

    #[test]
    fn df_available_is_the_fourth_column_of_the_data_line() {
        let df = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                  /dev/vda         263174212 89128040 161342384      36% /\n";
        assert_eq!(df_available_kib(df), Some(161_342_384));
        assert_eq!(df_available_kib("Filesystem 1024-blocks Used Available Capacity Mounted on\n"), None);
        assert_eq!(df_available_kib(""), None);
    }
}
