//! A real browser for the HTML the system writes: Chromium, headless, from Debian's packages
//! (`cargo xtask test` installs it). Without it, the report's test skips and says so; the review
//! page's test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser `CHROMIUM` names (as `cargo xtask test` honours it), else Chromium on `PATH`.
pub fn chromium() -> Option<PathBuf> {
    if let Some(c) = std::env::var_os("CHROMIUM").map(PathBuf::from).filter(|c| c.is_file()) {
        return Some(c);
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// What the browser made of a page: the DOM after parsing, and a screenshot (PNG).
pub struct Rendered {
    pub dom: String,
    pub png: Vec<u8>,
}

impl Rendered {
    /// The screenshot's width and height, from its PNG header.
    pub fn size(&self) -> Option<(u32, u32)> {
        let png = &self.png;
        if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
            return None;
        }
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        Some((be(&png[16..20]), be(&png[20..24])))
    }
}

/// Renders a local HTML file with no network: its DOM, and a `width` x `height` screenshot.
pub fn render(browser: &Path, page: &Path, width: u32, height: u32) -> Rendered {
    let profile = crate::scratch().join(format!("chromium-{}", std::process::id()));
    let shot = profile.join("shot.png");
    std::fs::create_dir_all(&profile).expect("profile dir");
    let url = format!("file://{}", page.canonicalize().expect("page").display());
    let run = |extra: &[String]| {
        let mut child = Command::new(browser)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
            // No network: a page that needs one shows it by missing parts.
            .args(["--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        // Read while it runs: a DOM larger than the pipe's buffer would block it otherwise.
        let mut stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
            out
        });
        let start = Instant::now();
        loop {
            if child.try_wait().expect("chromium").is_some() {
                break;
            }
            if start.elapsed() > Duration::from_secs(90) {
                let _ = child.kill();
                panic!("chromium did not finish within 90 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        reader.join().expect("dom")
    };
    let dom = run(&["--dump-dom".to_owned()]);
    run(&[format!("--screenshot={}", shot.display()), format!("--window-size={width},{height}")]);
    let png = std::fs::read(&shot).expect("screenshot");
    let _ = std::fs::remove_dir_all(&profile);
    Rendered { dom, png }
}
