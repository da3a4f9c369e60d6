//! BIRD's control socket, spoken directly (what `birdc` does).
//!
//! The protocol is line based: the server greets with `0001 BIRD <version>
//! ready.`, every command is one line, and every line of an answer starts
//! with a four-digit code followed by `-` when more lines follow or by a
//! space on the last one; a line starting with a space continues the
//! previous code. Codes from 8000 up are errors. `bird.conf` sets
//! `timeformat … "%s"` so that times are one word.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use ipnet::Ipv4Net;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// How long one answer may take (1,000s of routes take milliseconds).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// A control socket failure.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("bird control socket {path}: {source}")]
    Connect {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("bird control socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("bird closed its control socket")]
    Closed,
    #[error("bird did not answer {0:?} in time")]
    Timeout(String),
    #[error("bird refused {command:?}: {message}")]
    Refused { command: String, message: String },
}

/// One line of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The code (continuation lines carry the code of the line before).
    pub code: u16,
    pub text: String,
}

/// A connection to one bird's control socket.
#[derive(Debug)]
pub struct Control {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Control {
    /// Connects and reads the greeting.
    pub async fn connect(path: &Path) -> Result<Control, ControlError> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|source| ControlError::Connect {
                path: path.display().to_string(),
                source,
            })?;
        let (read, writer) = stream.into_split();
        let mut control = Control {
            reader: BufReader::new(read),
            writer,
        };
        let greeting = control.answer("(greeting)").await?;
        if greeting.first().is_none_or(|l| l.code != 1) {
            return Err(ControlError::Refused {
                command: "(greeting)".into(),
                message: format!("unexpected greeting {greeting:?}"),
            });
        }
        Ok(control)
    }

    /// Sends one command and returns its answer.
    pub async fn command(&mut self, command: &str) -> Result<Vec<Line>, ControlError> {
        self.writer
            .write_all(format!("{}\n", command.replace('\n', " ")).as_bytes())
            .await?;
        self.writer.flush().await?;
        let lines = self.answer(command).await?;
        if let Some(err) = lines.iter().find(|l| l.code >= 8000) {
            return Err(ControlError::Refused {
                command: command.to_owned(),
                message: err.text.clone(),
            });
        }
        Ok(lines)
    }

    async fn answer(&mut self, command: &str) -> Result<Vec<Line>, ControlError> {
        let read = async {
            let mut lines = Vec::new();
            let mut code = 0u16;
            loop {
                let mut raw = String::new();
                if self.reader.read_line(&mut raw).await? == 0 {
                    return Err(ControlError::Closed);
                }
                let raw = raw.trim_end_matches('\n');
                let (line, done) = parse_line(raw, code);
                code = line.code;
                lines.push(line);
                if done {
                    return Ok(lines);
                }
            }
        };
        tokio::time::timeout(ANSWER_TIMEOUT, read)
            .await
            .map_err(|_| ControlError::Timeout(command.to_owned()))?
    }
}

/// One raw line: its code (or `previous` for a continuation) and whether
/// it ends the answer.
fn parse_line(raw: &str, previous: u16) -> (Line, bool) {
    let bytes = raw.as_bytes();
    if bytes.len() >= 5 && bytes[..4].iter().all(u8::is_ascii_digit) {
        let code = raw[..4].parse().unwrap_or(0);
        let done = bytes[4] == b' ';
        return (
            Line {
                code,
                text: raw[5..].to_owned(),
            },
            done,
        );
    }
    (
        Line {
            code: previous,
            text: raw.strip_prefix(' ').unwrap_or(raw).to_owned(),
        },
        false,
    )
}

/// Parses a whole answer given as text (tests, fixtures).
pub fn parse_answer(text: &str) -> Vec<Line> {
    let mut code = 0;
    text.lines()
        .map(|raw| {
            let (line, _) = parse_line(raw, code);
            code = line.code;
            line
        })
        .collect()
}

/// One protocol of `show protocols all`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Protocol {
    pub name: String,
    /// `BGP`, `Static`, `Device`.
    pub kind: String,
    /// `up`, `start`, `down`, …
    pub state: String,
    /// Since when (seconds since the epoch).
    pub since: i64,
    /// The summary's last column (`Established`, `Connect`, `Active`, …).
    pub info: String,
    /// `BGP state:` (`Established`, `Connect`, `Active`, `OpenSent`, …).
    pub bgp_state: Option<String>,
    /// `Last error:`.
    pub last_error: Option<String>,
    /// `Neighbor address:`.
    pub neighbor: Option<String>,
}

/// `show protocols all` → one [`Protocol`] per protocol.
pub fn parse_protocols(lines: &[Line]) -> Vec<Protocol> {
    let mut out: Vec<Protocol> = Vec::new();
    for line in lines {
        match line.code {
            1002 => {
                let mut words = line.text.split_whitespace();
                let mut p = Protocol {
                    name: words.next().unwrap_or_default().to_owned(),
                    kind: words.next().unwrap_or_default().to_owned(),
                    ..Protocol::default()
                };
                let _table = words.next();
                p.state = words.next().unwrap_or_default().to_owned();
                p.since = words.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                p.info = words.collect::<Vec<_>>().join(" ");
                out.push(p);
            }
            1006 => {
                let Some(p) = out.last_mut() else { continue };
                let text = line.text.trim();
                if let Some(v) = text.strip_prefix("BGP state:") {
                    p.bgp_state = Some(v.trim().to_owned());
                } else if let Some(v) = text.strip_prefix("Last error:") {
                    p.last_error = Some(v.trim().to_owned());
                } else if let Some(v) = text.strip_prefix("Neighbor address:") {
                    p.neighbor = Some(v.trim().to_owned());
                }
            }
            _ => {}
        }
    }
    out
}

/// One route of `show route all`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub prefix: Ipv4Net,
    /// The protocol that brought it.
    pub protocol: String,
    /// The best route for its prefix (`*`).
    pub best: bool,
    /// `BGP.as_path`.
    pub as_path: Vec<u32>,
    /// `BGP.community`, as BIRD writes them: `(65000,100)`.
    pub communities: Vec<String>,
    /// `BGP.next_hop`.
    pub next_hop: Option<Ipv4Addr>,
}

/// `show route all` → every route (IPv4 only) with its BGP attributes.
pub fn parse_routes(lines: &[Line]) -> Vec<Route> {
    let mut out: Vec<Route> = Vec::new();
    let mut prefix: Option<Ipv4Net> = None;
    for line in lines {
        let text = line.text.as_str();
        if line.code == 1007 && !text.starts_with('\t') {
            if text.starts_with("Table ") {
                continue;
            }
            // `<prefix> <dest> [<protocol> <since> …] [*] (<pref>) …`, the
            // prefix left out (blank) for the other routes of a prefix.
            if !text.starts_with(' ') {
                prefix = text
                    .split_whitespace()
                    .next()
                    .and_then(|p| p.parse::<Ipv4Net>().ok());
            }
            let Some(p) = prefix else { continue };
            let protocol = text
                .split_once('[')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or_default()
                .trim_end_matches(']')
                .to_owned();
            let best = text
                .split_once(']')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('*'));
            out.push(Route {
                prefix: p,
                protocol,
                best,
                as_path: Vec::new(),
                communities: Vec::new(),
                next_hop: None,
            });
            continue;
        }
        let Some(r) = out.last_mut() else { continue };
        let attr = text.trim();
        if let Some(v) = attr.strip_prefix("BGP.as_path:") {
            r.as_path = v
                .split_whitespace()
                .filter_map(|a| a.parse().ok())
                .collect();
        } else if let Some(v) = attr.strip_prefix("BGP.community:") {
            r.communities = v.split_whitespace().map(str::to_owned).collect();
        } else if let Some(v) = attr.strip_prefix("BGP.next_hop:") {
            r.next_hop = v.split_whitespace().next().and_then(|a| a.parse().ok());
        }
    }
    out
}

/// What a BGP speaker is doing, in numbers (`vpngw lab`'s summary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// BGP protocols (one per session).
    pub sessions: usize,
    /// Of those, Established.
    pub established: usize,
    /// Distinct prefixes learned over BGP.
    pub prefixes: usize,
    /// Routes learned over BGP (a prefix learned by two sessions counts
    /// twice).
    pub routes: usize,
}

/// Counts `show protocols all` and `show route all` (routes of BGP
/// protocols only: what the speaker announces itself is not learned).
pub fn summarize(protocols: &[Protocol], routes: &[Route]) -> Summary {
    let bgp: std::collections::BTreeSet<&str> = protocols
        .iter()
        .filter(|p| p.kind == "BGP")
        .map(|p| p.name.as_str())
        .collect();
    let learned: Vec<&Route> = routes
        .iter()
        .filter(|r| bgp.contains(r.protocol.as_str()))
        .collect();
    Summary {
        sessions: bgp.len(),
        established: protocols
            .iter()
            .filter(|p| p.kind == "BGP" && p.bgp_state.as_deref() == Some("Established"))
            .count(),
        prefixes: learned
            .iter()
            .map(|r| r.prefix)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        routes: learned.len(),
    }
}

impl Control {
    /// [`summarize`] of what this BIRD is doing now.
    pub async fn summary(&mut self) -> Result<Summary, ControlError> {
        let protocols = parse_protocols(&self.command("show protocols all").await?);
        let routes = parse_routes(&self.command("show route all").await?);
        Ok(summarize(&protocols, &routes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTOCOLS: &str = include_str!("testdata/show_protocols_all.txt");
    const ROUTES: &str = include_str!("testdata/show_route_all.txt");
    const ALTERNATIVES: &str = include_str!("testdata/show_route_all_alternatives.txt");

    #[test]
    fn lines_and_their_codes() {
        let lines = parse_answer(
            "1002-t1  BGP\n1006-  BGP state: Established\n     Neighbor AS: 1\n0000 \n",
        );
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2].code, 1006);
        assert_eq!(lines[3].code, 0);
        assert!(parse_line("0000 ", 5).1);
        assert!(!parse_line("1002-x", 5).1);
        assert_eq!(
            parse_line(" x", 1006),
            (
                Line {
                    code: 1006,
                    text: "x".into()
                },
                false
            )
        );
    }

    #[test]
    fn protocols_with_their_bgp_state_and_last_error() {
        let p = parse_protocols(&parse_answer(PROTOCOLS));
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["device1", "vpc", "t1", "t2", "t3"]);
        assert_eq!(p[2].bgp_state.as_deref(), Some("Established"));
        assert_eq!(p[2].info, "Established");
        assert_eq!(p[2].since, 1796616179);
        assert_eq!(p[2].neighbor.as_deref(), Some("169.254.10.2"));
        assert_eq!(p[3].bgp_state.as_deref(), Some("Connect"));
        assert_eq!(p[3].last_error, None);
        assert_eq!(p[4].state, "start");
        assert_eq!(
            p[4].last_error.as_deref(),
            Some("Socket: Connection closed")
        );
        assert_eq!(p[4].info, "Active Socket: Connection closed");
    }

    #[test]
    fn routes_with_their_protocol_and_attributes() {
        let r = parse_routes(&parse_answer(ROUTES));
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[0].prefix,
            "172.16.0.0/24".parse::<Ipv4Net>().expect("net")
        );
        assert_eq!(r[0].protocol, "t1");
        assert!(r[0].best);
        assert_eq!(r[0].as_path, vec![65001]);
        assert_eq!(r[0].next_hop, Some(Ipv4Addr::new(169, 254, 10, 2)));
        assert_eq!(r[2].protocol, "vpc");

        let r = parse_routes(&parse_answer(ALTERNATIVES));
        assert_eq!(r.len(), 3);
        assert_eq!((r[0].protocol.as_str(), r[0].best), ("t1", true));
        assert_eq!(r[0].communities, ["(65000,7)", "(65000,100)"]);
        // The second route of the prefix: its line leaves the prefix out.
        assert_eq!(r[1].prefix, r[0].prefix);
        assert_eq!((r[1].protocol.as_str(), r[1].best), ("t2", false));
        assert_eq!(r[1].as_path, vec![65001, 64999, 65001]);
        assert!(r[1].communities.is_empty());
    }

    #[test]
    fn a_summary_counts_sessions_and_learned_prefixes() {
        let p = parse_protocols(&parse_answer(PROTOCOLS));
        let r = parse_routes(&parse_answer(ROUTES));
        // t1 Established, t2 Connect, t3 start; the static protocol's route
        // is the speaker's own, not learned.
        assert_eq!(
            summarize(&p, &r),
            Summary {
                sessions: 3,
                established: 1,
                prefixes: 2,
                routes: 2
            }
        );
        // One prefix learned by two sessions: one prefix, two routes.
        let r = parse_routes(&parse_answer(ALTERNATIVES));
        let s = summarize(&p, &r);
        assert_eq!((s.prefixes, s.routes), (1, 2));
        assert_eq!(summarize(&[], &r), Summary::default());
    }
}
