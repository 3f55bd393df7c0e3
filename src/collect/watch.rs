//! Watch rounds (`--watch`): after a round, each list and object read is watched from the
//! resourceVersion it was read at. The next round applies what the watches saw to the model
//! it kept (`live.rs`) instead of listing again; what a watch cannot vouch for (history
//! expired, watch refused or broken, never read) is read again, and said so.

use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// An object's namespace ("" for cluster-scoped ones) and name.
pub type Key = (String, String);
/// What changed since the last round, by object: its new JSON, or `None` when deleted.
pub type Changes = HashMap<Key, Option<Box<RawValue>>>;

/// How a read was made, for the watch that follows it (recorded by `api.rs`).
#[derive(Debug, Clone)]
pub struct Read {
    /// The resourceVersion of the answer; `None` for an object that was not found (watched
    /// from now on, so that its creation is seen).
    pub rv: Option<String>,
    /// An object got by name rather than a list.
    pub object: bool,
}

/// The server ends a watch after this; it is then resumed where it stopped.
const WATCH_SECONDS: u64 = 300;
/// With bookmarks asked for, a healthy watch is never silent for this long.
pub(super) const IDLE: Duration = Duration::from_secs(WATCH_SECONDS + 60);
/// Failed watch requests in a row before the read is given up as unwatchable.
const TRIES: u32 = 3;

#[derive(Default)]
struct Seen {
    changes: Changes,
    /// Why the watch can no longer vouch for the kept answer.
    lost: Option<String>,
    /// The server refused the watch itself (RBAC without `watch`, a proxy): not asked again.
    refused: bool,
    /// The size of `changes`, in bytes of JSON.
    bytes: usize,
}

struct Watch {
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(m: &Mutex<Seen>) -> MutexGuard<'_, Seen> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The watches of one cluster, by the path each read was made at.
pub struct Watches {
    client: kube::Client,
    by_path: HashMap<String, Watch>,
    /// Reads whose watch was lost since the last round, and why.
    lost: Vec<(String, String)>,
    /// Reads whose watch the server refused: made each round instead.
    refused: HashSet<String>,
}

impl Watches {
    pub fn new(client: kube::Client) -> Self {
        Watches {
            client,
            by_path: HashMap::new(),
            lost: vec![],
            refused: HashSet::new(),
        }
    }

    /// What each healthy watch saw since the last round. Lost watches are dropped (their
    /// reads are made again) and remembered for [`Watches::lost`].
    pub fn take(&mut self) -> HashMap<String, Changes> {
        let mut out = HashMap::new();
        let (lost, refused) = (&mut self.lost, &mut self.refused);
        self.by_path.retain(|path, w| {
            let mut s = lock(&w.seen);
            match s.lost.take() {
                Some(why) => {
                    if s.refused {
                        refused.insert(path.clone());
                    }
                    lost.push((path.clone(), why));
                    false
                }
                None => {
                    out.insert(path.clone(), std::mem::take(&mut s.changes));
                    s.bytes = 0;
                    true
                }
            }
        });
        out
    }

    /// Reads that had to be made again this round because their watch was lost, with why.
    pub fn lost(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.lost)
    }

    /// After a round: a watch for each read made (from the version it was read at), the
    /// running watches of answers kept, and none for what was not read this time.
    pub fn follow(&mut self, made: HashMap<String, Read>, kept: &HashSet<String>) {
        self.by_path
            .retain(|p, _| kept.contains(p) && !made.contains_key(p));
        for (path, read) in made {
            if self.refused.contains(&path) {
                continue;
            }
            let seen = Arc::new(Mutex::new(Seen::default()));
            let (url, from) = match read.object {
                true => match object_watch(&path) {
                    Some(u) => (
                        u,
                        From {
                            rv: None,
                            known: read.rv,
                        },
                    ),
                    None => continue,
                },
                false => (
                    path.clone(),
                    From {
                        rv: read.rv,
                        known: None,
                    },
                ),
            };
            let task = tokio::spawn(run(self.client.clone(), url, from, seen.clone()));
            self.by_path.insert(path, Watch { seen, task });
        }
    }
}

/// `/…/configmaps/NAME` watched as its collection selected by name.
fn object_watch(path: &str) -> Option<String> {
    let (collection, name) = path.rsplit_once('/')?;
    Some(format!("{collection}?fieldSelector=metadata.name%3D{name}"))
}

fn watch_url(path: &str, rv: Option<&str>) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut u =
        format!("{path}{sep}watch=1&allowWatchBookmarks=true&timeoutSeconds={WATCH_SECONDS}");
    if let Some(rv) = rv {
        u.push_str("&resourceVersion=");
        u.push_str(&super::api::encode(rv));
    }
    u
}

/// How one watch request ended.
enum End {
    /// The server closed it (its timeout): resume from the last version seen.
    Closed,
    /// Failed in a way another try may mend (connection, 5xx, 429, 401 before a token refresh).
    Retry(String),
    /// The kept answer can no longer be vouched for.
    Lost(String),
    /// The server will not serve this watch.
    Refused(String),
}

/// Where a watch starts, and what it already knows.
struct From {
    /// The version to resume after; `None`: from now, the current objects first (as ADDED).
    rv: Option<String>,
    /// For an object watch: the version of the object as read. Its replay as ADDED is what
    /// was read, not a change. (An object's own version is often older than the server's
    /// watch history reaches, so the watch cannot start from it.)
    known: Option<String>,
}

async fn run(client: kube::Client, url: String, mut from: From, seen: Arc<Mutex<Seen>>) {
    let mut failed = 0;
    loop {
        let started = std::time::Instant::now();
        let mut heard = false;
        let end = stream(&client, &url, &mut from, &seen, &mut heard).await;
        if heard {
            failed = 0;
        }
        let why = match end {
            End::Closed if heard || started.elapsed() >= Duration::from_secs(1) => continue,
            // Closed at once with nothing said (a proxy that does not stream): not a watch.
            End::Closed => "the watch was closed as soon as it was opened".to_string(),
            End::Retry(why) => why,
            End::Refused(why) => {
                let mut s = lock(&seen);
                (s.refused, s.lost) = (true, Some(why));
                return;
            }
            End::Lost(why) => {
                lock(&seen).lost = Some(why);
                return;
            }
        };
        failed += 1;
        if failed >= TRIES {
            lock(&seen).lost = Some(why);
            return;
        }
        tokio::time::sleep(Duration::from_millis(500 << failed)).await;
    }
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    object: Box<RawValue>,
}

/// What a watch needs of an event's object.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Head {
    metadata: HeadMeta,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct HeadMeta {
    name: String,
    namespace: String,
    resource_version: Option<String>,
}

/// An ERROR event's Status.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Status {
    code: u64,
    message: String,
}

/// Changes held for the next round beyond this many bytes: the watch gives up, and the list
/// is read again (a rollout of a big cluster would otherwise pile up its whole JSON here).
const MAX_PENDING: usize = 64 << 20;

async fn stream(
    client: &kube::Client,
    path: &str,
    from: &mut From,
    seen: &Mutex<Seen>,
    heard: &mut bool,
) -> End {
    let req = match http::Request::get(watch_url(path, from.rv.as_deref()))
        .header("accept", "application/json")
        .body(kube::client::Body::empty())
    {
        Ok(r) => r,
        Err(e) => return End::Lost(e.to_string()),
    };
    let resp = match tokio::time::timeout(IDLE, client.send(req)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return End::Retry(super::kubeconfig::chain(&e)),
        Err(_) => return End::Retry("no answer to the watch request".into()),
    };
    let code = resp.status().as_u16();
    let mut body = resp.into_body();
    if code >= 400 {
        let msg = match body.collect().await {
            Ok(b) => serde_json::from_slice::<Status>(&b.to_bytes())
                .map(|s| s.message)
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        let why = format!("watch answered {code}: {msg}");
        return match code {
            401 | 429 | 500.. => End::Retry(why),
            410 => End::Lost(why),
            _ => End::Refused(format!("{why}; it is read again each round")),
        };
    }
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let frame = match tokio::time::timeout(IDLE, body.frame()).await {
            Err(_) => return End::Retry("the watch went silent".into()),
            Ok(None) => return End::Closed,
            Ok(Some(Err(e))) => return End::Retry(super::kubeconfig::chain(&e)),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buf.extend_from_slice(&data);
        let mut events = serde_json::Deserializer::from_slice(&buf).into_iter::<Event>();
        let mut used = 0;
        while let Some(ev) = events.next() {
            match ev {
                Ok(ev) => {
                    *heard = true;
                    if let Some(end) = saw(ev, from, seen) {
                        return end;
                    }
                    used = events.byte_offset();
                }
                Err(e) if e.is_eof() => break,
                Err(e) => return End::Lost(format!("unreadable watch event: {e}")),
            }
        }
        buf.drain(..used);
        // A burst of changes must not keep its buffer for the rest of the watch.
        if buf.is_empty() && buf.capacity() > 1 << 20 {
            buf = Vec::new();
        }
    }
}

fn saw(ev: Event, from: &mut From, seen: &Mutex<Seen>) -> Option<End> {
    let o = ev.object;
    if ev.kind == "ERROR" {
        let s: Status = serde_json::from_str(o.get()).unwrap_or_default();
        let msg = s.message;
        return Some(match s.code {
            // The version it started from is older than the server keeps.
            410 => End::Lost(format!("its history expired (410 Gone: {msg})")),
            c => End::Lost(format!("watch error {c}: {msg}")),
        });
    }
    let m = match serde_json::from_str::<Head>(o.get()) {
        Ok(h) => h.metadata,
        Err(e) => return Some(End::Lost(format!("unreadable watch event: {e}"))),
    };
    match ev.kind.as_str() {
        "BOOKMARK" => from.rv = m.resource_version.or(from.rv.take()),
        "ADDED" if from.known.is_some() && m.resource_version == from.known => {}
        "ADDED" | "MODIFIED" | "DELETED" => {
            from.rv = m.resource_version.or(from.rv.take());
            let now = (ev.kind != "DELETED").then_some(o);
            let mut s = lock(seen);
            s.bytes += now.as_ref().map_or(0, |o| o.get().len());
            if s.bytes > MAX_PENDING {
                return Some(End::Lost(format!(
                    "more than {} MiB of changes since the last round",
                    MAX_PENDING >> 20
                )));
            }
            s.changes.insert((m.namespace, m.name), now);
        }
        other => return Some(End::Lost(format!("unknown watch event type {other:?}"))),
    }
    None
}

/// A kept item's identity, matching the watch's [`Key`].
pub trait Keyed {
    fn key(&self) -> (&str, &str);
}

macro_rules! keyed {
    ($($t:ty),*) => { $(impl Keyed for $t {
        fn key(&self) -> (&str, &str) { (self.metadata.ns(), &self.metadata.name) }
    })* };
}
use crate::model::*;
keyed!(
    Node,
    Service,
    EndpointSlice,
    DaemonSet,
    IpAddress,
    NetworkPolicy,
    Namespace
);

/// Decoded changes, found by a kept item's name and namespace without allocating (every kept
/// item is looked up). `None`: the object is gone (deleted, or no longer kept).
pub struct Pending<T>(HashMap<String, Vec<(String, Option<T>)>>);

impl<T> Pending<T> {
    /// Decodes every change; one that does not decode fails them all (the list is then read
    /// again rather than half updated).
    pub fn decode<E: std::fmt::Display>(
        changes: Changes,
        decode: impl Fn(&str) -> Result<Option<T>, E>,
    ) -> Result<Self, String> {
        let mut m: HashMap<String, Vec<(String, Option<T>)>> = HashMap::new();
        for ((ns, name), v) in changes {
            let t = match v {
                Some(raw) => decode(raw.get()).map_err(|e| e.to_string())?,
                None => None,
            };
            m.entry(name).or_default().push((ns, t));
        }
        Ok(Pending(m))
    }

    /// The change of one object, if it changed.
    pub fn take(&mut self, ns: &str, name: &str) -> Option<Option<T>> {
        let v = self.0.get_mut(name)?;
        let i = v.iter().position(|(n, _)| n == ns)?;
        Some(v.swap_remove(i).1)
    }

    pub fn put_back(&mut self, ns: &str, name: &str, t: T) {
        self.0
            .entry(name.to_string())
            .or_default()
            .push((ns.to_string(), Some(t)));
    }

    /// What is left: objects that were not kept before (created, or newly kept).
    pub fn rest(self) -> impl Iterator<Item = T> {
        self.0.into_values().flatten().filter_map(|(_, t)| t)
    }
}

/// Applies changes to a kept list, each new object reduced by `keep` as the list's were.
/// A change that does not decode leaves the list as it was: it is then read again.
pub fn apply<T: Keyed + serde::de::DeserializeOwned>(
    items: &mut Vec<T>,
    changes: Changes,
    keep: impl Fn(T) -> Option<T>,
) -> Result<(), String> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut new = Pending::decode(changes, |s| serde_json::from_str(s).map(&keep))?;
    items.retain_mut(|x| {
        let (ns, name) = x.key();
        match new.take(ns, name) {
            None => true,
            Some(None) => false,
            Some(Some(t)) => {
                *x = t;
                true
            }
        }
    });
    let before = items.len();
    items.extend(new.rest());
    if items.len() > before {
        items.sort_by(|a, b| in_key_order(a.key(), b.key()));
    }
    Ok(())
}

/// The API server's list order: by storage key, `namespace/name`, byte by byte (so that what
/// takes a list's first match picks what a fresh read would).
pub fn in_key_order<'a>(
    a: (&str, impl Into<crate::model::PodRef<'a>>),
    b: (&str, impl Into<crate::model::PodRef<'a>>),
) -> std::cmp::Ordering {
    fn key<'a>(ns: &'a str, name: crate::model::PodRef<'a>) -> impl Iterator<Item = u8> + 'a {
        let sep: &[u8] = if ns.is_empty() { b"" } else { b"/" };
        ns.bytes().chain(sep.iter().copied()).chain(name.bytes())
    }
    key(a.0, a.1.into()).cmp(key(b.0, b.1.into()))
}
