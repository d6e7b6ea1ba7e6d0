//! The results: a Markdown table on stdout (one row per scenario, a column per system, the
//! ratios cloudsso/limit and cloudsso/fastest peer) and the same as JSON.

use serde::Serialize;

#[derive(Serialize, Clone, Debug)]
pub struct Measure {
    /// Requests per second, or for a sync, users per second.
    pub rate: f64,
    pub unit: &'static str,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// The server's VmHWM after the scenario.
    pub peak_rss_bytes: Option<u64>,
    /// CPU time the server process used per request during the scenario, in microseconds.
    pub server_cpu_us: Option<f64>,
    /// The same for the load generator (this process), the share of the two cores every
    /// system has to leave to it.
    pub client_cpu_us: Option<f64>,
    /// For a sync: wall time of the whole run.
    pub total_s: Option<f64>,
    pub note: Option<String>,
}

#[derive(Serialize, Clone, Debug)]
pub enum Cell {
    #[serde(rename = "measured")]
    Measured(Measure),
    #[serde(rename = "n/a")]
    NotApplicable(String),
}

#[derive(Serialize, Debug)]
pub struct Row {
    pub key: String,
    pub title: String,
    /// In the order of `Report::systems`.
    pub cells: Vec<(String, Cell)>,
}

/// A figure that is not a load scenario: load time, cold start, file size.
#[derive(Serialize, Debug)]
pub struct Fact {
    pub system: String,
    pub name: String,
    pub value: String,
}

#[derive(Serialize, Debug)]
pub struct Report {
    pub mode: &'static str,
    pub command: String,
    pub machine: String,
    pub systems: Vec<String>,
    pub rows: Vec<Row>,
    pub facts: Vec<Fact>,
    pub wall_s: f64,
}

pub const CLOUDSSO: &str = "cloudsso";
pub const LIMIT: &str = "limit";
pub const PEERS: [&str; 2] = ["scim2-server", "SCIMMY"];

impl Row {
    fn measured(&self, system: &str) -> Option<&Measure> {
        self.cells.iter().find_map(|(s, c)| match c {
            Cell::Measured(m) if s == system && m.requests > m.errors => Some(m),
            _ => None,
        })
    }

    pub fn vs_limit(&self) -> Option<f64> {
        Some(self.measured(CLOUDSSO)?.rate / self.measured(LIMIT)?.rate)
    }

    pub fn vs_fastest_peer(&self) -> Option<(f64, &'static str)> {
        let fastest = PEERS
            .iter()
            .filter_map(|p| self.measured(p).map(|m| (m.rate, *p)))
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        Some((self.measured(CLOUDSSO)?.rate / fastest.0, fastest.1))
    }
}

pub fn thousands(v: f64) -> String {
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.0} ms")
    }
}

fn ratio(r: f64) -> String {
    if r < 0.1 {
        format!("{r:.3}x")
    } else if r < 10.0 {
        format!("{r:.2}x")
    } else {
        format!("{r:.1}x")
    }
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::NotApplicable(why) => format!("n/a ({why})"),
        Cell::Measured(m) => {
            let mut s = format!("{}/s, p99 {}", thousands(m.rate), ms(m.p99_ms));
            if let Some(t) = m.total_s {
                s.push_str(&format!(", total {t:.1} s"));
            }
            if m.errors > 0 {
                s.push_str(&format!(", {} errors", m.errors));
            }
            if let Some(n) = &m.note {
                s.push_str(&format!(" ({n})"));
            }
            s
        }
    }
}

impl Report {
    /// CPU microseconds per request, server by server, and the load generator's during the
    /// cloudsso run: where each system's share of the two cores goes.
    fn cpu_markdown(&self) -> String {
        let mut out = String::from("CPU time per request (microseconds, server process):\n\n");
        out.push_str(&self.header(&["load generator"]));
        let us = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}"));
        for row in &self.rows {
            out.push_str(&format!("| {} |", row.title));
            let measured = |s: &str| {
                row.cells.iter().find_map(|(name, c)| match c {
                    Cell::Measured(m) if name == s => Some(m),
                    _ => None,
                })
            };
            for s in &self.systems {
                out.push_str(&format!(
                    " {} |",
                    us(measured(s).and_then(|m| m.server_cpu_us))
                ));
            }
            let client = measured(CLOUDSSO).and_then(|m| m.client_cpu_us);
            out.push_str(&format!(" {} |\n", us(client)));
        }
        out
    }

    /// A table's header: the scenario, one column a system, then `extra`.
    fn header(&self, extra: &[&str]) -> String {
        let names: Vec<&str> = self.systems.iter().map(String::as_str).collect();
        let columns: Vec<&str> = std::iter::once("scenario")
            .chain(names)
            .chain(extra.iter().copied())
            .collect();
        format!(
            "| {} |\n|{}\n",
            columns.join(" | "),
            "---|".repeat(columns.len())
        )
    }

    pub fn markdown(&self) -> String {
        let mut out = self.header(&["cloudsso/limit", "cloudsso/fastest peer"]);
        for row in &self.rows {
            out.push_str(&format!("| {} |", row.title));
            for s in &self.systems {
                let text = row
                    .cells
                    .iter()
                    .find(|(name, _)| name == s)
                    .map_or_else(|| "not run".to_owned(), |(_, c)| cell_text(c));
                out.push_str(&format!(" {text} |"));
            }
            let vs_limit = row.vs_limit().map_or_else(|| "-".to_owned(), ratio);
            let vs_peer = row
                .vs_fastest_peer()
                .map_or_else(|| "-".to_owned(), |(r, p)| format!("{} ({p})", ratio(r)));
            out.push_str(&format!(" {vs_limit} | {vs_peer} |\n"));
        }
        out.push('\n');
        out.push_str(&self.cpu_markdown());
        out.push('\n');
        out.push_str("Peak RSS (VmHWM at the end of each system's run):");
        for s in &self.systems {
            let peak = self
                .rows
                .iter()
                .flat_map(|r| r.cells.iter())
                .filter(|(name, _)| name == s)
                .filter_map(|(_, c)| match c {
                    Cell::Measured(m) => m.peak_rss_bytes,
                    Cell::NotApplicable(_) => None,
                })
                .max();
            if let Some(p) = peak {
                out.push_str(&format!(" {s} {:.0} MiB;", p as f64 / 1048576.0));
            }
        }
        out.push('\n');
        for f in &self.facts {
            out.push_str(&format!("\n- {}: {}: {}", f.system, f.name, f.value));
        }
        out.push('\n');
        out
    }
}
