//! Starting and stopping the measured systems as child processes on 127.0.0.1: cloudsso, the
//! limit (this binary again, with `--limit-server`), and the peers, installed on demand into
//! the ignored `benches/.peers/`. Every child is owned by a `Proc`, which kills it when dropped,
//! also while unwinding from a panic.

use crate::load::Target;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, stopped (SIGTERM, then SIGKILL after 5 s) when dropped.
pub struct Proc {
    child: Child,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM and wait; returns whether it exited by itself within 10 s.
    pub fn stop(mut self) -> bool {
        self.terminate(Duration::from_secs(10))
    }

    fn terminate(&mut self, grace: Duration) -> bool {
        if let Ok(Some(_)) = self.child.try_wait() {
            return true;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .stderr(Stdio::null())
            .status();
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.terminate(Duration::from_secs(5));
    }
}

/// Spawns `cmd` and reads one of its streams (stdout or stderr) until `ready` finds a value
/// in a line; the stream keeps being drained afterwards so the child never blocks on it.
/// Returns the child, the value and how long it took.
fn spawn_until(
    mut cmd: Command,
    from_stderr: bool,
    ready: fn(&str) -> Option<String>,
    timeout: Duration,
) -> Result<(Proc, String, Duration), String> {
    let started = Instant::now();
    if from_stderr {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let mut child = cmd.spawn().map_err(|e| format!("spawn {cmd:?}: {e}"))?;
    let stream: Box<dyn Read + Send> = if from_stderr {
        Box::new(child.stderr.take().ok_or("no stderr")?)
    } else {
        // stderr is drained separately and kept for error messages.
        if let Some(err) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines() {
                    let Ok(line) = line else { break };
                    if std::env::var_os("SCIM_LOAD_LOG").is_some() {
                        eprintln!("[child] {line}");
                    }
                }
            });
        }
        Box::new(child.stdout.take().ok_or("no stdout")?)
    };
    let proc = Proc { child };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if std::env::var_os("SCIM_LOAD_LOG").is_some() {
                eprintln!("[child] {line}");
            }
            if !sent && let Some(v) = ready(&line) {
                let _ = tx.send(v);
                sent = true;
            }
        }
    });
    match rx.recv_timeout(timeout) {
        Ok(v) => Ok((proc, v, started.elapsed())),
        Err(_) => Err(format!("{cmd:?} did not become ready in {timeout:?}")),
    }
}

fn listening_port(line: &str) -> Option<String> {
    line.strip_prefix("listening ")
        .map(|p| format!("127.0.0.1:{}", p.trim()))
}

fn cloudsso_serving(line: &str) -> Option<String> {
    if !line.contains("cloudsso serving") {
        return None;
    }
    line.split("listen=")
        .nth(1)?
        .split_whitespace()
        .next()
        .map(str::to_owned)
}

/// A running system under test.
pub struct Running {
    pub proc: Proc,
    pub target: Target,
    /// From spawn to accepting requests.
    pub startup: Duration,
}

fn addr(s: &str) -> Result<std::net::SocketAddr, String> {
    s.parse().map_err(|e| format!("address `{s}`: {e}"))
}

/// Starts `cloudsso serve` on an existing or new data folder.
pub fn cloudsso(data: &Path, extra: &[String]) -> Result<Running, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudsso"));
    cmd.arg("serve")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data")
        .arg(data)
        .args(extra)
        .env("CLOUDSSO_LOG", "warn,cloudsso=info");
    let (proc, listen, startup) =
        spawn_until(cmd, true, cloudsso_serving, Duration::from_secs(600))?;
    let boot = std::fs::read(data.join("bootstrap.json")).map_err(|e| e.to_string())?;
    let boot: serde_json::Value = serde_json::from_slice(&boot).map_err(|e| e.to_string())?;
    Ok(Running {
        proc,
        target: Target {
            addr: addr(&listen)?,
            base: "/scim/v2".into(),
            token: boot["scim_token"].as_str().unwrap_or_default().to_owned(),
        },
        startup,
    })
}

/// Starts the limit: this bench binary serving the captured routes from `routes` (a JSON file).
pub fn limit(routes: &Path) -> Result<Running, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.arg("--limit-server").arg(routes);
    let (proc, listen, startup) = spawn_until(cmd, false, listening_port, Duration::from_secs(30))?;
    Ok(Running {
        proc,
        target: Target {
            addr: addr(&listen)?,
            base: "/scim/v2".into(),
            token: "unused".into(),
        },
        startup,
    })
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn peers_dir() -> PathBuf {
    root().join("benches/.peers")
}

fn run_quiet(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").trim().to_owned();
        Err(format!("{what} failed: {last}"))
    }
}

pub const PY_PACKAGES: [&str; 2] = ["scim2-server==0.8.3", "waitress==3.0.2"];
pub const NPM_PACKAGES: [&str; 3] = ["scimmy@1.3.5", "scimmy-routers@1.3.2", "express@5.3.0"];

/// Installs scim2-server and waitress into `benches/.peers/venv` unless there.
pub fn install_python_peer() -> Result<PathBuf, String> {
    let venv = peers_dir().join("venv");
    let python = venv.join("bin/python");
    let marker = venv.join(".scim_load-installed");
    if python.exists() && marker.exists() {
        return Ok(python);
    }
    std::fs::create_dir_all(peers_dir()).map_err(|e| e.to_string())?;
    run_quiet(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "python3 -m venv",
    )?;
    run_quiet(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(PY_PACKAGES),
        "pip install scim2-server waitress",
    )?;
    std::fs::write(&marker, PY_PACKAGES.join("\n")).map_err(|e| e.to_string())?;
    Ok(python)
}

/// Installs SCIMMY, scimmy-routers and express into `benches/.peers/node` unless there, and
/// copies the server script next to its node_modules (ES modules resolve from there).
pub fn install_node_peer() -> Result<PathBuf, String> {
    let dir = peers_dir().join("node");
    let marker = dir.join(".scim_load-installed");
    if !marker.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.join("package.json"),
            "{\"name\":\"scim-load-peers\",\"private\":true,\"type\":\"module\"}\n",
        )
        .map_err(|e| e.to_string())?;
        run_quiet(
            Command::new("npm")
                .current_dir(&dir)
                .args(["install", "--silent", "--no-audit", "--no-fund"])
                .args(NPM_PACKAGES),
            "npm install scimmy scimmy-routers express",
        )?;
        std::fs::write(&marker, NPM_PACKAGES.join("\n")).map_err(|e| e.to_string())?;
    }
    let script = dir.join("scimmy-server.mjs");
    std::fs::copy(
        root().join("benches/scim_load/peers/scimmy-server.js"),
        &script,
    )
    .map_err(|e| e.to_string())?;
    Ok(script)
}

pub const PEER_TOKEN: &str = "scim-load-peer-token";

/// python-scim's scim2-server under waitress (4 threads, waitress's default).
pub fn python_peer(python: &Path) -> Result<Running, String> {
    let mut cmd = Command::new(python);
    cmd.arg(root().join("benches/scim_load/peers/scim2_server_app.py"))
        .arg(PEER_TOKEN)
        .arg("4");
    let (proc, listen, startup) = spawn_until(cmd, false, listening_port, Duration::from_secs(60))?;
    Ok(Running {
        proc,
        target: Target {
            addr: addr(&listen)?,
            base: "/v2".into(),
            token: PEER_TOKEN.into(),
        },
        startup,
    })
}

/// SCIMMY + scimmy-routers on express, in memory.
pub fn node_peer(script: &Path) -> Result<Running, String> {
    let mut cmd = Command::new("node");
    cmd.arg(script).arg(PEER_TOKEN);
    let (proc, listen, startup) = spawn_until(cmd, false, listening_port, Duration::from_secs(60))?;
    Ok(Running {
        proc,
        target: Target {
            addr: addr(&listen)?,
            base: "/scim/v2".into(),
            token: PEER_TOKEN.into(),
        },
        startup,
    })
}
