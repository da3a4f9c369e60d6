//! OpenVPN's management interface (a unix socket in the server's state
//! directory): the clients connected now (`status 3`), ending a client's
//! session (`client-kill`), the server's log as it happens (`log on`, lines
//! arriving as `>LOG:` notifications between answers) and, with
//! `management-client-auth`, the clients waiting to be admitted
//! (`>CLIENT:CONNECT` / `>CLIENT:REAUTH` and their `>CLIENT:ENV` block,
//! answered with `client-auth-nt` or `client-deny`).
//!
//! The interface serves one client at a time, so the server part keeps one
//! connection and reads every answer through [`Management::command`], which
//! sets the notifications that arrive meanwhile aside.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// How long one answer may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// Log lines kept between two reads at most (the oldest go first).
const MAX_PENDING_LOG: usize = 2000;

/// A management interface failure.
#[derive(Debug, thiserror::Error)]
pub enum ManagementError {
    #[error("management socket {path}: {source}")]
    Connect {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("management interface: {0}")]
    Io(#[from] std::io::Error),
    #[error("management interface closed the connection")]
    Closed,
    #[error("management interface did not answer {0:?} in time")]
    Timeout(String),
    #[error("management interface refused {command:?}: {message}")]
    Refused { command: String, message: String },
}

/// One connected client, from `status 3`'s `CLIENT_LIST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectedClient {
    /// The certificate's common name (the certificate id).
    pub common_name: String,
    /// Where it connects from: address and port.
    pub real_address: String,
    pub real_port: String,
    /// The address it was given from the pool.
    pub virtual_address: String,
    /// Bytes the server received from it.
    pub bytes_received: u64,
    /// Bytes the server sent to it.
    pub bytes_sent: u64,
    /// When it connected (seconds since the epoch).
    pub connected_since: i64,
    pub client_id: String,
}

/// A client that passed the TLS handshake (its certificate is the CA's and
/// not revoked) and waits to be admitted (`management-client-auth`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdmissionRequest {
    /// `>CLIENT:CONNECT` (a new session) or `>CLIENT:REAUTH` (a session
    /// renegotiating its keys: already counted).
    pub reauth: bool,
    pub client_id: String,
    pub key_id: String,
    /// The `common_name`, `untrusted_ip` and `untrusted_port` of its
    /// environment.
    pub common_name: String,
    pub address: String,
    pub port: String,
}

/// One log line of the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Seconds since the epoch.
    pub time: i64,
    /// `I`nfo, `W`arning, `N`on-fatal error, `F`atal, `D`ebug.
    pub flags: String,
    pub message: String,
}

impl LogLine {
    /// `1700000000,I,message` (the management interface's form).
    fn parse(s: &str) -> Option<LogLine> {
        let mut parts = s.splitn(3, ',');
        let time = parts.next()?.parse().ok()?;
        let flags = parts.next()?.to_owned();
        let message = parts.next().unwrap_or("").to_owned();
        Some(LogLine {
            time,
            flags,
            message,
        })
    }

    /// The common name the line is about: OpenVPN prefixes a client's lines
    /// with `<common name>/<address>:<port>`, and names it in `CN=` while
    /// verifying its certificate.
    pub fn common_name(&self) -> Option<&str> {
        if let Some(i) = self.message.find("CN=") {
            let rest = &self.message[i + 3..];
            let end = rest.find([',', ' ', '/']).unwrap_or(rest.len());
            return Some(&rest[..end]).filter(|s| !s.is_empty());
        }
        let first = self.message.split_whitespace().next()?;
        let (cn, addr) = first.split_once('/')?;
        (addr.contains(':') && !cn.is_empty() && cn != "UNDEF").then_some(cn)
    }
}

/// `status 3` → the connected clients.
pub fn parse_status(lines: &[String]) -> Vec<ConnectedClient> {
    lines
        .iter()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.first() != Some(&"CLIENT_LIST") || f.len() < 11 {
                return None;
            }
            let (addr, port) = f[2].rsplit_once(':').unwrap_or((f[2], ""));
            Some(ConnectedClient {
                common_name: f[1].to_owned(),
                real_address: addr.to_owned(),
                real_port: port.to_owned(),
                virtual_address: f[3].to_owned(),
                bytes_received: f[5].parse().unwrap_or(0),
                bytes_sent: f[6].parse().unwrap_or(0),
                connected_since: f[8].parse().unwrap_or(0),
                client_id: f[10].to_owned(),
            })
        })
        .collect()
}

/// A connection to one server's management interface.
#[derive(Debug)]
pub struct Management {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    log: Vec<LogLine>,
    /// Clients waiting for an answer, their environment complete.
    admissions: Vec<AdmissionRequest>,
    /// The request whose `>CLIENT:ENV` lines are arriving.
    reading_env: Option<AdmissionRequest>,
    /// Bytes read but not yet returned as a line (the start of a line not
    /// complete yet, or lines after it).
    partial: Vec<u8>,
}

impl Management {
    /// Connects and turns on the real-time log.
    pub async fn connect(path: &Path) -> Result<Management, ManagementError> {
        let stream =
            UnixStream::connect(path)
                .await
                .map_err(|source| ManagementError::Connect {
                    path: path.display().to_string(),
                    source,
                })?;
        let mut m = Management::over(stream);
        m.command("log on").await?;
        Ok(m)
    }

    fn over(stream: UnixStream) -> Management {
        let (r, w) = stream.into_split();
        Management {
            reader: BufReader::new(r),
            writer: w,
            log: Vec::new(),
            admissions: Vec::new(),
            reading_env: None,
            partial: Vec::new(),
        }
    }

    /// The next line, or `None` when none is complete within `wait`.
    ///
    /// Bytes are moved from the socket into `partial` with `fill_buf` and
    /// `consume`, which lose nothing when the wait times out (tokio's
    /// `read_line` drops what it read when cancelled: a log line, or an
    /// answer's `END`, would be lost).
    async fn next_line(&mut self, wait: Duration) -> Result<Option<String>, ManagementError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.partial.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                return Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()));
            }
            let chunk = match tokio::time::timeout_at(deadline, self.reader.fill_buf()).await {
                Err(_) => return Ok(None),
                Ok(Err(e)) => return Err(e.into()),
                Ok(Ok(chunk)) => chunk,
            };
            if chunk.is_empty() {
                return Err(ManagementError::Closed);
            }
            let n = chunk.len();
            self.partial.extend_from_slice(chunk);
            self.reader.consume(n);
        }
    }

    fn notification(&mut self, line: &str) {
        if let Some(l) = line.strip_prefix(">LOG:").and_then(LogLine::parse) {
            if self.log.len() >= MAX_PENDING_LOG {
                self.log.remove(0);
            }
            self.log.push(l);
        } else if let Some(env) = line.strip_prefix(">CLIENT:ENV,") {
            // The environment of the last `>CLIENT:` header; only an
            // admission's is kept.
            let Some(r) = self.reading_env.as_mut() else {
                return;
            };
            match env.split_once('=') {
                Some(("common_name", v)) => r.common_name = v.to_owned(),
                Some(("untrusted_ip", v)) => r.address = v.to_owned(),
                Some(("untrusted_port", v)) => r.port = v.to_owned(),
                _ if env == "END" => self.admissions.extend(self.reading_env.take()),
                _ => {}
            }
        } else if let Some(header) = line.strip_prefix(">CLIENT:") {
            let mut f = header.split(',');
            let (kind, client_id, key_id) = (f.next(), f.next(), f.next());
            self.reading_env = match (kind, client_id, key_id) {
                (Some(k @ ("CONNECT" | "REAUTH")), Some(cid), Some(kid)) => {
                    Some(AdmissionRequest {
                        reauth: k == "REAUTH",
                        client_id: cid.to_owned(),
                        key_id: kid.to_owned(),
                        ..AdmissionRequest::default()
                    })
                }
                // ESTABLISHED, DISCONNECT, ADDRESS: nothing to answer.
                _ => None,
            };
        }
    }

    /// Sends `command`; its answer is the lines up to `END`, or the one
    /// `SUCCESS:` line. `ERROR:` is [`ManagementError::Refused`].
    pub async fn command(&mut self, command: &str) -> Result<Vec<String>, ManagementError> {
        self.writer
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        let mut out = Vec::new();
        loop {
            let line = self
                .next_line(ANSWER_TIMEOUT)
                .await?
                .ok_or_else(|| ManagementError::Timeout(command.to_owned()))?;
            if line.starts_with('>') {
                self.notification(&line);
            } else if let Some(m) = line.strip_prefix("ERROR:") {
                return Err(ManagementError::Refused {
                    command: command.to_owned(),
                    message: m.trim().to_owned(),
                });
            } else if line.starts_with("SUCCESS:") {
                out.push(line);
                return Ok(out);
            } else if line == "END" {
                return Ok(out);
            } else {
                out.push(line);
            }
        }
    }

    /// The clients connected now.
    pub async fn clients(&mut self) -> Result<Vec<ConnectedClient>, ManagementError> {
        Ok(parse_status(&self.command("status 3").await?))
    }

    /// Ends the session of the client `client_id` (`status 3`'s Client
    /// ID). The client is told to restart, so it learns at once rather than
    /// after its ping timeout (a UDP client would not notice otherwise), and
    /// its reconnection meets the CRL. False when it was gone already.
    pub async fn disconnect(&mut self, client_id: &str) -> Result<bool, ManagementError> {
        match self.command(&format!("client-kill {client_id}")).await {
            Ok(_) => Ok(true),
            Err(ManagementError::Refused { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Log lines since the last call: the notifications read so far and
    /// those waiting on the socket now (without waiting for more).
    pub async fn take_log(&mut self) -> Result<Vec<LogLine>, ManagementError> {
        self.read_waiting().await?;
        Ok(std::mem::take(&mut self.log))
    }

    async fn read_waiting(&mut self) -> Result<(), ManagementError> {
        while let Some(line) = self.next_line(Duration::ZERO).await? {
            self.notification(&line);
        }
        Ok(())
    }

    /// The clients waiting to be admitted since the last call (without
    /// waiting for more). Each must be answered with [`Self::admit`] or
    /// [`Self::refuse`]; OpenVPN drops one left unanswered after
    /// `hand-window` (60 s).
    pub async fn take_admissions(&mut self) -> Result<Vec<AdmissionRequest>, ManagementError> {
        self.read_waiting().await?;
        Ok(std::mem::take(&mut self.admissions))
    }

    /// Returns once a client waits to be admitted; other notifications
    /// read meanwhile are kept. Cancel-safe (nothing read is lost when the
    /// future is dropped).
    pub async fn admission_waiting(&mut self) -> Result<(), ManagementError> {
        while self.admissions.is_empty() {
            if let Some(line) = self.next_line(Duration::from_secs(3600)).await? {
                self.notification(&line);
            }
        }
        Ok(())
    }

    /// Lets the client in (`client-auth-nt`: no per-client configuration).
    pub async fn admit(&mut self, r: &AdmissionRequest) -> Result<(), ManagementError> {
        self.command(&format!("client-auth-nt {} {}", r.client_id, r.key_id))
            .await
            .map(drop)
    }

    /// Refuses the client: OpenVPN logs `reason` and sends the client
    /// `AUTH_FAILED,<reason>`, on which a stock client stops (it does not
    /// retry).
    pub async fn refuse(
        &mut self,
        r: &AdmissionRequest,
        reason: &str,
    ) -> Result<(), ManagementError> {
        let quoted = reason.replace(['"', '\\'], "'");
        self.command(&format!(
            "client-deny {} {} \"{quoted}\" \"{quoted}\"",
            r.client_id, r.key_id
        ))
        .await
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_line_cut_by_a_timeout_is_kept_whole() {
        let (ours, mut theirs) = UnixStream::pair().expect("socket pair");
        let mut m = Management::over(ours);
        theirs
            .write_all(b">LOG:1767225600,I,first\r\n>LOG:17672")
            .await
            .expect("write");
        assert_eq!(
            m.next_line(Duration::ZERO).await.expect("read").as_deref(),
            Some(">LOG:1767225600,I,first")
        );
        // Half a line: nothing yet, and nothing lost.
        assert_eq!(
            m.next_line(Duration::from_millis(20)).await.expect("read"),
            None
        );
        theirs
            .write_all(b"25601,I,second\r\nEND\r\n")
            .await
            .expect("write");
        assert_eq!(
            m.next_line(Duration::from_secs(1))
                .await
                .expect("read")
                .as_deref(),
            Some(">LOG:1767225601,I,second")
        );
        assert_eq!(
            m.next_line(Duration::ZERO).await.expect("read").as_deref(),
            Some("END")
        );
        drop(theirs);
        assert!(matches!(
            m.next_line(Duration::from_secs(1)).await,
            Err(ManagementError::Closed)
        ));
    }

    #[tokio::test]
    async fn admissions_come_with_their_environment() {
        let (ours, _theirs) = UnixStream::pair().expect("socket pair");
        let mut m = Management::over(ours);
        for line in [
            ">CLIENT:ESTABLISHED,3",
            ">CLIENT:ENV,common_name=vsc-old",
            ">CLIENT:ENV,END",
            ">CLIENT:CONNECT,4,1",
            ">CLIENT:ENV,untrusted_ip=198.18.1.2",
            ">CLIENT:ENV,untrusted_port=41234",
            ">CLIENT:ENV,common_name=vsc-new",
        ] {
            m.notification(line);
        }
        assert!(m.admissions.is_empty(), "not complete before ENV,END");
        m.notification(">CLIENT:ENV,END");
        m.notification(">CLIENT:REAUTH,4,2");
        m.notification(">CLIENT:ENV,common_name=vsc-new");
        m.notification(">CLIENT:ENV,END");
        let want = AdmissionRequest {
            reauth: false,
            client_id: "4".into(),
            key_id: "1".into(),
            common_name: "vsc-new".into(),
            address: "198.18.1.2".into(),
            port: "41234".into(),
        };
        assert_eq!(m.admissions[0], want);
        assert!(m.admissions[1].reauth && m.admissions[1].key_id == "2");
        assert_eq!(m.admissions.len(), 2);
    }

    #[test]
    fn parses_status_and_log_lines() {
        let lines: Vec<String> = [
            "TITLE\tOpenVPN 2.6.14",
            "HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tVirtual IPv6 Address\tBytes Received\tBytes Sent\tConnected Since\tConnected Since (time_t)\tUsername\tClient ID\tPeer ID\tData Channel Cipher",
            "CLIENT_LIST\tvsc-1\t198.18.1.2:41234\t10.200.0.6\t\t3547\t3310\t2026-01-01 00:00:00\t1767225600\tUNDEF\t0\t0\tAES-256-GCM",
            "ROUTING_TABLE\t10.200.0.6\tvsc-1\t198.18.1.2:41234\t2026-01-01 00:00:00\t1767225600",
            "GLOBAL_STATS\tMax bcast/mcast queue length\t0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = parse_status(&lines);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].common_name, "vsc-1");
        assert_eq!(c[0].real_address, "198.18.1.2");
        assert_eq!(c[0].real_port, "41234");
        assert_eq!(c[0].virtual_address, "10.200.0.6");
        assert_eq!((c[0].bytes_received, c[0].bytes_sent), (3547, 3310));
        assert_eq!(c[0].connected_since, 1_767_225_600);

        let l = LogLine::parse(
            "1767225600,I,vsc-1/198.18.1.2:41234 MULTI_sva: pool returned IPv4=10.200.0.6",
        )
        .unwrap();
        assert_eq!(l.common_name(), Some("vsc-1"));
        let v = LogLine::parse("1767225600,,198.18.1.2:1 VERIFY ERROR: depth=0, error=unable to get local issuer certificate: O=vpngw, CN=vsc-9, serial=3").unwrap();
        assert_eq!(v.common_name(), Some("vsc-9"));
        let n = LogLine::parse("1767225600,I,Initialization Sequence Completed").unwrap();
        assert_eq!(n.common_name(), None);
        assert!(LogLine::parse("garbage").is_none());
    }
}
