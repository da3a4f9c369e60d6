//! A vici client over `rsvici` (tokio), and diff-based apply of a
//! [`GatewayDesired`] onto a charon.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use futures_util::{StreamExt, TryStreamExt, pin_mut};
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinHandle;

use crate::conf::Section;
use crate::ipsec_server::is_server_name;
use crate::model::{GatewayDesired, StartAction};
use crate::render::{
    RenderOptions, RenderedSecret, RenderedTunnel, TunnelError, TunnelErrorKind, is_bgp_child_name,
    is_route_child_name, render_gateway,
};
use crate::status::{
    DataplaneEvent, IkeSaInfo, TunnelStatus, gateway_status, log_event, parse_ike_sas,
    updown_events,
};

/// A vici failure.
#[derive(Debug, thiserror::Error)]
pub enum ViciError {
    /// Could not connect to the socket.
    #[error("connecting to {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Transport or protocol error.
    #[error("vici {command}: {message}")]
    Transport {
        /// The command.
        command: &'static str,
        /// What rsvici said.
        message: String,
    },
    /// charon answered `success = no`.
    #[error("vici {command} failed: {message}")]
    Failed {
        /// The command.
        command: &'static str,
        /// charon's `errmsg`.
        message: String,
    },
    /// The command did not answer in time.
    #[error("vici {0} timed out")]
    Timeout(&'static str),
    /// charon closed the connection (it stopped or crashed).
    #[error("vici connection closed by charon")]
    Closed,
}

/// How long to wait for one vici command before giving up.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A vici connection to one charon. Commands are serialized (vici has no
/// request ids, so only one may be outstanding per connection).
///
/// rsvici's background listener never stops when charon closes the socket
/// (it retries the read in a tight loop and pending requests never
/// complete), so this wrapper watches rsvici's error stream: on the first
/// I/O error it marks the connection dead, fails pending and later commands
/// with [`ViciError::Closed`] and drops the rsvici client, which stops the
/// loop. Reconnect with [`Vici::connect`].
pub struct Vici {
    client: Arc<Mutex<Option<rsvici::Client>>>,
    dead: watch::Receiver<bool>,
    watcher: JoinHandle<()>,
    socket: PathBuf,
}

impl std::fmt::Debug for Vici {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vici")
            .field("socket", &self.socket)
            .field("dead", &*self.dead.borrow())
            .finish()
    }
}

impl Drop for Vici {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

fn check(command: &'static str, reply: Section) -> Result<Section, ViciError> {
    if reply.get_str("success") == Some("no") {
        return Err(ViciError::Failed {
            command,
            message: reply
                .get_str("errmsg")
                .unwrap_or("no error message")
                .to_string(),
        });
    }
    Ok(reply)
}

async fn connect_client(socket: &Path) -> Result<rsvici::Client, ViciError> {
    rsvici::unix::connect(socket)
        .await
        .map_err(|source| ViciError::Connect {
            path: socket.to_path_buf(),
            source,
        })
}

/// Resolves when the connection is marked dead.
async fn wait_dead(mut dead: watch::Receiver<bool>) {
    let _ = dead.wait_for(|d| *d).await;
}

impl Vici {
    /// Connect to a charon's vici socket.
    pub async fn connect(socket: impl Into<PathBuf>) -> Result<Vici, ViciError> {
        let socket = socket.into();
        let mut client = connect_client(&socket).await?;
        let mut errors = client.listen_for_errors();
        let client = Arc::new(Mutex::new(Some(client)));
        let (dead_tx, dead) = watch::channel(false);
        let holder = Arc::clone(&client);
        let watcher = tokio::spawn(async move {
            while let Some(e) = errors.next().await {
                if e.is_io() || e.is_closed() {
                    break;
                }
            }
            let _ = dead_tx.send(true);
            // Pending commands give up on `dead`, releasing the lock.
            holder.lock().await.take();
        });
        Ok(Vici {
            client,
            dead,
            watcher,
            socket,
        })
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// False once charon closed the connection.
    pub fn is_alive(&self) -> bool {
        !*self.dead.borrow()
    }

    /// Send one command and return its reply (checked for `success = no`).
    pub async fn command(
        &self,
        command: &'static str,
        message: &Section,
    ) -> Result<Section, ViciError> {
        let mut guard = self.client.lock().await;
        let Some(client) = guard.as_mut() else {
            return Err(ViciError::Closed);
        };
        let reply = tokio::select! {
            r = tokio::time::timeout(COMMAND_TIMEOUT, client.request::<&Section, Section>(command, message)) => r,
            () = wait_dead(self.dead.clone()) => return Err(ViciError::Closed),
        };
        let reply = reply
            .map_err(|_| ViciError::Timeout(command))?
            .map_err(|e| ViciError::Transport {
                command,
                message: e.to_string(),
            })?;
        check(command, reply)
    }

    /// `version`: daemon, version, sysname, ...
    pub async fn version(&self) -> Result<Section, ViciError> {
        self.command("version", &Section::new()).await
    }

    /// `get-algorithms`: the algorithms charon offers by type, each with the
    /// plugin providing it.
    pub async fn get_algorithms(&self) -> Result<Section, ViciError> {
        self.command("get-algorithms", &Section::new()).await
    }

    /// `stats`: uptime, workers, IKE SAs, and `plugins`, the plugins loaded.
    pub async fn stats(&self) -> Result<Section, ViciError> {
        self.command("stats", &Section::new()).await
    }

    /// `load-conn` for one tunnel.
    pub async fn load_conn(&self, tunnel: &RenderedTunnel) -> Result<(), ViciError> {
        self.load_conn_section(&tunnel.to_vici()).await
    }

    /// `load-conn` of a `{ <name> = { … } }` message.
    pub async fn load_conn_section(&self, message: &Section) -> Result<(), ViciError> {
        self.command("load-conn", message).await.map(drop)
    }

    /// `unload-conn`.
    pub async fn unload_conn(&self, name: &str) -> Result<(), ViciError> {
        self.command("unload-conn", &Section::new().kv("name", name))
            .await
            .map(drop)
    }

    /// `get-conns`: names of loaded connections.
    pub async fn get_conns(&self) -> Result<Vec<String>, ViciError> {
        let reply = self.command("get-conns", &Section::new()).await?;
        Ok(reply.get_list("conns"))
    }

    /// `load-shared` for one tunnel's PSK.
    pub async fn load_shared(&self, secret: &RenderedSecret) -> Result<(), ViciError> {
        self.command("load-shared", &secret.to_vici())
            .await
            .map(drop)
    }

    /// `unload-shared` by key id.
    pub async fn unload_shared(&self, id: &str) -> Result<(), ViciError> {
        self.command("unload-shared", &Section::new().kv("id", id))
            .await
            .map(drop)
    }

    /// `get-shared`: ids of shared keys loaded over vici.
    pub async fn get_shared(&self) -> Result<Vec<String>, ViciError> {
        let reply = self.command("get-shared", &Section::new()).await?;
        Ok(reply.get_list("keys"))
    }

    /// `initiate` a child of `ike` without waiting for the outcome (the
    /// outcome shows in `list-sas` and events).
    pub async fn initiate(&self, ike: &str, child: &str) -> Result<(), ViciError> {
        let msg = Section::new()
            .kv("ike", ike)
            .kv("child", child)
            .kv("timeout", "-1")
            .kv("init-limits", "no");
        self.command("initiate", &msg).await.map(drop)
    }

    /// `rekey` one CHILD_SA (by its unique id): its replacement is
    /// installed as the newest SA, which is the one kernel-libipsec sends
    /// through when several SAs have identical selectors.
    pub async fn rekey_child(&self, uniqueid: u64) -> Result<(), ViciError> {
        let msg = Section::new().kv("child-id", uniqueid.to_string());
        self.command("rekey", &msg).await.map(drop)
    }

    /// `terminate` every IKE SA of connection `ike` without waiting for the
    /// peer's answer. Succeeds when there is nothing to terminate.
    pub async fn terminate(&self, ike: &str) -> Result<(), ViciError> {
        let msg = Section::new()
            .kv("ike", ike)
            .kv("timeout", "-1")
            .kv("force", "yes");
        match self.command("terminate", &msg).await {
            Ok(_) => Ok(()),
            Err(ViciError::Failed { message, .. }) if message.contains("no matching") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `terminate` one IKE SA by its unique id (one client of an IPsec
    /// server), without waiting. Succeeds when it is already gone.
    pub async fn terminate_ike_sa(&self, uniqueid: u64) -> Result<(), ViciError> {
        let msg = Section::new()
            .kv("ike-id", uniqueid.to_string())
            .kv("timeout", "-1")
            .kv("force", "yes");
        match self.command("terminate", &msg).await {
            Ok(_) => Ok(()),
            Err(ViciError::Failed { message, .. }) if message.contains("no matching") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `load-pool`: a virtual IP pool (`{ <name> = { addrs = … } }`).
    pub async fn load_pool(&self, name: &str, pool: &Section) -> Result<(), ViciError> {
        self.command("load-pool", &Section::new().section(name, pool.clone()))
            .await
            .map(drop)
    }

    /// `unload-pool`. charon refuses while the pool has online leases.
    pub async fn unload_pool(&self, name: &str) -> Result<(), ViciError> {
        self.command("unload-pool", &Section::new().kv("name", name))
            .await
            .map(drop)
    }

    /// `get-pools`: names of the loaded pools.
    pub async fn get_pools(&self) -> Result<Vec<String>, ViciError> {
        let reply = self.command("get-pools", &Section::new()).await?;
        Ok(reply.sections().map(|(name, _)| name.to_owned()).collect())
    }

    /// `list-sas`: every IKE SA with its children.
    pub async fn list_sas(&self) -> Result<Vec<IkeSaInfo>, ViciError> {
        let mut guard = self.client.lock().await;
        let Some(client) = guard.as_mut() else {
            return Err(ViciError::Closed);
        };
        let fut = async {
            let stream =
                client.stream_request::<Section, Section>("list-sas", "list-sa", Section::new());
            pin_mut!(stream);
            let mut out = Vec::new();
            while let Some(ev) = stream.try_next().await.map_err(|e| ViciError::Transport {
                command: "list-sas",
                message: e.to_string(),
            })? {
                out.extend(parse_ike_sas(&ev));
            }
            Ok(out)
        };
        tokio::select! {
            r = tokio::time::timeout(COMMAND_TIMEOUT, fut) => r.map_err(|_| ViciError::Timeout("list-sas"))?,
            () = wait_dead(self.dead.clone()) => Err(ViciError::Closed),
        }
    }

    /// Subscribe (on a separate connection) to `ike-updown`, `child-updown`
    /// and `log`, keeping log lines about tunnels up to `max_log_level`
    /// (1 shows why a negotiation failed).
    pub async fn subscribe_events(
        socket: impl Into<PathBuf>,
        max_log_level: i64,
    ) -> Result<EventSubscription, ViciError> {
        let socket = socket.into();
        let mut client = connect_client(&socket).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut errors = client.listen_for_errors();
            let ike = client.subscribe::<Section>("ike-updown");
            let child = client.subscribe::<Section>("child-updown");
            let log = client.subscribe::<Section>("log");
            let ike = ike.map(|r| ("ike-updown", r));
            let child = child.map(|r| ("child-updown", r));
            let log = log.map(|r| ("log", r));
            let merged =
                futures_util::stream::select(ike, futures_util::stream::select(child, log));
            pin_mut!(merged);
            loop {
                let (name, item) = tokio::select! {
                    next = merged.next() => match next {
                        Some(x) => x,
                        None => break,
                    },
                    e = errors.next() => match e {
                        Some(e) if !(e.is_io() || e.is_closed()) => continue,
                        _ => break,
                    },
                };
                let Ok(section) = item else { break };
                let at = SystemTime::now();
                let events = if name == "log" {
                    log_event(&section, max_log_level, at).into_iter().collect()
                } else {
                    updown_events(name, &section, at)
                };
                for e in events {
                    if tx.send(e).is_err() {
                        return;
                    }
                }
            }
            // Dropping the client stops rsvici's listener.
            drop(client);
        });
        // rsvici registers each subscription when its stream is first polled
        // inside the task; give that a moment so that events caused right
        // after this call are not missed.
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(EventSubscription { rx, task })
    }
}

/// Events from one charon. Dropping it unsubscribes.
#[derive(Debug)]
pub struct EventSubscription {
    rx: mpsc::UnboundedReceiver<DataplaneEvent>,
    task: JoinHandle<()>,
}

impl EventSubscription {
    /// The next event (None when charon went away).
    pub async fn next(&mut self) -> Option<DataplaneEvent> {
        self.rx.recv().await
    }

    /// Every event received so far, without waiting.
    pub fn drain(&mut self) -> Vec<DataplaneEvent> {
        let mut out = Vec::new();
        while let Ok(e) = self.rx.try_recv() {
            out.push(e);
        }
        out
    }
}

impl Drop for EventSubscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What one [`Applier::apply`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Tunnels loaded because they were new or changed.
    pub loaded: Vec<String>,
    /// Tunnels already loaded with the same configuration.
    pub unchanged: Vec<String>,
    /// Tunnels whose route children alone changed: reloaded without
    /// renegotiating (charon starts the new children and closes the old).
    pub rerouted: Vec<String>,
    /// Tunnels unloaded (and their SAs terminated) because they disappeared
    /// or no longer render.
    pub unloaded: Vec<String>,
    /// Tunnels that could not be rendered or were refused by charon; each is
    /// `ike_sa_not_established` and deserves a log line.
    pub errors: Vec<TunnelError>,
}

impl ApplyReport {
    /// True when nothing was loaded or unloaded.
    pub fn is_noop(&self) -> bool {
        self.loaded.is_empty() && self.unloaded.is_empty()
    }
}

/// Applies desired configurations to one charon, loading only what
/// changed. It remembers what it loaded; on its first `apply` it also
/// removes connections and keys it finds in charon but not in the desired
/// state (after an agent restart), and reloads everything desired.
///
/// By default charon starts tunnels with `StartAction::Start` itself when
/// they are loaded. With [`Applier::started_by_caller`] it does not: they
/// are started by [`Applier::ensure_initiated`], at most
/// [`NEGOTIATING_AT_ONCE`] negotiating at a time, so that a gateway given
/// many tunnels at once negotiates them in waves instead of a storm of IKE
/// exchanges that makes both sides retransmit.
#[derive(Debug)]
pub struct Applier {
    vici: Vici,
    options: RenderOptions,
    applied: BTreeMap<String, RenderedTunnel>,
    synced: bool,
    /// Route and BGP children asked for again by [`Applier::ensure_initiated`], and when.
    child_retried: BTreeMap<(String, String), Instant>,
    /// Tunnels negotiating at once, at most, when the caller starts them
    /// (`None`: charon starts them on load).
    caller_starts: Option<usize>,
    /// Tunnels [`Applier::ensure_initiated`] started, when, and whether
    /// their IKE SA was seen since: each holds a place in the wave until
    /// its IKE SA is established or gone again (the peer refused it, or
    /// charon gave up), or for [`WAVE_PLACE_HELD`] at most.
    wave: BTreeMap<String, (Instant, bool)>,
    /// The last [`Applier::ensure_initiated`] left tunnels waiting for a
    /// place in the wave.
    wave_full: bool,
}

/// Tunnels an [`Applier::started_by_caller`] lets negotiate at once.
pub const NEGOTIATING_AT_ONCE: usize = 64;

/// How long a start holds its place in the wave at most. IKE takes tens of
/// milliseconds on a healthy pair; a peer that does not answer keeps charon
/// retransmitting for many seconds, and must not keep the other tunnels
/// from starting meanwhile (its next start waits for its back-off).
pub const WAVE_PLACE_HELD: Duration = Duration::from_secs(2);

/// How long after a start its IKE SA may still be missing from `list-sas`
/// without the start counting as failed (charon creates it in the
/// background; a refusal can also come and go between two looks).
pub const START_LISTED_WITHIN: Duration = Duration::from_millis(200);

/// How long a missing route or BGP child waits before it is initiated again.
pub const ROUTE_CHILD_RETRY: Duration = Duration::from_secs(5);

impl Applier {
    /// An applier over a vici connection.
    pub fn new(vici: Vici, options: RenderOptions) -> Self {
        Self {
            vici,
            options,
            applied: BTreeMap::new(),
            synced: false,
            child_retried: BTreeMap::new(),
            caller_starts: None,
            wave: BTreeMap::new(),
            wave_full: false,
        }
    }

    /// Tunnels are loaded without their start action: the caller starts
    /// them with [`Applier::ensure_initiated`], at most `at_once` (see
    /// [`NEGOTIATING_AT_ONCE`]) negotiating at a time.
    pub fn started_by_caller(mut self, at_once: usize) -> Self {
        self.caller_starts = Some(at_once.max(1));
        self
    }

    /// When [`Applier::ensure_initiated`] should be called again without an
    /// event: tunnels wait for a place in the wave, and the oldest place
    /// is given up then ([`WAVE_PLACE_HELD`]). An SA coming up frees its
    /// place earlier, with an event.
    pub fn wave_place_free_at(&self) -> Option<Instant> {
        if !self.wave_full {
            return None;
        }
        self.wave
            .values()
            .map(|(at, seen)| {
                // A start whose SA is not listed yet: gone (refused) or
                // late, it is known soon.
                *at + if *seen {
                    WAVE_PLACE_HELD
                } else {
                    START_LISTED_WITHIN
                }
            })
            .min()
    }

    /// The vici connection.
    pub fn vici(&self) -> &Vici {
        &self.vici
    }

    /// Swap in a new connection (after charon restarted or the old
    /// connection died). What charon holds is unknown again, so the next
    /// [`Applier::apply`] re-syncs and reloads everything desired.
    pub fn reconnect(&mut self, vici: Vici) {
        self.vici = vici;
        self.applied.clear();
        self.synced = false;
    }

    /// Render with other options from now on (e.g. after charon restarted
    /// with other plugins); the next [`Applier::apply`] loads what renders
    /// differently.
    pub fn set_options(&mut self, options: RenderOptions) {
        self.options = options;
    }

    /// Render options in use.
    pub fn options(&self) -> &RenderOptions {
        &self.options
    }

    /// Names of the tunnels currently loaded by this applier.
    pub fn loaded(&self) -> impl Iterator<Item = &str> {
        self.applied.keys().map(String::as_str)
    }

    async fn remove(&self, name: &str, secret_id: &str) -> Result<(), ViciError> {
        // Unloading first stops charon from re-initiating (start/trap).
        match self.vici.unload_conn(name).await {
            Ok(()) => {}
            Err(ViciError::Failed { .. }) => {} // not loaded
            Err(e) => return Err(e),
        }
        self.vici.terminate(name).await?;
        match self.vici.unload_shared(secret_id).await {
            Ok(()) | Err(ViciError::Failed { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Converge charon to `desired`: load new tunnels, renegotiate changed
    /// ones (their SAs are terminated, charon re-initiates with the new
    /// settings), unload and terminate removed ones, leave unchanged ones
    /// alone. Transport errors abort (the caller retries later); per-tunnel
    /// problems are in the report.
    pub async fn apply(&mut self, desired: &GatewayDesired) -> Result<ApplyReport, ViciError> {
        let rendered = render_gateway(desired, &self.options);
        let mut report = ApplyReport {
            errors: rendered.errors,
            ..ApplyReport::default()
        };
        let wanted: BTreeMap<String, RenderedTunnel> = rendered
            .tunnels
            .into_iter()
            .map(|t| (t.tunnel_id.clone(), t))
            .collect();

        if !self.synced {
            // Whatever charon holds that we did not load in this process is
            // either stale (remove it) or will be reloaded below. The IPsec
            // server's connection and key are not tunnels: they are its
            // applier's (`crate::ipsec_server`).
            for name in self.vici.get_conns().await? {
                if !wanted.contains_key(&name) && !is_server_name(&name) {
                    self.remove(&name, &format!("ike-{name}")).await?;
                    report.unloaded.push(name);
                }
            }
            for id in self.vici.get_shared().await? {
                let keep = id
                    .strip_prefix("ike-")
                    .is_some_and(|n| wanted.contains_key(n) || is_server_name(n));
                if !keep {
                    let _ = self.vici.unload_shared(&id).await;
                }
            }
            self.synced = true;
        }

        let gone: Vec<String> = self
            .applied
            .keys()
            .filter(|k| !wanted.contains_key(*k))
            .cloned()
            .collect();
        for name in gone {
            if let Some(old) = self.applied.remove(&name) {
                self.remove(&name, &old.secret.id).await?;
                report.unloaded.push(name);
            }
        }

        for (name, tunnel) in wanted {
            if self.applied.get(&name) == Some(&tunnel) {
                report.unchanged.push(name);
                continue;
            }
            let rejected = |command: &'static str, e: ViciError| TunnelError {
                connection_id: tunnel.connection_id.clone(),
                tunnel_id: name.clone(),
                kind: TunnelErrorKind::Rejected {
                    command,
                    message: e.to_string(),
                },
            };
            let old = self.applied.get(&name);
            if old.is_some_and(|o| {
                o.without_route_children() == tunnel.without_route_children()
                    && o.secret == tunnel.secret
            }) {
                match self.vici.load_conn(&tunnel).await {
                    Ok(()) => {
                        self.applied.insert(name.clone(), tunnel);
                        report.rerouted.push(name);
                    }
                    Err(e @ ViciError::Failed { .. }) => {
                        report.errors.push(rejected("load-conn", e))
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
            let changed = old.is_some();
            if changed {
                // The SAs negotiated with the old settings go. charon runs
                // start actions only for connections it has not seen, so
                // a changed one is initiated below.
                self.vici.terminate(&name).await?;
            }
            match self.vici.load_shared(&tunnel.secret).await {
                Ok(()) => {}
                Err(e @ ViciError::Failed { .. }) => {
                    report.errors.push(rejected("load-shared", e));
                    continue;
                }
                Err(e) => return Err(e),
            }
            let loaded = if self.caller_starts.is_some() {
                self.vici
                    .load_conn_section(&tunnel.to_vici_unstarted())
                    .await
            } else {
                self.vici.load_conn(&tunnel).await
            };
            match loaded {
                Ok(()) => {}
                Err(e @ ViciError::Failed { .. }) => {
                    report.errors.push(rejected("load-conn", e));
                    // Do not leave an older version of it running.
                    if self.applied.remove(&name).is_some() {
                        self.remove(&name, &tunnel.secret.id).await?;
                        report.unloaded.push(name.clone());
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
            if changed && tunnel.start_action == StartAction::Start && self.caller_starts.is_none()
            {
                for child in &tunnel.children {
                    self.vici.initiate(&name, child).await?;
                }
            }
            self.applied.insert(name.clone(), tunnel);
            report.loaded.push(name);
        }
        Ok(report)
    }

    /// Initiate every loaded tunnel with `StartAction::Start` that has no
    /// IKE SA at all (new with [`Applier::started_by_caller`], or after DPD
    /// cleared it, or the peer deleted it) and that `may_initiate` lets
    /// through (asked once per tunnel about to be initiated: the agent's
    /// back-off), and the route and BGP children missing from an established
    /// one (the peer closed, refused or could not install them), each at most
    /// every [`ROUTE_CHILD_RETRY`]. With [`Applier::started_by_caller`], only
    /// as many tunnels as leave at most its number of starts negotiating
    /// (each until its IKE SA is established or gone, [`WAVE_PLACE_HELD`] at most):
    /// the others wait for a later call (a wave). Call it periodically, when
    /// SAs come up, and at [`Applier::wave_place_free_at`]. Returns the
    /// tunnels initiated.
    pub async fn ensure_initiated(
        &mut self,
        may_initiate: &mut (dyn FnMut(&str) -> bool + Send),
    ) -> Result<Vec<String>, ViciError> {
        let sas = self.vici.list_sas().await?;
        let mut started = Vec::new();
        let now = Instant::now();
        self.child_retried
            .retain(|_, at| now.duration_since(*at) < ROUTE_CHILD_RETRY);
        // A start keeps its place while its tunnel negotiates, for
        // WAVE_PLACE_HELD at most: not once its IKE SA is established, nor
        // once the SA charon made for it is gone (refused: the place is
        // free for the next start, the tunnel waits for its back-off). The
        // SA of a start may not be listed yet on the next call (charon
        // initiates in the background), [`START_LISTED_WITHIN`] at most.
        self.wave.retain(|name, (at, seen)| {
            let mut mine = sas.iter().filter(|s| s.name == *name).peekable();
            let present = mine.peek().is_some();
            let established = mine.any(IkeSaInfo::is_established);
            let failed = !present && (*seen || now.duration_since(*at) >= START_LISTED_WITHIN);
            *seen |= present;
            now.duration_since(*at) < WAVE_PLACE_HELD
                && self.applied.contains_key(name)
                && !established
                && !failed
        });
        let mut room = self
            .caller_starts
            .map(|at_once| at_once.saturating_sub(self.wave.len()));
        self.wave_full = false;
        for (name, t) in &self.applied {
            if t.start_action != StartAction::Start {
                continue;
            }
            let mine: Vec<&IkeSaInfo> = sas.iter().filter(|s| s.name == *name).collect();
            if mine.is_empty() {
                if room == Some(0) {
                    // The wave is full: a later call starts it.
                    self.wave_full = true;
                    continue;
                }
                if !may_initiate(name) {
                    continue;
                }
                for child in &t.children {
                    self.vici.initiate(name, child).await?;
                }
                if let Some(r) = room.as_mut() {
                    *r -= 1;
                    self.wave.insert(name.clone(), (now, false));
                }
                started.push(name.clone());
                continue;
            }
            if !mine.iter().any(|s| s.is_established()) {
                continue;
            }
            // The BGP child too: the session runs only through it, and a
            // peer that refused it once (its configuration arrived after
            // ours) would otherwise keep BGP down until the IKE SA rekeys.
            let retried = |c: &&String| is_route_child_name(name, c) || is_bgp_child_name(name, c);
            for child in t.children.iter().filter(retried) {
                let present = mine
                    .iter()
                    .any(|s| s.children.iter().any(|c| c.name == *child));
                let key = (name.clone(), child.clone());
                if present || self.child_retried.contains_key(&key) {
                    continue;
                }
                self.vici.initiate(name, child).await?;
                self.child_retried.insert(key, now);
            }
        }
        Ok(started)
    }

    /// Status of every tunnel of `desired` (tunnels with errors are
    /// `ike_sa_not_established`).
    pub async fn status(
        &self,
        desired: &GatewayDesired,
    ) -> Result<std::collections::HashMap<String, TunnelStatus>, ViciError> {
        let sas = self.vici.list_sas().await?;
        Ok(gateway_status(desired, &sas))
    }
}
