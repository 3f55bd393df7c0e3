//! The API server's protobuf encoding (`application/vnd.kubernetes.protobuf`) of the four
//! large lists: Pods, Nodes, Services and EndpointSlices, read straight into the model. Protobuf
//! fields carry their length, so the bulk of a pod (managed fields, volumes, probes,
//! conditions) is stepped over instead of scanned, which is what makes a 150,000-pod list cheap
//! to read. Only the fields the model keeps are decoded; field numbers are those of k8s.io/api
//! core/v1, discovery/v1 and apimachinery meta/v1 `generated.proto`.

use crate::model::{
    is_infra, Condition, Container, ContainerPort, ContainerState, ContainerStatus, Endpoint,
    EndpointPort, EndpointSlice, EnvFromSource, EnvVar, EnvVarSource, FastMap, FastSet,
    FieldSelector, IntOrString, KeySelector, Labels, LoadBalancerIngress, LoadBalancerStatus, Meta,
    Name, NameRef, Node, NodeAddress, NodeInfo, OwnerRef, Pod, PodEntry, PodIp, PodName, PodStatus,
    Ports, Service, ServicePort, ServiceSpec, StateDetail, Str, Taint, TargetRef, WorkloadPod,
    MIRROR_ANNOTATION,
};
use std::borrow::Cow;
use std::sync::Arc;

pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// What every protobuf answer starts with, ahead of its `runtime.Unknown` envelope.
pub const MAGIC: &[u8; 4] = b"k8s\0";

pub type Result<T> = std::result::Result<T, String>;

#[derive(Clone, Copy)]
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of one message, in wire order.
struct Fields<'a> {
    buf: &'a [u8],
}

// A field step is the innermost loop of a 150,000-pod list (about 70 fields a pod): the
// common paths are inlined and the error texts built out of line.
#[inline(always)]
fn varint(buf: &mut &[u8]) -> Result<u64> {
    // Tags and most lengths fit in one byte; a pod's larger parts (its spec, status, each
    // container) in two: callgrind counted 15 two-byte varints a pod in varint_long's loop.
    match **buf {
        [b, ..] if b < 0x80 => {
            *buf = &buf[1..];
            Ok(u64::from(b))
        }
        [b, c, ..] if c < 0x80 => {
            *buf = &buf[2..];
            Ok(u64::from(b & 0x7f) | u64::from(c) << 7)
        }
        _ => varint_long(buf),
    }
}

#[inline(never)]
fn varint_long(buf: &mut &[u8]) -> Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = buf
            .split_first()
            .ok_or("protobuf: varint runs past the end")?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err("protobuf: varint longer than 10 bytes".into())
}

impl<'a> Fields<'a> {
    #[inline(always)]
    fn field(&mut self) -> Result<(u64, Value<'a>)> {
        let key = varint(&mut self.buf)?;
        let value = match key & 7 {
            0 => Value::Varint(varint(&mut self.buf)?),
            2 => {
                let len = varint(&mut self.buf)?;
                if len > self.buf.len() as u64 {
                    return Err(overrun(key, len, self.buf.len()));
                }
                let (v, rest) = self.buf.split_at(len as usize);
                self.buf = rest;
                Value::Bytes(v)
            }
            w @ (1 | 5) => {
                let n = if w == 1 { 8 } else { 4 };
                self.buf = self
                    .buf
                    .get(n..)
                    .ok_or("protobuf: fixed field runs past the end")?;
                Value::Fixed
            }
            w => return Err(format!("protobuf: unsupported wire type {w}")),
        };
        Ok((key >> 3, value))
    }
}

#[cold]
fn overrun(key: u64, len: u64, left: usize) -> String {
    format!(
        "protobuf: field {} claims {len} bytes, {left} left",
        key >> 3
    )
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>)>;
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            self.buf = &[];
        }
        Some(field)
    }
}

fn fields(buf: &[u8]) -> Fields<'_> {
    Fields { buf }
}

/// Calls `f` for each field of a message, stopping at the first malformed one.
#[inline]
fn each<'a>(buf: &'a [u8], mut f: impl FnMut(u64, Value<'a>) -> Result<()>) -> Result<()> {
    fields(buf).try_for_each(|r| r.and_then(|(n, v)| f(n, v)))
}

fn bytes<'a>(v: Value<'a>) -> Result<&'a [u8]> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err("protobuf: expected a length-delimited field".into()),
    }
}

fn int(v: Value) -> Result<u64> {
    match v {
        Value::Varint(n) => Ok(n),
        _ => Err("protobuf: expected a varint field".into()),
    }
}

/// Text as either model type: `String`, or [`Str`] for what is nearly always short.
fn string<S: From<Cow<'static, str>> + for<'a> From<&'a str>>(v: Value) -> Result<S> {
    Ok(match lossy(bytes(v)?) {
        Cow::Borrowed(s) => s.into(),
        Cow::Owned(s) => Cow::<'static, str>::Owned(s).into(),
    })
}

/// Go writes every non-pointer string, empty or not; JSON omits empty ones.
fn opt_string<S: From<Cow<'static, str>> + for<'a> From<&'a str>>(v: Value) -> Result<Option<S>> {
    Ok(match bytes(v)? {
        [] => None,
        b => Some(string(Value::Bytes(b))?),
    })
}

/// The message inside a protobuf answer: checks the magic prefix and unwraps `runtime.Unknown`
/// (typeMeta 1, raw 2, contentEncoding 3, contentType 4).
pub fn unwrap(body: &[u8]) -> Result<&[u8]> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or("protobuf: answer does not start with the k8s magic prefix")?;
    let mut raw = None;
    each(rest, |n, v| {
        match n {
            2 => raw = Some(bytes(v)?),
            3 if !bytes(v)?.is_empty() => {
                return Err("protobuf: encoded raw is not supported".into())
            }
            _ => {}
        }
        Ok(())
    })?;
    raw.ok_or_else(|| "protobuf: envelope without a message".into())
}

/// ListMeta's resourceVersion (field 2) and continue token (field 3).
fn list_meta(meta: &[u8]) -> Result<(Option<String>, Option<String>)> {
    let (mut rv, mut cont) = (None, None);
    each(meta, |n, v| {
        match n {
            2 => rv = opt_string(v)?,
            3 => cont = opt_string(v)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok((rv, cont))
}

/// A protobuf list answer decoded as it arrives: each item as soon as its bytes are in, so
/// decoding overlaps the transfer and no page is ever held whole. Only the incomplete tail of
/// what has arrived is kept.
pub struct ListStream<T> {
    item: fn(&[u8]) -> Result<T>,
    pending: Vec<u8>,
    /// Bytes of the list message (Unknown.raw) not yet consumed; None before its header.
    raw_left: Option<usize>,
    pub cont: Option<String>,
    /// The list's resourceVersion: where a watch of it starts.
    pub rv: Option<String>,
    pub items: Vec<T>,
    /// Told the continue token as soon as it is read (the API server writes the list's
    /// metadata ahead of its items), so that the next page can be asked for early.
    pub early: Option<tokio::sync::oneshot::Sender<Option<String>>>,
}

/// A body consumer that [`crate::collect::live`] feeds chunk by chunk; `reset` starts over
/// (a retried request).
pub trait Feed: Send {
    fn reset(&mut self);
    fn feed(&mut self, chunk: &[u8]) -> Result<()>;
    fn finish(&mut self) -> Result<()>;
}

/// Whether `buf` holds a whole varint (or enough bytes for `varint` to reject it).
fn has_varint(buf: &[u8]) -> bool {
    buf.len() >= 10 || buf.iter().any(|b| b & 0x80 == 0)
}

/// The complete field at the start of `buf`: its number, value and total length. None: more
/// bytes are needed.
fn field_at(buf: &[u8], max: usize) -> Result<Option<(u64, Value<'_>, usize)>> {
    let mut rest = buf;
    if !has_varint(rest) {
        return Ok(None);
    }
    let key = varint(&mut rest)?;
    let (value, tail) = match key & 7 {
        0 if !has_varint(rest) => return Ok(None),
        0 => (Value::Varint(varint(&mut rest)?), 0),
        2 if !has_varint(rest) => return Ok(None),
        2 => {
            let len = usize::try_from(varint(&mut rest)?).unwrap_or(usize::MAX);
            if len > max {
                return Err(format!("protobuf: field {} claims {len} bytes", key >> 3));
            }
            match rest.get(..len) {
                Some(v) => (Value::Bytes(v), len),
                None => return Ok(None),
            }
        }
        w @ (1 | 5) => {
            let n = if w == 1 { 8 } else { 4 };
            match rest.len() >= n {
                true => (Value::Fixed, n),
                false => return Ok(None),
            }
        }
        w => return Err(format!("protobuf: unsupported wire type {w}")),
    };
    Ok(Some((key >> 3, value, buf.len() - rest.len() + tail)))
}

/// Largest list item accepted: far above any real Pod, far below memory trouble.
const MAX_ITEM: usize = 64 << 20;

impl<T: Send> ListStream<T> {
    pub fn new(item: fn(&[u8]) -> Result<T>) -> Self {
        ListStream {
            item,
            pending: Vec::new(),
            raw_left: None,
            cont: None,
            rv: None,
            items: Vec::new(),
            early: None,
        }
    }

    fn tell(&mut self) {
        if let Some(tx) = self.early.take() {
            let _ = tx.send(self.cont.clone());
        }
    }

    /// Consumes what it can of `buf`; returns how much.
    fn consume(&mut self, buf: &[u8]) -> Result<usize> {
        let mut at = match self.raw_left {
            Some(_) => 0,
            // Nothing is consumed until raw's header is complete, so `buf` starts at the
            // answer's first byte: the magic, then Unknown's fields up to raw (2).
            None => {
                if buf.len() < MAGIC.len() {
                    return Ok(0);
                }
                if &buf[..MAGIC.len()] != MAGIC {
                    return Err("protobuf: answer does not start with the k8s magic prefix".into());
                }
                let mut off = MAGIC.len();
                loop {
                    let mut r = &buf[off..];
                    if !has_varint(r) {
                        return Ok(0);
                    }
                    if varint(&mut r)? == 2 << 3 | 2 {
                        if !has_varint(r) {
                            return Ok(0);
                        }
                        let len = varint(&mut r)?;
                        self.raw_left = Some(usize::try_from(len).unwrap_or(usize::MAX));
                        break buf.len() - r.len();
                    }
                    match field_at(&buf[off..], MAX_ITEM)? {
                        Some((_, _, used)) => off += used,
                        None => return Ok(0),
                    }
                }
            }
        };
        loop {
            let left = self.raw_left.unwrap_or(0);
            if left == 0 {
                // contentEncoding and contentType follow; nothing netcheck needs.
                return Ok(buf.len());
            }
            let window = &buf[at..buf.len().min(at + left)];
            let Some((n, v, used)) = field_at(window, MAX_ITEM)? else {
                if window.len() == left {
                    return Err("protobuf: list ends inside a field".into());
                }
                return Ok(at);
            };
            match n {
                1 => {
                    (self.rv, self.cont) = list_meta(bytes(v)?)?;
                    self.tell();
                }
                2 => self.items.push((self.item)(bytes(v)?)?),
                _ => {}
            }
            self.raw_left = Some(left - used);
            at += used;
        }
    }
}

impl<T: Send> ListStream<T> {
    /// How many more bytes the pending tail needs to hold a whole field (or, while its header
    /// is incomplete, enough for one); everything while the envelope's header is being read.
    fn lacking(&self) -> usize {
        if self.raw_left.is_none() {
            return usize::MAX;
        }
        let mut r = &self.pending[..];
        if !has_varint(r) {
            return 10;
        }
        let Ok(key) = varint(&mut r) else { return 1 };
        if key & 7 != 2 {
            return 10;
        }
        if !has_varint(r) {
            return 10;
        }
        let Ok(len) = varint(&mut r) else { return 1 };
        let total =
            (self.pending.len() - r.len()).saturating_add(len.min(MAX_ITEM as u64 + 1) as usize);
        total.saturating_sub(self.pending.len())
    }
}

impl<T: Send> Feed for ListStream<T> {
    fn reset(&mut self) {
        self.pending.clear();
        self.raw_left = None;
        self.cont = None;
        self.rv = None;
        self.items.clear();
    }

    fn feed(&mut self, mut chunk: &[u8]) -> Result<()> {
        // A field cut by the last chunk is completed with only the bytes it lacks, and the rest
        // of this chunk is decoded where it lies: appending whole chunks behind the cut field
        // copied nearly every byte of the 5,000-node pod list once more (perf: memmove 6% self).
        while !self.pending.is_empty() && !chunk.is_empty() {
            let take = self.lacking().clamp(1, chunk.len());
            self.pending.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            let pending = std::mem::take(&mut self.pending);
            let used = self.consume(&pending)?;
            self.pending = pending;
            self.pending.drain(..used);
        }
        if self.pending.is_empty() {
            let used = self.consume(chunk)?;
            self.pending.extend_from_slice(&chunk[used..]);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        match self.raw_left {
            Some(0) => {
                self.tell();
                Ok(())
            }
            _ => Err("protobuf: answer ends before its list does".into()),
        }
    }
}

/// A `meta/v1.Status` error answer: its reason (4) and message (3).
pub fn status(body: &[u8]) -> Option<(String, String)> {
    let (mut reason, mut message) = (String::new(), String::new());
    each(unwrap(body).ok()?, |n, v| {
        match n {
            3 => message = string(v)?,
            4 => reason = string(v)?,
            _ => {}
        }
        Ok(())
    })
    .ok()?;
    Some((reason, message))
}

/// One Pod (metadata 1, spec 2, status 3): metadata decides whether spec and status are read
/// in full or only for placement and addresses, as in the JSON path.
pub fn pod(buf: &[u8]) -> Result<PodEntry> {
    let (mut meta, mut spec, mut status) = (&[][..], &[][..], &[][..]);
    each(buf, |n, v| {
        match n {
            1 => meta = bytes(v)?,
            2 => spec = bytes(v)?,
            3 => status = bytes(v)?,
            _ => {}
        }
        Ok(())
    })?;
    let head = Head::read(meta)?;
    if !head.infra() {
        return workload(&head, spec, status);
    }
    let mut pod = Pod {
        metadata: object_meta(meta)?,
        ..Pod::default()
    };
    pod_spec(spec, &mut pod)?;
    pod_status(status, &mut pod.status, true)?;
    pod.prune();
    Ok(PodEntry::Infra(Box::new(pod)))
}

/// Up to N items in place, more on the heap: what one pod of a list gathers on its way
/// (labels, owners, ports, addresses) without an allocation for each.
struct Few<T: Copy + Default, const N: usize> {
    len: usize,
    inline: [T; N],
    more: Vec<T>,
}

impl<T: Copy + Default, const N: usize> Few<T, N> {
    fn new() -> Self {
        Few {
            len: 0,
            inline: [T::default(); N],
            more: Vec::new(),
        }
    }
    fn push(&mut self, t: T) {
        if self.len < N {
            self.inline[self.len] = t;
        } else {
            if self.more.is_empty() {
                self.more.extend_from_slice(&self.inline);
            }
            self.more.push(t);
        }
        self.len += 1;
    }
    fn as_slice(&self) -> &[T] {
        if self.len <= N {
            &self.inline[..self.len]
        } else {
            &self.more
        }
    }
}

/// A pod's metadata as far as telling an ordinary pod from infrastructure and reducing it
/// need, in one walk: name, namespace, deletion, label entries, owner references' kinds and
/// controller flags, and whether the static-pod mirror annotation is there.
struct Head<'a> {
    name: &'a [u8],
    ns: &'a [u8],
    terminating: bool,
    labels: Few<&'a [u8], 8>,
    owners: Few<(&'a [u8], bool), 2>,
    mirror: bool,
}

impl<'a> Head<'a> {
    fn read(meta: &'a [u8]) -> Result<Head<'a>> {
        let mut h = Head {
            name: &[],
            ns: &[],
            terminating: false,
            labels: Few::new(),
            owners: Few::new(),
            mirror: false,
        };
        each(meta, |n, v| {
            match n {
                1 => h.name = bytes(v)?,
                3 => h.ns = bytes(v)?,
                9 => h.terminating = !bytes(v)?.is_empty(),
                11 => h.labels.push(bytes(v)?),
                12 => {
                    let key = fields(bytes(v)?).find_map(|f| match f {
                        Ok((1, Value::Bytes(k))) => Some(k),
                        _ => None,
                    });
                    h.mirror |= key == Some(MIRROR_ANNOTATION.as_bytes());
                }
                13 => {
                    let (mut kind, mut controller) = (&[][..], false);
                    each(bytes(v)?, |n, v| {
                        match n {
                            1 => kind = bytes(v)?,
                            6 => controller = int(v)? != 0,
                            _ => {}
                        }
                        Ok(())
                    })?;
                    h.owners.push((kind, controller));
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(h)
    }

    /// [`is_infra`], from the bytes.
    fn infra(&self) -> bool {
        let text = |b| utf8(b).unwrap_or("\u{fffd}");
        is_infra(
            text(self.ns),
            self.owners.as_slice().iter().map(|&(k, c)| (text(k), c)),
            self.mirror,
        )
    }
}

/// An ordinary pod, read straight from the message into what a [`WorkloadPod`] keeps:
/// placement, addresses, labels, declared ports and readiness. 150,000 of these make up most
/// of a big cluster's answer; the rest of each (most of its bytes) is stepped over.
fn workload(head: &Head, spec: &[u8], status: &[u8]) -> Result<PodEntry> {
    let mut w = WorkloadPod {
        name: pod_name(head.name),
        terminating: head.terminating,
        ..WorkloadPod::default()
    };
    let (mut ports, mut node) = (Few::<&[u8], 4>::new(), &[][..]);
    each(spec, |n, v| {
        match n {
            2 => each(bytes(v)?, |n, v| {
                if n == 6 {
                    ports.push(bytes(v)?);
                }
                Ok(())
            })?,
            10 => node = bytes(v)?,
            11 => w.host_network = int(v)? != 0,
            _ => {}
        }
        Ok(())
    })?;
    SHARED.with_borrow_mut(|s| {
        w.namespace = s.names.name(head.ns);
        w.node = s.nodes.get_unordered(&lossy(node));
        w.labels = s.labels.get(head.labels.as_slice(), map_entry)?;
        w.ports = s.ports.get(ports.as_slice(), container_port)?;
        Ok::<_, String>(())
    })?;
    let (mut ips, mut ip, mut phase, mut ready) = (Few::<&[u8], 2>::new(), None, &[][..], false);
    each(status, |n, v| {
        match n {
            1 => phase = bytes(v)?,
            2 => ready |= condition_true(bytes(v)?, b"Ready")?,
            6 => ip = Some(bytes(v)?),
            12 => each(bytes(v)?, |n, v| {
                if n == 1 {
                    ips.push(bytes(v)?);
                }
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    if let (0, Some(ip)) = (ips.len, ip) {
        ips.push(ip);
    }
    let addr = |b: &&[u8]| utf8(b).and_then(crate::cidr::ip);
    w.ips = ips.as_slice().iter().filter_map(addr).collect();
    w.finished = matches!(phase, b"Succeeded" | b"Failed");
    w.ready = ready;
    if !ready {
        // Rare and worth a reason: read the status in full, as for any pod.
        let mut s = PodStatus::default();
        pod_status(status, &mut s, false)?;
        let (ok, why) = crate::model::readiness(&s);
        w.ready = ok;
        w.not_ready = why.map(Into::into);
    }
    Ok(PodEntry::Workload(w))
}

/// A pod's name, its stem shared with the other pods (or endpoints) of its owner read on this
/// thread.
fn pod_name(b: &[u8]) -> PodName {
    PodName::shared(&lossy(b))
}

fn text(b: &[u8]) -> Box<str> {
    lossy(b).into()
}

/// Text as the API sent it. Valid UTF-8 (always, from a real API server) is checked at the
/// speed of [`utf8`], not chunk by chunk as `from_utf8_lossy` does.
fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match utf8(b) {
        Some(s) => s.into(),
        None => String::from_utf8_lossy(b),
    }
}

/// `b` as text, if it is UTF-8. Nearly every string in a pod is ASCII, which is checked a word
/// at a time; `from_utf8` walks a short string byte by byte (callgrind of a 5,000-node report:
/// 7% of its instructions, for names of 10 to 40 bytes).
fn utf8(b: &[u8]) -> Option<&str> {
    if b.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(b) })
    } else {
        std::str::from_utf8(b).ok()
    }
}

/// Whether a PodCondition (type 1, status 2) is the given type and True.
fn condition_true(buf: &[u8], kind: &[u8]) -> Result<bool> {
    let (mut t, mut s) = (&[][..], &[][..]);
    each(buf, |n, v| {
        match n {
            1 => t = bytes(v)?,
            2 => s = bytes(v)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(t == kind && s == b"True")
}

thread_local! {
    static SHARED: std::cell::RefCell<Shared> = Default::default();
}

/// Label sets and port lists already decoded on this thread, by their bytes: the pods of one
/// template repeat them, and a hit costs no allocation at all.
#[derive(Default)]
struct Shared {
    labels: Seen<Labels>,
    ports: Seen<Ports>,
    /// Namespaces and kinds.
    names: Seen<Name>,
    /// Pods listed by name come from any node: no last name to try, and no key beside each.
    nodes: crate::model::NameSet,
    /// An infrastructure pod's containers: one DaemonSet's pods repeat them.
    containers: Seen<Arc<[Container]>>,
    /// Pod conditions, which differ between healthy pods only in times not kept.
    conditions: Alike<Condition>,
}

/// Lists already decoded on this thread, by their value: equal ones are kept once.
struct Alike<T>(FastSet<Arc<[T]>>);

impl<T> Default for Alike<T> {
    fn default() -> Self {
        Alike(FastSet::default())
    }
}

impl<T: Eq + std::hash::Hash> Alike<T> {
    fn share(&mut self, v: Vec<T>) -> Arc<[T]> {
        if let Some(k) = self.0.get(&v[..]) {
            return k.clone();
        }
        if self.0.len() >= SEEN_MAX {
            self.0.clear();
        }
        let k: Arc<[T]> = v.into();
        self.0.insert(k.clone());
        k
    }
}

struct Seen<T> {
    map: FastMap<Vec<u8>, T>,
    key: Vec<u8>,
    /// The last name or key asked for: a list's pods come in runs of one namespace, and of
    /// one template. A `Seen` serves `name` or `get`, never both: their keys differ.
    last: Option<(Vec<u8>, T)>,
}

impl<T> Default for Seen<T> {
    fn default() -> Self {
        Seen {
            map: FastMap::default(),
            key: Vec::new(),
            last: None,
        }
    }
}

/// Beyond this many distinct sets (StatefulSet pods each carry their own name), start over.
const SEEN_MAX: usize = 4096;
/// Names are as many as a cluster's nodes and namespaces: a 5,000-node cluster's node names
/// overflowed SEEN_MAX, and each start-over made every name again.
const NAMES_MAX: usize = 1 << 16;

impl<T: Clone> Seen<T> {
    fn get<U>(&mut self, parts: &[&[u8]], decode: impl Fn(&[u8]) -> Result<U>) -> Result<T>
    where
        T: FromIterator<U>,
    {
        self.key.clear();
        for p in parts {
            self.key.extend_from_slice(&(p.len() as u32).to_le_bytes());
            self.key.extend_from_slice(p);
        }
        self.lookup(SEEN_MAX, || parts.iter().map(|p| decode(p)).collect())
    }

    fn name(&mut self, b: &[u8]) -> T
    where
        T: From<Box<str>>,
    {
        self.key.clear();
        self.key.extend_from_slice(b);
        let Ok(v) = self.lookup::<std::convert::Infallible>(NAMES_MAX, || Ok(text(b).into()));
        v
    }

    /// The value for `self.key`: the last one asked for, else the map's, else made.
    fn lookup<E>(
        &mut self,
        max: usize,
        make: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        // A list read in key order brings one namespace's pods together, and one template's:
        // their namespace, label set and ports are the last ones asked for, compared while
        // still in cache.
        if let Some((_, v)) = self.last.as_ref().filter(|(k, _)| *k == self.key) {
            return Ok(v.clone());
        }
        let v = match self.map.get(&self.key) {
            Some(v) => v.clone(),
            None => {
                let v = make()?;
                self.keep(self.key.clone(), v.clone(), max);
                v
            }
        };
        // The key becomes the last one; its buffer and the last one's change places.
        let mut key = self.last.take().map(|(k, _)| k).unwrap_or_default();
        std::mem::swap(&mut key, &mut self.key);
        self.last = Some((key, v.clone()));
        Ok(v)
    }

    fn keep(&mut self, key: Vec<u8>, v: T, max: usize) {
        if self.map.len() >= max {
            self.map.clear();
        }
        self.map.insert(key, v);
    }
}

/// ContainerPort: name 1, containerPort 3, protocol 4.
fn container_port(buf: &[u8]) -> Result<ContainerPort> {
    let mut p = ContainerPort::default();
    each(buf, |n, v| {
        match n {
            1 => p.name = opt_string(v)?,
            3 => p.container_port = int(v)? as i32,
            4 => p.protocol = opt_string(v)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(p)
}

/// ObjectMeta: name 1, namespace 3, generation 7, creationTimestamp 8, deletionTimestamp 9,
/// labels 11, annotations 12, ownerReferences 13.
fn object_meta(buf: &[u8]) -> Result<Meta> {
    let mut m = Meta::default();
    each(buf, |n, v| {
        match n {
            1 => m.name = string(v)?,
            3 => m.namespace = opt_string(v)?,
            7 => m.generation = Some(int(v)? as i64).filter(|g| *g != 0),
            8 => m.creation_timestamp = time(bytes(v)?)?,
            9 => m.deletion_timestamp = time(bytes(v)?)?,
            11 | 12 => {
                let (k, val) = map_entry(bytes(v)?)?;
                if n == 11 {
                    &mut m.labels
                } else {
                    &mut m.annotations
                }
                .insert(k, val);
            }
            13 => m.owner_references.push(owner_ref(bytes(v)?)?),
            _ => {}
        }
        Ok(())
    })?;
    m.shrink_to_fit();
    Ok(m)
}

/// A `map<string, string>` entry: key 1, value 2.
fn map_entry(buf: &[u8]) -> Result<(Str, Str)> {
    let (mut k, mut val) = (Str::default(), Str::default());
    each(buf, |n, v| {
        match n {
            1 => k = string(v)?,
            2 => val = string(v)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok((k, val))
}

/// OwnerReference: kind 1, name 3, controller 6.
fn owner_ref(buf: &[u8]) -> Result<OwnerRef> {
    let mut o = OwnerRef::default();
    each(buf, |n, v| {
        match n {
            1 => o.kind = string(v)?,
            3 => o.name = string(v)?,
            6 => o.controller = Some(int(v)? != 0),
            _ => {}
        }
        Ok(())
    })?;
    Ok(o)
}

/// metav1.Time as a Timestamp (seconds 1, nanos 2), in the RFC 3339 form JSON uses. An empty
/// message is the zero time, which JSON writes as null.
fn time(buf: &[u8]) -> Result<Option<Str>> {
    if buf.is_empty() {
        return Ok(None);
    }
    let mut secs = 0i64;
    each(buf, |n, v| {
        if n == 1 {
            secs = int(v)? as i64;
        }
        Ok(())
    })?;
    Ok(Some(rfc3339(secs)))
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar).
pub fn rfc3339(secs: i64) -> Str {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 0000-03-01, in 400-year eras of 146,097 days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    if !(0..=9999).contains(&year) {
        return compact_str::format_compact!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z");
    }
    // Every object and condition carries a time: digits put in place, not through format!.
    let mut b = *b"0000-00-00T00:00:00Z";
    for (at, width, mut v) in [
        (0, 4, year),
        (5, 2, month),
        (8, 2, day),
        (11, 2, h),
        (14, 2, m),
        (17, 2, s),
    ] {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    // Only ASCII digits and separators were written.
    Str::from_utf8(b).unwrap_or_default()
}

/// PodSpec: containers 2, nodeName 10, hostNetwork 11. Scheduling fields are pruned anyway.
fn pod_spec(buf: &[u8], pod: &mut Pod) -> Result<()> {
    let s = &mut pod.spec;
    let mut containers = Vec::new();
    each(buf, |n, v| {
        match n {
            2 => containers.push(bytes(v)?),
            10 => s.node_name = opt_string(v)?,
            11 => s.host_network = int(v)? != 0,
            _ => {}
        }
        Ok(())
    })?;
    s.containers = SHARED.with_borrow_mut(|sh| sh.containers.get(&containers, container))?;
    Ok(())
}

/// Container: name 1, image 2, command 3, args 4, env 7 (EnvVar: name 1, value 2, valueFrom
/// 3), envFrom 19.
fn container(buf: &[u8]) -> Result<Container> {
    let mut c = Container::default();
    each(buf, |n, v| {
        match n {
            1 => c.name = string(v)?,
            2 => c.image = string(v)?,
            3 => c.command.push(string(v)?),
            4 => c.args.push(string(v)?),
            6 => c.ports.push(container_port(bytes(v)?)?),
            7 => {
                let mut e = EnvVar::default();
                each(bytes(v)?, |n, v| {
                    match n {
                        1 => e.name = string(v)?,
                        2 => e.value = opt_string(v)?,
                        3 => e.value_from = Some(env_var_source(bytes(v)?)?),
                        _ => {}
                    }
                    Ok(())
                })?;
                c.env.push(e);
            }
            19 => c.env_from.push(env_from(bytes(v)?)?),
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

/// EnvVarSource: fieldRef 1 (fieldPath 2), configMapKeyRef 3, secretKeyRef 4 (both: name 1
/// inside LocalObjectReference 1, key 2).
fn env_var_source(buf: &[u8]) -> Result<EnvVarSource> {
    let key_selector = |buf: &[u8]| -> Result<KeySelector> {
        let mut k = KeySelector::default();
        each(buf, |n, v| {
            match n {
                1 => k.name = local_name(bytes(v)?)?,
                2 => k.key = string(v)?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(k)
    };
    let mut s = EnvVarSource::default();
    each(buf, |n, v| {
        match n {
            1 => {
                let mut f = FieldSelector::default();
                each(bytes(v)?, |n, v| {
                    if n == 2 {
                        f.field_path = string(v)?;
                    }
                    Ok(())
                })?;
                s.field_ref = Some(f);
            }
            3 => s.config_map_key_ref = Some(key_selector(bytes(v)?)?),
            4 => s.secret_key_ref = Some(key_selector(bytes(v)?)?),
            _ => {}
        }
        Ok(())
    })?;
    Ok(s)
}

/// EnvFromSource: prefix 1, configMapRef 2, secretRef 3 (both: name 1 inside
/// LocalObjectReference 1).
fn env_from(buf: &[u8]) -> Result<EnvFromSource> {
    let name_ref = |buf: &[u8]| -> Result<NameRef> {
        let mut r = NameRef::default();
        each(buf, |n, v| {
            if n == 1 {
                r.name = local_name(bytes(v)?)?;
            }
            Ok(())
        })?;
        Ok(r)
    };
    let mut e = EnvFromSource::default();
    each(buf, |n, v| {
        match n {
            1 => e.prefix = opt_string(v)?,
            2 => e.config_map_ref = Some(name_ref(bytes(v)?)?),
            3 => e.secret_ref = Some(name_ref(bytes(v)?)?),
            _ => {}
        }
        Ok(())
    })?;
    Ok(e)
}

/// LocalObjectReference: name 1.
fn local_name(buf: &[u8]) -> Result<String> {
    let mut name = String::new();
    each(buf, |n, v| {
        if n == 1 {
            name = string(v)?;
        }
        Ok(())
    })?;
    Ok(name)
}

/// PodStatus: phase 1, conditions 2, hostIP 5, podIP 6, startTime 7, containerStatuses 8,
/// podIPs 12.
/// `keep`: the pod is kept, and its conditions are shared with equal ones (a not-ready workload
/// pod's status is read for its reason and dropped: its lists would only fill the cache).
fn pod_status(buf: &[u8], s: &mut PodStatus, keep: bool) -> Result<()> {
    let mut conditions = Vec::new();
    each(buf, |n, v| {
        match n {
            1 => s.phase = opt_string(v)?,
            2 => conditions.push(pod_condition(bytes(v)?)?),
            6 => s.pod_ip = opt_string(v)?,
            12 => {
                let mut ip = PodIp::default();
                each(bytes(v)?, |n, v| {
                    if n == 1 {
                        ip.ip = string(v)?;
                    }
                    Ok(())
                })?;
                s.pod_ips.push(ip);
            }
            5 => s.host_ip = opt_string(v)?,
            7 => s.start_time = time(bytes(v)?)?,
            8 => s.container_statuses.push(container_status(bytes(v)?)?),
            _ => {}
        }
        Ok(())
    })?;
    s.conditions = match keep {
        true => SHARED.with_borrow_mut(|sh| sh.conditions.share(conditions)),
        false => conditions.into(),
    };
    Ok(())
}

/// PodCondition: type 1, status 2, reason 5, message 6.
fn pod_condition(buf: &[u8]) -> Result<Condition> {
    let mut c = Condition::default();
    each(buf, |n, v| {
        match n {
            1 => c.kind = string(v)?,
            2 => c.status = string(v)?,
            5 => c.reason = opt_string(v)?,
            6 => c.message = opt_string(v)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

/// ContainerStatus: name 1, state 2, lastState 3, ready 4, restartCount 5.
fn container_status(buf: &[u8]) -> Result<ContainerStatus> {
    let mut c = ContainerStatus::default();
    each(buf, |n, v| {
        match n {
            1 => c.name = string(v)?,
            2 => c.state = container_state(bytes(v)?)?,
            3 => c.last_state = container_state(bytes(v)?)?,
            4 => c.ready = int(v)? != 0,
            5 => c.restart_count = int(v)? as i32 as u32,
            _ => {}
        }
        Ok(())
    })?;
    Ok(c)
}

/// ContainerState: waiting 1 (reason 1, message 2), running 2 (startedAt 1), terminated 3
/// (exitCode 1, reason 3, message 4, startedAt 5).
fn container_state(buf: &[u8]) -> Result<Option<ContainerState>> {
    let mut s = ContainerState::default();
    each(buf, |n, v| {
        let detail = |layout: [u64; 4]| -> Result<StateDetail> {
            let mut d = StateDetail::default();
            each(bytes(v)?, |n, v| {
                match n {
                    _ if n == layout[0] => d.exit_code = Some(int(v)? as i32),
                    _ if n == layout[1] => d.reason = opt_string(v)?,
                    _ if n == layout[2] => d.message = opt_string(v)?,
                    _ if n == layout[3] => d.started_at = time(bytes(v)?)?,
                    _ => {}
                }
                Ok(())
            })?;
            Ok(d)
        };
        // Field numbers of exitCode, reason, message and startedAt in each state (0: none).
        match n {
            1 => s.waiting = Some(Box::new(detail([0, 1, 2, 0])?)),
            2 => s.running = Some(Box::new(detail([0, 0, 0, 1])?)),
            3 => s.terminated = Some(Box::new(detail([1, 3, 4, 5])?)),
            _ => {}
        }
        Ok(())
    })?;
    // An empty ContainerState is what JSON writes as `{}`; the model keeps it as such.
    Ok(Some(s))
}

/// Node: metadata 1, spec 2, status 3. A node's bulk is its image list, allocatable and
/// managedFields (8 KB of JSON each), all stepped over.
/// NodeSpec: podCIDR 1, providerID 3, unschedulable 4, taints 5 (key 1, value 2, effect 3),
/// podCIDRs 7. NodeStatus: capacity 1 (of which only `pods`), conditions 4 (numbered as
/// PodCondition), addresses 5 (type 1, address 2), nodeInfo 7 (osImage 5, kubeletVersion 7,
/// kubeProxyVersion 8, operatingSystem 9).
pub fn node(buf: &[u8]) -> Result<Node> {
    let mut node = Node::default();
    each(buf, |n, v| {
        match n {
            1 => node.metadata = object_meta(bytes(v)?)?,
            2 => {
                let sp = &mut node.spec;
                each(bytes(v)?, |n, v| {
                    match n {
                        1 => sp.pod_cidr = opt_string(v)?,
                        3 => sp.provider_id = opt_string(v)?,
                        4 => sp.unschedulable = int(v)? != 0,
                        5 => {
                            let mut t = Taint::default();
                            each(bytes(v)?, |n, v| {
                                match n {
                                    1 => t.key = string(v)?,
                                    2 => t.value = opt_string(v)?,
                                    3 => t.effect = string(v)?,
                                    _ => {}
                                }
                                Ok(())
                            })?;
                            sp.taints.push(t);
                        }
                        7 => sp.pod_cidrs.push(string(v)?),
                        _ => {}
                    }
                    Ok(())
                })?;
            }
            3 => {
                let st = &mut node.status;
                each(bytes(v)?, |n, v| {
                    match n {
                        1 => {
                            let (mut key, mut qty) = (&[][..], &[][..]);
                            each(bytes(v)?, |n, v| {
                                match n {
                                    1 => key = bytes(v)?,
                                    2 => qty = bytes(v)?,
                                    _ => {}
                                }
                                Ok(())
                            })?;
                            if key == b"pods" {
                                each(qty, |n, v| {
                                    if n == 1 {
                                        st.capacity.pods = Some(string(v)?);
                                    }
                                    Ok(())
                                })?;
                            }
                        }
                        4 => st.conditions.push(pod_condition(bytes(v)?)?),
                        5 => {
                            let mut a = NodeAddress::default();
                            each(bytes(v)?, |n, v| {
                                match n {
                                    1 => a.kind = string(v)?,
                                    2 => a.address = string(v)?,
                                    _ => {}
                                }
                                Ok(())
                            })?;
                            st.addresses.push(a);
                        }
                        7 => {
                            let mut i = NodeInfo::default();
                            each(bytes(v)?, |n, v| {
                                match n {
                                    5 => i.os_image = string(v)?,
                                    7 => i.kubelet_version = string(v)?,
                                    8 => i.kube_proxy_version = string(v)?,
                                    9 => i.operating_system = string(v)?,
                                    _ => {}
                                }
                                Ok(())
                            })?;
                            st.node_info = Some(i);
                        }
                        _ => {}
                    }
                    Ok(())
                })?;
            }
            _ => {}
        }
        Ok(())
    })?;
    node.shrink_to_fit();
    Ok(node)
}

/// Service: metadata 1, spec 2, status 3. Read in protobuf for the same reason as pods: each
/// carries managedFields that JSON would have to scan.
pub fn service(buf: &[u8]) -> Result<Service> {
    let mut s = Service::default();
    each(buf, |n, v| {
        match n {
            1 => s.metadata = object_meta(bytes(v)?)?,
            2 => service_spec(bytes(v)?, &mut s.spec)?,
            3 => each(bytes(v)?, |n, v| {
                match n {
                    1 => {
                        let mut lb = LoadBalancerStatus::default();
                        each(bytes(v)?, |n, v| {
                            if n == 1 {
                                lb.ingress.push(lb_ingress(bytes(v)?)?);
                            }
                            Ok(())
                        })?;
                        s.status.load_balancer = Some(lb);
                    }
                    // metav1.Condition numbers type, status, reason and message as PodCondition.
                    2 => s.status.conditions.push(pod_condition(bytes(v)?)?),
                    _ => {}
                }
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    s.shrink_to_fit();
    Ok(s)
}

/// ServiceSpec: ports 1, selector 2, clusterIP 3, type 4, externalIPs 5, sessionAffinity 7,
/// loadBalancerIP 8, externalName 10, externalTrafficPolicy 11, healthCheckNodePort 12,
/// publishNotReadyAddresses 13, ipFamilyPolicy 17, clusterIPs 18, ipFamilies 19,
/// loadBalancerClass 21, internalTrafficPolicy 22.
fn service_spec(buf: &[u8], sp: &mut ServiceSpec) -> Result<()> {
    each(buf, |n, v| {
        match n {
            1 => sp.ports.push(service_port(bytes(v)?)?),
            2 => {
                let (k, val) = map_entry(bytes(v)?)?;
                sp.selector
                    .get_or_insert_with(Default::default)
                    .insert(k, val);
            }
            3 => sp.cluster_ip = opt_string(v)?,
            4 => sp.kind = opt_string(v)?,
            5 => sp.external_ips.push(string(v)?),
            7 => sp.session_affinity = opt_string(v)?,
            8 => sp.load_balancer_ip = opt_string(v)?,
            10 => sp.external_name = opt_string(v)?,
            11 => sp.external_traffic_policy = opt_string(v)?,
            12 => sp.health_check_node_port = Some(int(v)? as i32).filter(|p| *p != 0),
            13 => sp.publish_not_ready_addresses = int(v)? != 0,
            // Pointers in Go, so present means set, as in JSON.
            17 => sp.ip_family_policy = Some(string(v)?),
            18 => sp.cluster_ips.push(string(v)?),
            19 => sp.ip_families.push(string(v)?),
            21 => sp.load_balancer_class = Some(string(v)?),
            22 => sp.internal_traffic_policy = Some(string(v)?),
            _ => {}
        }
        Ok(())
    })
}

/// ServicePort: name 1, protocol 2, port 3, targetPort 4 (IntOrString: type 1, intVal 2,
/// strVal 3), nodePort 5, appProtocol 6. Zero numbers are what JSON leaves out.
fn service_port(buf: &[u8]) -> Result<ServicePort> {
    let mut p = ServicePort::default();
    each(buf, |n, v| {
        match n {
            1 => p.name = opt_string(v)?,
            2 => p.protocol = opt_string(v)?,
            3 => p.port = int(v)? as i32,
            4 => {
                let (mut is_str, mut num, mut text) = (false, 0, String::new());
                each(bytes(v)?, |n, v| {
                    match n {
                        1 => is_str = int(v)? == 1,
                        2 => num = int(v)? as i32,
                        3 => text = string(v)?,
                        _ => {}
                    }
                    Ok(())
                })?;
                p.target_port = match is_str {
                    true => Some(IntOrString::Str(text)),
                    false => Some(IntOrString::Int(num)).filter(|_| num != 0),
                };
            }
            5 => p.node_port = Some(int(v)? as i32).filter(|p| *p != 0),
            6 => p.app_protocol = opt_string(v)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(p)
}

/// LoadBalancerIngress: ip 1, hostname 2, ipMode 3 (a pointer).
fn lb_ingress(buf: &[u8]) -> Result<LoadBalancerIngress> {
    let mut i = LoadBalancerIngress::default();
    each(buf, |n, v| {
        match n {
            1 => i.ip = opt_string(v)?,
            2 => i.hostname = opt_string(v)?,
            3 => i.ip_mode = Some(string(v)?),
            _ => {}
        }
        Ok(())
    })?;
    Ok(i)
}

/// EndpointSlice (discovery/v1): metadata 1, endpoints 2, ports 3 (EndpointPort: name 1,
/// protocol 2, port 3, appProtocol 4), addressType 4.
pub fn endpoint_slice(buf: &[u8]) -> Result<EndpointSlice> {
    let mut s = EndpointSlice::default();
    each(buf, |n, v| {
        match n {
            1 => s.metadata = object_meta(bytes(v)?)?,
            2 => s.endpoints.push(endpoint(bytes(v)?)?),
            3 => {
                let mut p = EndpointPort::default();
                each(bytes(v)?, |n, v| {
                    // All pointers in Go: present, even empty, means set.
                    match n {
                        1 => p.name = Some(string(v)?),
                        2 => p.protocol = Some(string(v)?),
                        3 => p.port = Some(int(v)? as i32),
                        _ => {}
                    }
                    Ok(())
                })?;
                s.ports.push(p);
            }
            4 => s.address_type = text(bytes(v)?),
            _ => {}
        }
        Ok(())
    })?;
    s.shrink_to_fit();
    Ok(s)
}

/// Endpoint: addresses 1, conditions 2 (ready 1, serving 2, terminating 3), targetRef 4
/// (ObjectReference: kind 1, namespace 2, name 3), nodeName 6.
fn endpoint(buf: &[u8]) -> Result<Endpoint> {
    let mut e = Endpoint::default();
    let mut addresses = Few::<_, 1>::new();
    each(buf, |n, v| {
        match n {
            1 => addresses.push(bytes(v)?),
            2 => each(bytes(v)?, |n, v| {
                let set = Some(int(v)? != 0);
                match n {
                    1 => e.conditions.ready = set,
                    2 => e.conditions.serving = set,
                    3 => e.conditions.terminating = set,
                    _ => {}
                }
                Ok(())
            })?,
            4 => {
                let mut t = TargetRef::default();
                each(bytes(v)?, |n, v| {
                    match n {
                        1 => t.kind = shared_name(bytes(v)?),
                        2 => {
                            t.namespace = Some(bytes(v)?).filter(|s| !s.is_empty()).map(shared_name)
                        }
                        3 => t.name = pod_name(bytes(v)?),
                        _ => {}
                    }
                    Ok(())
                })?;
                e.target_ref = Some(t);
            }
            6 => e.node_name = Some(shared_name(bytes(v)?)),
            _ => {}
        }
        Ok(())
    })?;
    e.addresses = addresses
        .as_slice()
        .iter()
        .map(|a| lossy(a).into())
        .collect();
    Ok(e)
}

/// A name many objects repeat (nodes, kinds), one copy per thread.
fn shared_name(b: &[u8]) -> Name {
    SHARED.with(|s| s.borrow_mut().names.name(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_730_534_400), "2024-11-02T08:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(
            rfc3339(1_730_534_400 + 13 * 3600 + 7 * 60 + 9),
            "2024-11-02T21:07:09Z"
        );
        assert_eq!(rfc3339(-62_135_596_800), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_800), "10000-01-01T00:00:00Z");
    }

    #[test]
    fn varints_of_every_width_read_back() {
        let values = [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            2_097_151,
            1 << 35,
            u64::MAX,
        ];
        for v in values {
            let mut enc = vec![];
            let mut x = v;
            while x >= 0x80 {
                enc.push(x as u8 | 0x80);
                x >>= 7;
            }
            enc.push(x as u8);
            enc.push(0xaa);
            let mut buf = &enc[..];
            assert_eq!(varint(&mut buf), Ok(v), "{v}");
            assert_eq!(buf, [0xaa], "{v}: bytes left");
        }
        assert!(varint(&mut &[0x80][..]).is_err());
        assert!(varint(&mut &[0x80, 0x80][..]).is_err());
    }

    #[test]
    fn text_is_checked_whatever_its_bytes() {
        assert_eq!(utf8(b"node-1"), Some("node-1"));
        assert_eq!(utf8("nœud-ü".as_bytes()), Some("nœud-ü"));
        assert_eq!(utf8(b"a\xffb"), None);
        assert_eq!(utf8(b""), Some(""));
        assert_eq!(lossy("Übergröße".as_bytes()), "Übergröße");
        assert_eq!(lossy(b"web-\xc3"), "web-\u{fffd}");
        let long = "x".repeat(100) + "é";
        assert_eq!(utf8(long.as_bytes()), Some(long.as_str()));
        assert_eq!(utf8(&long.as_bytes()[..101]), None);
    }

    fn stream(body: &[u8], chunk: usize) -> Result<(Option<String>, usize)> {
        let mut st = ListStream::new(|b: &[u8]| Ok(b.len()));
        for c in body.chunks(chunk.max(1)) {
            st.feed(c)?;
        }
        st.finish()?;
        Ok((st.cont, st.items.iter().sum()))
    }

    #[test]
    fn streamed_decoding_matches_whole_decoding_at_every_chunk_size() {
        use netcheck_testkit::proto::{envelope, put_bytes};
        let mut raw = Vec::new();
        let mut meta = Vec::new();
        put_bytes(&mut meta, 3, b"next-token");
        put_bytes(&mut raw, 1, &meta);
        for n in [0usize, 1, 127, 128, 300, 20_000] {
            put_bytes(&mut raw, 2, &vec![7u8; n]);
        }
        let body = envelope("v1", "PodList", &raw);
        let want = (Some("next-token".to_string()), 20_556);
        for chunk in [1, 2, 3, 7, 64, 1000, 4096, body.len()] {
            assert_eq!(stream(&body, chunk), Ok(want.clone()), "chunk {chunk}");
        }
        // Cut anywhere inside the list: an error at the end, never a silent short list.
        for cut in (0..body.len() - 4).step_by(97) {
            assert!(stream(&body[..cut], 1000).is_err(), "cut at {cut}");
        }
    }

    /// More labels, owners, ports and addresses than a pod's reader holds in place: read as
    /// the JSON path reads them.
    #[test]
    fn pods_past_the_inline_capacities_read_as_from_json() {
        use serde_json::json;
        let labels: serde_json::Map<String, serde_json::Value> = (0..11)
            .map(|i| (format!("k{i:02}"), json!(format!("v{i}"))))
            .collect();
        let owners = |last: &str| {
            json!([{"kind": "ReplicaSet", "name": "a"}, {"kind": "Other", "name": "b"},
                   {"kind": last, "name": "c"}])
        };
        let ports: Vec<_> = (0..6)
            .map(|i| json!({"name": format!("p{i}"), "containerPort": 8000 + i, "protocol": "TCP"}))
            .collect();
        for (last, infra) in [("Job", false), ("Node", true)] {
            let v = json!({
                "metadata": {"name": "web-1", "namespace": "shop", "labels": labels,
                             "ownerReferences": owners(last)},
                "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": ports}]},
                "status": {"phase": "Running", "podIP": "10.0.0.9",
                           "podIPs": [{"ip": "10.0.0.9"}, {"ip": "fd00::9"}, {"ip": "10.0.1.9"}],
                           "conditions": [{"type": "Ready", "status": "True"}]}
            });
            let from_json: Pod = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(from_json.is_infra(), infra);
            let bytes = netcheck_testkit::proto::encode("Pod", &v).unwrap();
            match (pod(&bytes).unwrap(), infra) {
                (PodEntry::Workload(w), false) => {
                    assert_eq!(w, WorkloadPod::from(&from_json));
                    assert_eq!(
                        (w.labels.iter().count(), w.ports.len(), w.ips.len()),
                        (11, 6, 3)
                    );
                }
                (PodEntry::Infra(p), true) => assert_eq!(p.metadata.labels.len(), 11),
                (_, want) => panic!("owner {last}: read as infra {}, want {want}", !want),
            }
        }
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let cases: &[&[u8]] = &[
            b"",
            b"k8s",
            b"{\"items\":[]}",
            b"k8s\0\x12\x05ab",           // raw claims 5 bytes, 2 left
            b"k8s\0\x12\x02\x12\xff",     // item length varint cut short
            b"k8s\0\x12\x03\x12\x01\x0b", // a group start (wire type 3)
            b"k8s\0\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        ];
        for c in cases {
            let mut st = ListStream::new(pod);
            assert!(st.feed(c).and_then(|_| st.finish()).is_err(), "{c:?}");
            let mut st = ListStream::new(node);
            assert!(st.feed(c).and_then(|_| st.finish()).is_err(), "{c:?}");
        }
        // A node whose taint claims more bytes than its spec holds.
        assert!(node(b"\x12\x02\x2a\x05").is_err());
    }
}
