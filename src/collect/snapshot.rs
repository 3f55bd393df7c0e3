//! Loading and saving snapshots: the cluster model as one versioned JSON document.

use super::Fatal;
use crate::model::{
    Cluster, EndpointSlice, Node, Pod, Service, Shared, WorkloadPod, SNAPSHOT_API_VERSION,
    SNAPSHOT_KIND,
};
use serde::Serialize;
use serde_json::value::RawValue;
use std::io::{BufReader, Read, Write};
use std::path::Path;

/// Larger files are refused before parsing, so a stray multi-gigabyte file cannot exhaust memory.
pub const MAX_SNAPSHOT_BYTES: u64 = 512 * 1024 * 1024;

pub fn load(path: &Path) -> Result<Cluster, Fatal> {
    let shown = path.display();
    let f = std::fs::File::open(path)
        .map_err(|e| Fatal(format!("snapshot {shown}: cannot open: {e}")))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    if size > MAX_SNAPSHOT_BYTES {
        return Err(Fatal(format!(
            "snapshot {shown} is {} MiB; netcheck reads snapshots of at most {} MiB (is this a netcheck snapshot?)",
            size >> 20,
            MAX_SNAPSHOT_BYTES >> 20
        )));
    }
    // The limit also guards files that grow while read (pipes, /dev/zero).
    let reader = BufReader::with_capacity(1 << 20, f.take(MAX_SNAPSHOT_BYTES + 1));
    let mut c = from_reader(reader, &shown.to_string())?;
    c.source.mode = "snapshot".into();
    c.source.file = Some(path.display().to_string());
    Ok(c)
}

/// Parses and version-checks a snapshot; `shown` names it in errors.
pub fn from_reader(reader: impl Read, shown: &str) -> Result<Cluster, Fatal> {
    let mut c: Cluster = serde_json::from_reader(reader).map_err(|e| Fatal(describe(shown, e)))?;
    if c.api_version != SNAPSHOT_API_VERSION || c.kind != SNAPSHOT_KIND {
        return Err(Fatal(format!(
            "snapshot {shown}: apiVersion {:?} kind {:?} is not supported; expected apiVersion {SNAPSHOT_API_VERSION:?} kind {SNAPSHOT_KIND:?}",
            c.api_version, c.kind
        )));
    }
    c.compact();
    Ok(c)
}

fn describe(shown: &str, e: serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => format!("snapshot {shown} is truncated (ended at line {}, column {}); expected a complete netcheck snapshot JSON document", e.line(), e.column()),
        Category::Syntax => format!("snapshot {shown} is not valid JSON: {e}"),
        Category::Data => format!("snapshot {shown} does not match the netcheck/v1 snapshot format: {e}"),
        Category::Io => format!("snapshot {shown}: read failed: {e}"),
    }
}

/// The snapshot's JSON, as `serde_json::to_writer` writes it (the same bytes), but with its
/// large lists encoded on two threads: at 5,000 nodes encoding was 0.27 s of a 1.2 s `snapshot`,
/// all of it after the last read (perf). The derived `Serialize` of [`Cluster`] still decides
/// the fields, their order and which are left out; [`Fields`] only writes them, and hands the
/// lists it knows to [`list`]. Generic over the writer: serde_json writes in millions of small
/// pieces, and through `dyn Write` each was a call BufWriter's fast path could not be inlined into.
pub fn save(c: &Cluster, w: &mut impl Write) -> std::io::Result<()> {
    c.serialize(Fields { c, w, first: true })
        .map_err(std::io::Error::from)?;
    writeln!(w)
}

/// Items a block: about 110 KB of JSON for workload pods and 600 KB for EndpointSlices, so that
/// the four blocks in flight at most cost little memory (2,048 cost 8 MB of peak RSS at 5,000
/// nodes), and yet a 150,000-pod list is a few hundred hand-overs.
const BLOCK_ITEMS: usize = 512;

/// A list's JSON: `[`, the items separated by commas, `]`, as serde_json writes a sequence.
/// Blocks of items are encoded alternately by two threads; this one writes them in order.
fn list<T: Item>(items: &[T], w: &mut impl Write) -> std::io::Result<()> {
    // `room`: the lane's last block's size, as a guess at this one's.
    fn encode<T: Item>(
        block: &[T],
        first: bool,
        room: usize,
        memo: &mut T::Memo,
    ) -> serde_json::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(room);
        for (i, x) in block.iter().enumerate() {
            if i > 0 || !first {
                buf.push(b',');
            }
            x.write(&mut buf, memo)?;
        }
        Ok(buf)
    }
    w.write_all(b"[")?;
    if items.len() <= BLOCK_ITEMS {
        w.write_all(&encode(items, true, 0, &mut T::Memo::default())?)?;
        return w.write_all(b"]");
    }
    let blocks: Vec<&[T]> = items.chunks(BLOCK_ITEMS).collect();
    std::thread::scope(|s| {
        let lanes: Vec<_> = (0..2)
            .map(|lane| {
                // One block queued a lane, one being encoded.
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                let blocks = &blocks;
                s.spawn(move || {
                    let (mut room, mut memo) = (0, T::Memo::default());
                    for (i, b) in blocks.iter().enumerate().skip(lane).step_by(2) {
                        let block = encode(b, i == 0, room + room / 8, &mut memo);
                        room = block.as_ref().map_or(0, Vec::len);
                        if tx.send(block).is_err() {
                            break;
                        }
                    }
                });
                rx
            })
            .collect();
        for i in 0..blocks.len() {
            let block = lanes[i % 2]
                .recv()
                .map_err(|_| std::io::Error::other("a snapshot encoder stopped"))??;
            w.write_all(&block)?;
        }
        Ok::<_, std::io::Error>(())
    })?;
    w.write_all(b"]")
}

/// An item of a list [`list`] writes: as serde_json writes it, with what one encoding lane
/// remembers from one item to the next.
trait Item: Serialize + Sync {
    type Memo: Default;
    fn write(&self, buf: &mut Vec<u8>, _: &mut Self::Memo) -> serde_json::Result<()> {
        serde_json::to_writer(buf, self)
    }
}

impl Item for Node {
    type Memo = ();
}
impl Item for Pod {
    type Memo = ();
}
impl Item for Service {
    type Memo = ();
}
impl Item for EndpointSlice {
    type Memo = ();
}

/// A workload pod's label set and port list are shared by the pods of its template, which a
/// list read in key order brings together: each lane copies the JSON it last wrote for the
/// same set rather than encoding it again (perf of a 5,000-node `snapshot`: serde_json's string
/// escaping and map entries were half the encoding, which runs after the last read). The
/// addresses stay the values' own while the cluster is borrowed.
#[derive(Default)]
struct PodMemo {
    labels: Option<(usize, Box<RawValue>)>,
    ports: Option<(usize, Box<RawValue>)>,
}

fn remembered<'m, T: Shared + Serialize>(
    v: &T,
    memo: &'m mut Option<(usize, Box<RawValue>)>,
) -> serde_json::Result<&'m RawValue> {
    let at = v.address();
    if memo.as_ref().is_none_or(|(a, _)| *a != at) {
        *memo = Some((at, serde_json::value::to_raw_value(v)?));
    }
    Ok(&memo.as_ref().expect("just set").1)
}

impl Item for WorkloadPod {
    type Memo = PodMemo;
    fn write(&self, buf: &mut Vec<u8>, memo: &mut PodMemo) -> serde_json::Result<()> {
        /// [`WorkloadPod`]'s fields, order and omissions as its derived `Serialize` writes
        /// them (the test below compares the two).
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Written<'a> {
            namespace: &'a str,
            name: &'a crate::model::PodName,
            #[serde(skip_serializing_if = "str::is_empty")]
            node: &'a str,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            host_network: bool,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            finished: bool,
            #[serde(skip_serializing_if = "<[std::net::IpAddr]>::is_empty")]
            ips: &'a [std::net::IpAddr],
            #[serde(skip_serializing_if = "Option::is_none")]
            labels: Option<&'a RawValue>,
            #[serde(skip_serializing_if = "Option::is_none")]
            ports: Option<&'a RawValue>,
            #[serde(skip_serializing_if = "crate::model::is_true")]
            ready: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            not_ready: Option<&'a str>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            terminating: bool,
        }
        let PodMemo { labels, ports } = memo;
        let labels = match self.labels.is_empty() {
            true => None,
            false => Some(remembered(&self.labels, labels)?),
        };
        let ports = match self.ports.is_empty() {
            true => None,
            false => Some(remembered(&self.ports, ports)?),
        };
        let w = Written {
            namespace: &self.namespace,
            name: &self.name,
            node: &self.node,
            host_network: self.host_network,
            finished: self.finished,
            ips: &self.ips,
            labels,
            ports,
            ready: self.ready,
            not_ready: self.not_ready.as_deref(),
            terminating: self.terminating,
        };
        serde_json::to_writer(buf, &w)
    }
}

/// Writes the top-level object of a snapshot field by field, as serde_json would. Only
/// `serialize_struct` is ever called: the snapshot is a struct.
struct Fields<'a, W> {
    c: &'a Cluster,
    w: &'a mut W,
    first: bool,
}

impl<W: Write> serde::ser::SerializeStruct for Fields<'_, W> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> serde_json::Result<()> {
        let io = serde_json::Error::io;
        self.w
            .write_all(if self.first { b"{" } else { b"," })
            .map_err(io)?;
        self.first = false;
        serde_json::to_writer(&mut *self.w, key)?;
        self.w.write_all(b":").map_err(io)?;
        let c = self.c;
        match key {
            "nodes" => list(&c.nodes, self.w).map_err(io),
            "pods" => list(&c.pods, self.w).map_err(io),
            "workloadPods" => list(&c.workload_pods, self.w).map_err(io),
            "services" => list(&c.services, self.w).map_err(io),
            "endpointSlices" => list(&c.endpoint_slices, self.w).map_err(io),
            _ => serde_json::to_writer(&mut *self.w, value),
        }
    }
    fn end(self) -> serde_json::Result<()> {
        let close: &[u8] = if self.first { b"{}" } else { b"}" };
        self.w.write_all(close).map_err(serde_json::Error::io)
    }
}

fn refuse<T>() -> serde_json::Result<T> {
    Err(serde::ser::Error::custom("a snapshot is a struct"))
}

macro_rules! not_a_struct {
    ($($f:ident($($t:ty),*)),* $(,)?) => {
        $(fn $f(self, $(_: $t),*) -> serde_json::Result<()> {
            refuse()
        })*
    };
}

impl<'a, W: Write> serde::Serializer for Fields<'a, W> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = serde::ser::Impossible<(), serde_json::Error>;
    type SerializeTuple = serde::ser::Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = serde::ser::Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = serde::ser::Impossible<(), serde_json::Error>;
    type SerializeMap = serde::ser::Impossible<(), serde_json::Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = serde::ser::Impossible<(), serde_json::Error>;
    fn serialize_struct(self, _: &'static str, _: usize) -> serde_json::Result<Self> {
        Ok(self)
    }
    not_a_struct!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> serde_json::Result<()> {
        refuse()
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> serde_json::Result<()> {
        refuse()
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> serde_json::Result<()> {
        refuse()
    }
    fn serialize_seq(self, _: Option<usize>) -> serde_json::Result<Self::SerializeSeq> {
        refuse()
    }
    fn serialize_tuple(self, _: usize) -> serde_json::Result<Self::SerializeTuple> {
        refuse()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> serde_json::Result<Self::SerializeTupleStruct> {
        refuse()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> serde_json::Result<Self::SerializeTupleVariant> {
        refuse()
    }
    fn serialize_map(self, _: Option<usize>) -> serde_json::Result<Self::SerializeMap> {
        refuse()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> serde_json::Result<Self::SerializeStructVariant> {
        refuse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Cluster {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cka-lab.json");
        load(&path).unwrap()
    }

    /// Lists of one, two and several blocks, the last block partial: the bytes are serde_json's.
    #[test]
    fn save_writes_what_serde_json_writes() {
        let mut c = example();
        assert!(!c.nodes.is_empty() && !c.pods.is_empty() && !c.services.is_empty());
        saved_as_serde_would(&c, "the example");

        let grow = |n: usize, w: &mut Vec<crate::model::WorkloadPod>| {
            let one = w[0].clone();
            w.extend((0..n).map(|i| {
                let mut p = one.clone();
                p.name = format!("{}-{i}", p.name).as_str().into();
                p
            }));
        };
        if c.workload_pods.is_empty() {
            c.workload_pods = c.pods.iter().map(Into::into).collect();
        }
        grow(2 * BLOCK_ITEMS + 5, &mut c.workload_pods);
        let nodes = c.nodes.clone();
        c.nodes = nodes
            .iter()
            .cycle()
            .take(BLOCK_ITEMS + 1)
            .cloned()
            .collect();
        saved_as_serde_would(&c, "several blocks");

        // Every field of a workload pod, set and unset, text that needs escaping, and label
        // sets and port lists shared by neighbours (copied) or not (encoded): over several
        // blocks, so that both lanes meet each.
        let mut varied: Vec<WorkloadPod> = serde_json::from_str(
            r#"[
            {"namespace":"a","name":"web-1","node":"n1","ips":["10.0.0.1"],"labels":{"app":"x","q":"a\"b\\c\u00e9"},"ports":[{"name":"http","containerPort":80,"protocol":"TCP"}]},
            {"namespace":"a","name":"web-2","ips":["10.0.0.2","fd00::2"],"labels":{"app":"x","q":"a\"b\\c\u00e9"},"ports":[{"name":"http","containerPort":80,"protocol":"TCP"}],"ready":false,"notReady":"container main CrashLoopBackOff: \"x\"","terminating":true,"finished":true,"hostNetwork":true},
            {"namespace":"b","name":"lone","node":"n2"},
            {"namespace":"b","name":"dns-1","node":"n2","labels":{"app":"y"},"ports":[{"containerPort":53,"protocol":"UDP"}]},
            {"namespace":"b","name":"dns-2","node":"n3","labels":{"app":"y"},"ports":[{"containerPort":53,"protocol":"UDP"}]}
            ]"#,
        )
        .unwrap();
        let mut shapes = crate::model::Shapes::default();
        varied.iter_mut().for_each(|w| shapes.share(w));
        assert_eq!(varied[0].labels.address(), varied[1].labels.address());
        c.workload_pods = varied
            .iter()
            .cycle()
            .take(3 * BLOCK_ITEMS + 7)
            .cloned()
            .collect();
        saved_as_serde_would(&c, "varied workload pods");
    }

    fn saved_as_serde_would(c: &Cluster, what: &str) {
        let mut expected = serde_json::to_vec(c).unwrap();
        expected.push(b'\n');
        let mut got = vec![];
        save(c, &mut got).unwrap();
        let at = got.iter().zip(&expected).position(|(a, b)| a != b);
        assert!(
            got == expected,
            "{what}: the snapshot differs from serde_json's at byte {at:?}"
        );
    }

    /// A writer that fails part-way: the error comes back, and no encoder thread is left.
    #[test]
    fn a_failed_write_is_an_error() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0 < b.len() {
                    return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "full"));
                }
                self.0 -= b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut c = example();
        let one = c.pods.iter().map(Into::into).next().unwrap();
        c.workload_pods = vec![one; 5 * BLOCK_ITEMS];
        // Full at once, in the first list, and half-way through the workload pods.
        let size = serde_json::to_vec(&c).unwrap().len();
        for room in [0, 100, size / 2] {
            let e = save(&c, &mut Full(room)).unwrap_err();
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::StorageFull,
                "room {room}: {e}"
            );
        }
    }
}
