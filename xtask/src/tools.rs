//! What the tests and the demo need installed and running: the emulator (pinned moto in the
//! project's venv), the simulator's and the browser driver's node packages, headless Chromium.

use super::*;

/// The project-local venv with the pinned emulator; created or updated when the pin changes.
pub(crate) fn venv_python() -> Result<PathBuf> {
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
pub(crate) fn install_node_tools() -> Result {
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
pub(crate) fn install_chromium() -> Result {
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

/// A running emulator; stops when dropped (its stdin closes).
pub(crate) struct Emulator {
    child: Child,
    pub(crate) endpoint: String,
    /// Kept open: the emulator must never write into a closed pipe.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

pub(crate) fn start_emulator() -> Result<Emulator> {
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
pub(crate) fn emulator_forever() -> Result {
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
