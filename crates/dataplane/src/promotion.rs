//! Making [`Forwarding`] true on a running charon, beyond its configuration:
//!
//! - [`Promoter`]: where several tunnels hold identical selectors,
//!   kernel-libipsec sends through the SA installed last. The promoter
//!   watches which child SAs appear (their unique ids) and says which child
//!   to rekey so that the tunnel [`Forwarding::promotions`] names is the
//!   newest: at start (the order is unknown), when the promoted tunnel
//!   changes, and whenever another holder's SA was installed since (its own
//!   rekey, or its tunnel coming back). Two SAs that appear between two
//!   looks could have been installed in either order, so that counts as
//!   "another holder's is newer" too. Unique ids alone do not give the
//!   order: charon numbers a child when it starts negotiating it.
//! - [`rules`]: the `ip rule`s for [`Forwarding::blocks`] and
//!   [`Forwarding::exempt`], ahead of charon's table 220.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use ipnet::Ipv4Net;

use crate::forwarding::{Forwarding, Selector};
use crate::status::IkeSaInfo;

/// One installed CHILD_SA and the selector pairs it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledChild {
    /// Its tunnel (charon connection name).
    pub tunnel: String,
    pub uniqueid: u64,
    /// Every (local, remote) pair of its traffic selectors.
    pub selectors: Vec<Selector>,
}

/// The installed child SAs of established IKE SAs, from `list-sas`.
pub fn installed_children(sas: &[IkeSaInfo]) -> Vec<InstalledChild> {
    let mut out = Vec::new();
    for sa in sas.iter().filter(|s| s.is_established()) {
        for c in sa.children.iter().filter(|c| c.is_installed()) {
            let nets = |ts: &[String]| -> Vec<Ipv4Net> {
                ts.iter()
                    .filter_map(|t| t.parse::<Ipv4Net>().ok())
                    .collect()
            };
            let (local, remote) = (nets(&c.local_ts), nets(&c.remote_ts));
            let selectors = local
                .iter()
                .flat_map(|l| remote.iter().map(move |r| Selector::new(*l, *r)))
                .collect();
            out.push(InstalledChild {
                tunnel: sa.name.clone(),
                uniqueid: c.uniqueid,
                selectors,
            });
        }
    }
    out
}

/// One rekey to do: the child SA `uniqueid` of `tunnel`, so that it is the
/// newest holder of `selector`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promotion {
    pub selector: Selector,
    pub tunnel: String,
    pub uniqueid: u64,
}

/// See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Promoter {
    /// Child SAs seen at the last look.
    seen: HashSet<u64>,
    /// Per selector: the promoted tunnel and its child known to be the
    /// newest (0 while its rekey is under way).
    newest: HashMap<Selector, (String, u64)>,
}

impl Promoter {
    /// What to rekey now, given the child SAs installed and the promotions
    /// wanted. Call after every look at `list-sas`.
    pub fn plan(
        &mut self,
        installed: &[InstalledChild],
        promotions: &BTreeMap<Selector, String>,
    ) -> Vec<Promotion> {
        let mut out = Vec::new();
        for (selector, winner) in promotions {
            let holders: Vec<&InstalledChild> = installed
                .iter()
                .filter(|c| c.selectors.contains(selector))
                .collect();
            let Some(mine) = holders
                .iter()
                .filter(|c| &c.tunnel == winner)
                .max_by_key(|c| c.uniqueid)
            else {
                // The winner's child is not installed (yet): nothing to do.
                continue;
            };
            let others_new = holders
                .iter()
                .any(|c| &c.tunnel != winner && !self.seen.contains(&c.uniqueid));
            let mine_new = !self.seen.contains(&mine.uniqueid);
            let known = match self.newest.get(selector) {
                // Still the child we know is newest, or its replacement
                // (a rekey: ours or charon's) that appeared alone.
                Some((t, uid)) if t == winner => *uid == mine.uniqueid || mine_new,
                _ => false,
            };
            if known && !others_new {
                self.newest
                    .insert(*selector, (winner.clone(), mine.uniqueid));
            } else {
                out.push(Promotion {
                    selector: *selector,
                    tunnel: winner.clone(),
                    uniqueid: mine.uniqueid,
                });
                self.newest.insert(*selector, (winner.clone(), 0));
            }
        }
        self.newest.retain(|s, _| promotions.contains_key(s));
        self.seen = installed.iter().map(|c| c.uniqueid).collect();
        out
    }

    /// Forget everything (charon restarted: the order is unknown again).
    pub fn forget(&mut self) {
        *self = Promoter::default();
    }
}

/// `ip rule` priority that sends charon's own packets (mark
/// [`crate::charon::CHARON_FWMARK`]) past the blocks.
pub const RULE_PRIORITY_CHARON: u32 = 110;
/// `ip rule` priority of the pinned flows (probes, BGP sessions).
pub const RULE_PRIORITY_EXEMPT: u32 = 111;
/// `ip rule` priority of the blocks.
pub const RULE_PRIORITY_BLOCK: u32 = 112;

/// One `ip rule` (IPv4): its priority and the rest of its arguments.
pub type Rule = (u32, String);

/// The rules that make [`Forwarding::blocks`] unreachable, with
/// [`Forwarding::exempt`] and charon's packets let through to table 220
/// and the main table. Blocks come after charon's rule and the exemptions.
pub fn rules(fw: &Forwarding) -> BTreeSet<Rule> {
    let mut out = BTreeSet::new();
    if fw.blocks.is_empty() {
        return out;
    }
    out.insert((
        RULE_PRIORITY_CHARON,
        format!("fwmark {} lookup main", crate::charon::CHARON_FWMARK),
    ));
    for s in &fw.exempt {
        out.insert((
            RULE_PRIORITY_EXEMPT,
            format!("from {} to {} lookup 220", s.local, s.remote),
        ));
    }
    for s in &fw.blocks {
        out.insert((
            RULE_PRIORITY_BLOCK,
            format!("from {} to {} unreachable", s.local, s.remote),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel() -> Selector {
        Selector::new(
            "10.0.0.0/24".parse().expect("net"),
            "192.168.50.0/24".parse().expect("net"),
        )
    }

    fn child(tunnel: &str, uid: u64) -> InstalledChild {
        InstalledChild {
            tunnel: tunnel.into(),
            uniqueid: uid,
            selectors: vec![sel()],
        }
    }

    fn want(tunnel: &str) -> BTreeMap<Selector, String> {
        BTreeMap::from([(sel(), tunnel.to_owned())])
    }

    fn rekeys(p: &[Promotion]) -> Vec<u64> {
        p.iter().map(|p| p.uniqueid).collect()
    }

    #[test]
    fn promotes_once_then_only_when_another_holder_is_newer() {
        let mut p = Promoter::default();
        // At start the order is unknown: rekey the master's child.
        let now = [child("m", 1), child("s", 2)];
        assert_eq!(rekeys(&p.plan(&now, &want("m"))), [1]);
        // Its replacement appears alone: done.
        let now = [child("s", 2), child("m", 3)];
        assert!(p.plan(&now, &want("m")).is_empty());
        assert!(p.plan(&now, &want("m")).is_empty());
        // The slave rekeys on its own: the master must be newest again.
        let now = [child("m", 3), child("s", 4)];
        assert_eq!(rekeys(&p.plan(&now, &want("m"))), [3]);
        let now = [child("s", 4), child("m", 5)];
        assert!(p.plan(&now, &want("m")).is_empty());
        // charon rekeys the master on its own: still newest.
        let now = [child("s", 4), child("m", 6)];
        assert!(p.plan(&now, &want("m")).is_empty());
        // The routes now want the slave.
        assert_eq!(rekeys(&p.plan(&now, &want("s"))), [4]);
        // Master and slave both appear between two looks: unknown order.
        let mut p = Promoter::default();
        p.plan(&[child("m", 1)], &want("m"));
        p.plan(&[child("m", 2)], &want("m"));
        assert_eq!(
            rekeys(&p.plan(&[child("m", 7), child("s", 8)], &want("m"))),
            [7]
        );
        // The winner's child is not there: nothing to do.
        assert!(p.plan(&[child("s", 8)], &want("m")).is_empty());
    }

    #[test]
    fn rules_only_when_something_is_blocked() {
        let mut fw = Forwarding::default();
        assert!(rules(&fw).is_empty());
        fw.blocks.insert(sel());
        fw.exempt.insert(Selector::hosts(
            "10.0.0.9".parse().expect("ip"),
            "192.168.50.9".parse().expect("ip"),
        ));
        let r: Vec<Rule> = rules(&fw).into_iter().collect();
        assert_eq!(
            r,
            [
                (110, "fwmark 0x4d lookup main".to_owned()),
                (
                    111,
                    "from 10.0.0.9/32 to 192.168.50.9/32 lookup 220".to_owned()
                ),
                (
                    112,
                    "from 10.0.0.0/24 to 192.168.50.0/24 unreachable".to_owned()
                ),
            ]
        );
    }
}
