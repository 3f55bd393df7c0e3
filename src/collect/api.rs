//! The request engine of the live collector: one request with its timeout, retries and the
//! run's deadline; paginated lists (JSON, or protobuf decoded as it arrives, with the next page
//! asked for early); bounded concurrency. What is read is decided in `live.rs`.

use super::proto;
use crate::model::CollectError;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A failed request, classified for the "skipped" report.
#[derive(Debug, Clone)]
pub(super) enum ReqError {
    Status {
        code: u16,
        reason: String,
        message: String,
    },
    Timeout,
    Deadline,
    Transport(String),
    Decode(String),
}

impl ReqError {
    pub fn describe(&self) -> String {
        match self {
            ReqError::Status {
                code,
                reason,
                message,
            } => {
                let m: String = message.chars().take(300).collect();
                format!("{code} {reason}: {m}")
            }
            ReqError::Timeout => "timed out (--request-timeout)".into(),
            ReqError::Deadline => "not read: the run's deadline (--timeout) was reached".into(),
            ReqError::Transport(e) => format!("connection failed: {e}"),
            ReqError::Decode(e) => format!("unreadable answer: {e}"),
        }
    }
    pub fn code(&self) -> Option<u16> {
        match self {
            ReqError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

pub(super) struct Api {
    pub client: kube::Client,
    pub request_timeout: Duration,
    pub page_size: u32,
    /// The run's deadline: nothing is asked for after it.
    pub end: Instant,
    /// The resourceVersion each list (by path) and each object got by path was read at:
    /// where a watch of it starts (`watch.rs`).
    pub versions: std::sync::Mutex<std::collections::HashMap<String, super::watch::Read>>,
    /// Watching: lists the server did not serve (404), by path, and when it said so.
    pub absent: Option<Absent>,
    /// Kept answers that could not be brought up to date (a change that did not decode):
    /// their watches are dropped, whatever the read made instead.
    pub unkept: std::sync::Mutex<Vec<String>>,
}

pub(super) type Absent = Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>>;

/// Watching, an API the server did not serve (not installed) is asked for again no sooner.
const ABSENT_FOR: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    cont: Option<String>,
    #[serde(default, rename = "resourceVersion")]
    rv: Option<String>,
}

/// What a request brought back.
pub(super) struct Answer {
    pub body: Vec<u8>,
    /// Cut at the caller's byte cap.
    pub truncated: bool,
    /// Encoded as protobuf rather than JSON: the server chose it from our Accept header.
    pub protobuf: bool,
}

/// A list item. Those that the API server can serve as protobuf, and netcheck reads in bulk,
/// are asked for in it (falling back to JSON if the server prefers that).
/// Decodes one protobuf-encoded list item.
pub(super) type Decoder<T> = fn(&[u8]) -> proto::Result<T>;

pub(super) trait Item: DeserializeOwned + Send + 'static {
    const PROTOBUF: Option<Decoder<Self>> = None;
}

/// Protobuf first, JSON when the server cannot (custom resources, proxies), as client-go asks.
const ACCEPT_PROTOBUF: &str = "application/vnd.kubernetes.protobuf, application/json";

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Page<T> {
    #[serde(default)]
    metadata: Option<ListMeta>,
    #[serde(default)]
    items: Vec<T>,
}

const MAX_BODY: usize = 256 << 20;
/// List pages fetched ahead of the one being decoded.
const WINDOW: usize = 1;
const RETRIES: u32 = 3;
pub(super) const JSON: &str = "application/json";

pub(super) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Api {
    /// One request, retried when that is safe: GETs on 429 (after Retry-After), 5xx and
    /// dropped connections, with backoff, never past the deadline.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        cap: usize,
        accept: &str,
        mut feed: Option<&mut (dyn proto::Feed + 'static)>,
    ) -> Result<Answer, ReqError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let left = self.end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReqError::Deadline);
            }
            let t = self.request_timeout.min(left);
            let res = tokio::time::timeout(
                t,
                self.once(method, path, body.clone(), cap, accept, feed.as_deref_mut()),
            )
            .await;
            let (err, wait) = match res {
                Err(_) if left <= self.request_timeout => return Err(ReqError::Deadline),
                Err(_) => return Err(ReqError::Timeout),
                Ok(Ok(v)) => return Ok(v),
                Ok(Err((e, retry_after))) => (e, retry_after),
            };
            let retriable = method == "GET"
                && match &err {
                    ReqError::Status { code, .. } => *code == 429 || (500..600).contains(code),
                    ReqError::Transport(_) | ReqError::Decode(_) => true,
                    _ => false,
                };
            if !retriable || attempt >= RETRIES {
                return Err(err);
            }
            let backoff = wait
                .unwrap_or(Duration::from_millis(200 << attempt))
                .min(Duration::from_secs(5));
            if Instant::now() + backoff >= self.end {
                return Err(err);
            }
            tokio::time::sleep(backoff).await;
        }
    }

    async fn once(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        cap: usize,
        accept: &str,
        feed: Option<&mut (dyn proto::Feed + 'static)>,
    ) -> Result<Answer, (ReqError, Option<Duration>)> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("accept", accept);
        if method != "GET" {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(kube::client::Body::from(body))
            .map_err(|e| (ReqError::Transport(e.to_string()), None))?;
        let resp = self
            .client
            .send(req)
            .await
            .map_err(|e| (ReqError::Transport(super::kubeconfig::chain(&e)), None))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let length = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let protobuf = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(proto::CONTENT_TYPE));
        let mut body = resp.into_body();
        // A protobuf list is decoded as it arrives rather than buffered.
        let mut feed = feed.filter(|_| protobuf && status < 400);
        if let Some(f) = feed.as_deref_mut() {
            f.reset();
        }
        let decode = |e: String| (ReqError::Decode(e), None);
        let mut buf =
            Vec::with_capacity(length.unwrap_or(0).min(cap) * usize::from(feed.is_none()));
        let mut truncated = false;
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| (ReqError::Transport(super::kubeconfig::chain(&e)), None))?;
            if let Ok(data) = frame.into_data() {
                if let Some(f) = feed.as_deref_mut() {
                    f.feed(&data).map_err(decode)?;
                    continue;
                }
                buf.extend_from_slice(&data);
                if buf.len() >= cap {
                    buf.truncate(cap);
                    truncated = true;
                    break;
                }
            }
        }
        if status >= 400 {
            #[derive(Deserialize, Default)]
            struct Status {
                #[serde(default)]
                reason: String,
                #[serde(default)]
                message: String,
            }
            let s = match protobuf {
                true => proto::status(&buf).map(|(reason, message)| Status { reason, message }),
                false => serde_json::from_slice(&buf).ok(),
            }
            .unwrap_or_default();
            let message = if s.message.is_empty() {
                String::from_utf8_lossy(&buf).chars().take(200).collect()
            } else {
                s.message
            };
            return Err((
                ReqError::Status {
                    code: status,
                    reason: s.reason,
                    message,
                },
                retry_after,
            ));
        }
        if let Some(f) = feed {
            f.finish().map_err(decode)?;
        }
        Ok(Answer {
            body: buf,
            truncated,
            protobuf,
        })
    }

    async fn get_bytes(
        &self,
        path: &str,
        accept: &str,
        feed: Option<&mut (dyn proto::Feed + 'static)>,
    ) -> Result<Answer, ReqError> {
        let a = self
            .call("GET", path, vec![], MAX_BODY, accept, feed)
            .await?;
        if a.truncated {
            return Err(ReqError::Decode(format!(
                "answer larger than {} MiB",
                MAX_BODY >> 20
            )));
        }
        Ok(a)
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ReqError> {
        let a = self.get_bytes(path, JSON, None).await?;
        serde_json::from_slice(&a.body).map_err(|e| ReqError::Decode(e.to_string()))
    }

    /// One object by its path, its version recorded for a watch; so is its absence.
    pub async fn get_object<T: DeserializeOwned>(&self, path: &str) -> Result<T, ReqError> {
        #[derive(Deserialize)]
        struct Versioned {
            metadata: Option<ListMeta>,
        }
        let res = self.get_json::<Value>(path).await;
        match &res {
            Ok(v) => {
                let rv = Versioned::deserialize(v).ok().and_then(|m| m.metadata?.rv);
                self.versioned(path, rv, true);
            }
            Err(e) if e.code() == Some(404) => self.versioned(path, None, true),
            Err(_) => {}
        }
        T::deserialize(res?).map_err(|e| ReqError::Decode(e.to_string()))
    }

    fn versioned(&self, path: &str, rv: Option<String>, object: bool) {
        let mut v = self.versions.lock().unwrap_or_else(|e| e.into_inner());
        v.insert(path.to_string(), super::watch::Read { rv, object });
    }

    /// A paginated list, each page reduced by `keep` before it is kept.
    pub async fn list<T: Item>(
        self: &Arc<Self>,
        path: &str,
        mut keep: impl FnMut(T) -> Option<T>,
    ) -> Result<Vec<T>, ReqError> {
        let mut out = Vec::new();
        // Grown by an eighth, not doubled: lists of thousands of nodes and Services are kept
        // for the whole run (see `push_bounded`).
        self.list_into(path, |item| match item {
            Some(t) => {
                if let Some(t) = keep(t) {
                    crate::model::push_bounded(&mut out, t);
                }
            }
            None => out.clear(),
        })
        .await?;
        Ok(out)
    }

    /// A paginated list, its items handed to `sink` page by page (`None`: the list restarted,
    /// forget what came before). Fetching runs up to WINDOW pages ahead of decoding, which
    /// happens on the blocking pool: each page's continue token is peeked from the metadata
    /// ahead of its items. An expired continue token (410) restarts the list, at most twice.
    pub async fn list_into<T: Item>(
        self: &Arc<Self>,
        path: &str,
        sink: impl FnMut(Option<T>),
    ) -> Result<(), ReqError> {
        let Some(absent) = &self.absent else {
            return self.list_pages(path, sink).await;
        };
        let lock = || absent.lock().unwrap_or_else(|e| e.into_inner());
        if lock().get(path).is_some_and(|t| t.elapsed() < ABSENT_FOR) {
            return Err(ReqError::Status {
                code: 404,
                reason: "NotFound".into(),
                message: "not served when last asked, less than a minute ago".into(),
            });
        }
        let res = self.list_pages(path, sink).await;
        match &res {
            Err(e) if e.code() == Some(404) => lock().insert(path.to_string(), Instant::now()),
            _ => lock().remove(path),
        };
        res
    }

    async fn list_pages<T: Item>(
        self: &Arc<Self>,
        path: &str,
        mut sink: impl FnMut(Option<T>),
    ) -> Result<(), ReqError> {
        if let Some(item) = T::PROTOBUF {
            return self.list_protobuf(path, item, sink).await;
        }
        let url = |cont: Option<&str>| self.page_url(path, cont);
        let mut restarts = 0;
        'restart: loop {
            sink(None);
            // Pages fetched but not yet taken: the token each was fetched after peeking, and its
            // decoding on the blocking pool. Fetching runs ahead of decoding by up to WINDOW pages.
            let mut inflight = std::collections::VecDeque::new();
            let mut next = Some(url(None));
            let mut first = true;
            loop {
                if let Some(u) = next.take_if(|_| inflight.len() < WINDOW) {
                    let answer = match self.get_bytes(&u, JSON, None).await {
                        Ok(b) => b,
                        Err(e) if e.code() == Some(410) && !first && restarts < 2 => {
                            restarts += 1;
                            continue 'restart;
                        }
                        Err(e) => return Err(e),
                    };
                    first = false;
                    let peeked = peek_continue(&answer.body);
                    next = match &peeked {
                        Some(Some(c)) => Some(url(Some(c))),
                        _ => None,
                    };
                    let job = tokio::task::spawn_blocking(move || decode_page::<T>(&answer));
                    inflight.push_back((peeked, job));
                    continue;
                }
                let Some((peeked, job)) = inflight.pop_front() else {
                    return Ok(());
                };
                let (cont, rv, items) =
                    job.await.map_err(|e| ReqError::Decode(e.to_string()))??;
                items.into_iter().for_each(|t| sink(Some(t)));
                if cont.is_none() && rv.is_some() {
                    self.versioned(path, rv, false);
                }
                if peeked.as_ref() != Some(&cont) {
                    // The peek failed or disagreed with the decoded page: whatever was fetched
                    // after it is not the list's next page.
                    inflight.clear();
                    next = cont.map(|c| url(Some(&c)));
                }
            }
        }
    }
}

impl Api {
    fn page_url(&self, path: &str, cont: Option<&str>) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        match cont {
            None => format!("{path}{sep}limit={}", self.page_size),
            Some(c) => format!("{path}{sep}limit={}&continue={}", self.page_size, encode(c)),
        }
    }

    /// One page asked for in protobuf, decoded as it arrives on a task of its own; the
    /// receiver learns the continue token as soon as the page's metadata is in.
    fn spawn_page<T: Item>(
        self: &Arc<Self>,
        url: String,
        item: fn(&[u8]) -> proto::Result<T>,
    ) -> (Early, tokio::task::JoinHandle<PageResult<T>>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let api = self.clone();
        let job = tokio::spawn(async move {
            let mut stream = proto::ListStream::new(item);
            stream.early = Some(tx);
            let answer = api
                .get_bytes(&url, ACCEPT_PROTOBUF, Some(&mut stream))
                .await?;
            // Answered in JSON, the stream was not fed: its listener must not wait on.
            stream.early = None;
            Ok((answer, stream))
        });
        (rx, job)
    }

    /// A paginated list asked for in protobuf. Each page's continue token comes ahead of its
    /// items, so the next page is asked for while this one still arrives (two requests in
    /// flight at most). A server that answers JSON instead is read as JSON.
    pub async fn list_protobuf<T: Item>(
        self: &Arc<Self>,
        path: &str,
        item: fn(&[u8]) -> proto::Result<T>,
        mut sink: impl FnMut(Option<T>),
    ) -> Result<(), ReqError> {
        let mut restarts = 0;
        'restart: loop {
            sink(None);
            let mut current = Some(self.spawn_page(self.page_url(path, None), item));
            let mut first = true;
            while let Some((early, job)) = current.take() {
                let told = early.await.ok();
                let ahead = told
                    .clone()
                    .flatten()
                    .map(|c| self.spawn_page(self.page_url(path, Some(&c)), item));
                let result = job
                    .await
                    .map_err(|e| ReqError::Decode(e.to_string()))
                    .and_then(|r| r);
                let (answer, stream) = match result {
                    Ok(r) => r,
                    Err(e) => {
                        if let Some((_, j)) = ahead {
                            j.abort();
                        }
                        if e.code() == Some(410) && !first && restarts < 2 {
                            restarts += 1;
                            continue 'restart;
                        }
                        return Err(e);
                    }
                };
                first = false;
                let (cont, rv, items) = match answer.protobuf {
                    true => (stream.cont, stream.rv, stream.items),
                    false => match decode_page::<T>(&answer) {
                        Ok(page) => page,
                        // The runtime is not shut down after collection: a page fetched ahead
                        // would otherwise go on beside the analysis.
                        Err(e) => {
                            if let Some((_, j)) = ahead {
                                j.abort();
                            }
                            return Err(e);
                        }
                    },
                };
                items.into_iter().for_each(|t| sink(Some(t)));
                if cont.is_none() && rv.is_some() {
                    self.versioned(path, rv, false);
                }
                current = match ahead {
                    Some(a) if told == Some(cont.clone()) => Some(a),
                    // Told nothing early, or not what the page said in the end (a retried
                    // first page): the page asked for ahead is not the list's next one.
                    other => {
                        if let Some((_, j)) = other {
                            j.abort();
                        }
                        cont.map(|c| self.spawn_page(self.page_url(path, Some(&c)), item))
                    }
                };
            }
            return Ok(());
        }
    }
}

type Early = tokio::sync::oneshot::Receiver<Option<String>>;
type PageResult<T> = Result<(Answer, proto::ListStream<T>), ReqError>;

type Decoded<T> = (Option<String>, Option<String>, Vec<T>);

/// A list page's continue token, resourceVersion and items, from JSON or (for the types that
/// have a decoder of it) protobuf.
fn decode_page<T: Item>(a: &Answer) -> Result<Decoded<T>, ReqError> {
    match a.protobuf {
        true => Err(ReqError::Decode("protobuf answer to a JSON request".into())),
        false => serde_json::from_slice::<Page<T>>(&a.body)
            .map(|p| {
                let m = p.metadata.unwrap_or(ListMeta {
                    cont: None,
                    rv: None,
                });
                (m.cont.filter(|c| !c.is_empty()), m.rv, p.items)
            })
            .map_err(|e| ReqError::Decode(e.to_string())),
    }
}

/// A list's continue token, read from the `metadata` that the API server writes ahead of
/// `items`, without decoding the page. None when the answer is laid out otherwise.
fn peek_continue(body: &[u8]) -> Option<Option<String>> {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let head = &body[..body.len().min(8192)];
    let items = find(head, b"\"items\"")?;
    let at = find(&head[..items], b"\"metadata\"")? + b"\"metadata\"".len();
    let rest = &body[at..];
    let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[colon] != b':' {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(&rest[colon + 1..]);
    let meta = ListMeta::deserialize(&mut de).ok()?;
    Some(meta.cont.filter(|c| !c.is_empty()))
}

pub(super) fn err(what: &str, e: &ReqError, needs: &str) -> CollectError {
    let needs = matches!(e.code(), Some(401 | 403)).then(|| needs.to_string());
    CollectError {
        what: what.into(),
        reason: e.describe(),
        needs,
    }
}

pub(super) async fn futures_join<F, T>(futs: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for (i, f) in futs.into_iter().enumerate() {
        set.spawn(async move { (i, f.await) });
    }
    let mut out: Vec<(usize, T)> = Vec::new();
    while let Some(Ok(x)) = set.join_next().await {
        out.push(x);
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::peek_continue;

    #[test]
    fn continue_token_is_peeked_only_from_metadata_ahead_of_items() {
        let page = br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"abc.500","remainingItemCount":9},"items":[{"metadata":{"name":"p","continue":"no"}}]}"#;
        assert_eq!(peek_continue(page), Some(Some("abc.500".into())));
        let last = br#"{"metadata" : {"resourceVersion":"7"},"items":[]}"#;
        assert_eq!(peek_continue(last), Some(None));
        // Items first: the "metadata" seen belongs to an item, so nothing is guessed.
        let odd = br#"{"items":[{"metadata":{"name":"p"}}],"metadata":{"continue":"abc.1"}}"#;
        assert_eq!(peek_continue(odd), None);
        assert_eq!(peek_continue(b"{\"metadata\":"), None);
        assert_eq!(peek_continue(b""), None);
    }
}
