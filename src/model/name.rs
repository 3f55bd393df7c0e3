//! Names that many objects repeat (namespaces, node names, kinds, not-ready reasons): one copy
//! held through a pointer of 8 bytes, where an `Arc<str>` takes 16 (its length beside the
//! pointer). At 150,000 pods and as many endpoints, each holding two or three, the difference
//! is megabytes.

use super::Str;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

/// Shared text. Never null, so that an `Option<Name>` is 8 bytes too.
#[derive(Clone)]
pub struct Name(Arc<Str>);

/// Every empty name is this one: pods not yet scheduled have no node, and need no copy each.
static EMPTY: LazyLock<Arc<Str>> = LazyLock::new(Arc::default);

impl Name {
    pub fn new(s: &str) -> Name {
        if s.is_empty() {
            return Name::default();
        }
        Name(Arc::new(s.into()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Where the text lives: equal addresses are equal names.
    pub fn address(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
    /// How many hold this copy.
    pub fn holders(&self) -> usize {
        Arc::strong_count(&self.0)
    }
}

impl Default for Name {
    fn default() -> Name {
        Name(EMPTY.clone())
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

// Compared and hashed as the text, so that a `Name` finds a `&str` key in a map.
impl PartialEq for Name {
    fn eq(&self, o: &Name) -> bool {
        self.address() == o.address() || self.as_str() == o.as_str()
    }
}
impl Eq for Name {}
impl PartialEq<str> for Name {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}
impl PartialEq<&str> for Name {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}
impl Hash for Name {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}
impl PartialOrd for Name {
    fn partial_cmp(&self, o: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Name {
    fn cmp(&self, o: &Name) -> std::cmp::Ordering {
        self.as_str().cmp(o.as_str())
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}
impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::new(s)
    }
}
impl From<Box<str>> for Name {
    fn from(s: Box<str>) -> Name {
        Name::new(&s)
    }
}
impl From<String> for Name {
    fn from(s: String) -> Name {
        Name::new(&s)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        let s = Str::deserialize(d)?;
        Ok(if s.is_empty() {
            Name::default()
        } else {
            Name(Arc::new(s))
        })
    }
}

/// A pod's name as two parts: the stem its owner gives every replica (`web-6c8b9d7f5c-`), shared
/// like a [`Name`], and the few characters of its own (`x2x9z`) inline. 16 bytes and no
/// allocation of its own, where a `Box<str>` takes 16 and 32 more on the heap: 150,000 pods and
/// as many endpoints hold one each (heaptrack, issue #20).
#[derive(Clone, Default)]
pub struct PodName {
    stem: Name,
    tail: [u8; TAIL],
    len: u8,
}

thread_local! {
    static STEMS: std::cell::RefCell<NameSet> = Default::default();
}

/// Where a borrowed text lives, and its length: while the texts are borrowed none can be freed
/// or changed, so equal keys mean equal text. Pods share their node's name (one copy per
/// reading thread): a map keyed by this hashes two words once a pod, and the text once a copy
/// (callgrind, issue #20: a text hash per pod was 300 instructions).
pub(crate) fn text_key(s: &str) -> (usize, usize) {
    (s.as_ptr() as usize, s.len())
}

/// A set of names read on one thread: one for pod-name stems, and one per decoding thread for
/// pods' node names. Looked up by their text in a set of `Name`s: one cache miss, the copy
/// compared being the one whose count a hit then raises.
#[derive(Default)]
pub(crate) struct NameSet {
    set: super::FastSet<Name>,
    /// The API lists a namespace's pods in name order: one owner's in a run.
    last: Name,
}

/// Past this many names in a set, start over: a bound on what a long `--watch` keeps alive.
const SET_MAX: usize = 1 << 15;

impl NameSet {
    /// For names that come in runs (stems): the last one is tried first.
    fn get(&mut self, s: &str) -> Name {
        if self.last.as_str() == s {
            return self.last.clone();
        }
        let n = self.get_unordered(s);
        self.last = n.clone();
        n
    }
    /// For names that come in no order (the nodes of pods listed by name).
    pub(crate) fn get_unordered(&mut self, s: &str) -> Name {
        match self.set.get(s) {
            Some(n) => n.clone(),
            None => {
                if self.set.len() >= SET_MAX {
                    self.set.clear();
                }
                let n = Name::new(s);
                self.set.insert(n.clone());
                n
            }
        }
    }
}

/// The longest tail kept inline, in bytes: a ReplicaSet's or DaemonSet's five characters, a
/// StatefulSet's ordinal.
const TAIL: usize = 7;

impl PodName {
    /// Where the stem ends: after the last '-', when what follows fits inline. A name without
    /// one is all stem.
    pub fn split(s: &[u8]) -> usize {
        match s.iter().rposition(|&b| b == b'-') {
            Some(i) if s.len() - i - 1 <= TAIL => i + 1,
            _ => s.len(),
        }
    }
    /// `stem` must be `s[..split(s)]`: the caller shares it.
    fn with_stem(stem: Name, s: &str) -> PodName {
        debug_assert_eq!(stem.as_str(), &s[..Self::split(s.as_bytes())]);
        let t = &s.as_bytes()[stem.len()..];
        let mut tail = [0; TAIL];
        tail[..t.len()].copy_from_slice(t);
        PodName {
            stem,
            tail,
            len: t.len() as u8,
        }
    }
    fn new(s: &str) -> PodName {
        PodName::with_stem(Name::new(&s[..Self::split(s.as_bytes())]), s)
    }
    /// With its stem shared with the names read before it on this thread.
    pub fn shared(s: &str) -> PodName {
        let at = Self::split(s.as_bytes());
        if at == s.len() {
            // Nothing inline: a name of its own, most likely not repeated.
            return PodName::new(s);
        }
        let stem = STEMS.with_borrow_mut(|st| st.get(&s[..at]));
        PodName::with_stem(stem, s)
    }
    pub fn tail(&self) -> &str {
        // Asked for at every comparison of two names (callgrind: `PodRef::parts` 1% of a
        // report's instructions, most of it checking these few bytes again).
        // SAFETY: every PodName is made by `with_stem` (or empty): its tail is the whole suffix
        // of a str after an ASCII '-', whole characters. Checked in debug builds, so that a
        // constructor that skipped `with_stem` would fail the tests.
        let tail = &self.tail[..self.len as usize];
        debug_assert!(std::str::from_utf8(tail).is_ok());
        unsafe { std::str::from_utf8_unchecked(tail) }
    }
    /// All but the tail: shared between the pods of one owner read on one thread.
    pub fn stem(&self) -> &Name {
        &self.stem
    }
    pub fn len(&self) -> usize {
        self.stem.len() + self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq<str> for PodName {
    fn eq(&self, o: &str) -> bool {
        PodRef::from(self) == PodRef::Whole(o)
    }
}
impl PartialEq<&str> for PodName {
    fn eq(&self, o: &&str) -> bool {
        *self == **o
    }
}
impl PartialEq for PodName {
    fn eq(&self, o: &PodName) -> bool {
        PodRef::from(self) == PodRef::from(o)
    }
}
impl Eq for PodName {}
impl Hash for PodName {
    fn hash<H: Hasher>(&self, h: &mut H) {
        PodRef::from(self).hash(h)
    }
}
impl PartialOrd for PodName {
    fn partial_cmp(&self, o: &PodName) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for PodName {
    fn cmp(&self, o: &PodName) -> std::cmp::Ordering {
        PodRef::from(self).cmp(&PodRef::from(o))
    }
}
impl std::fmt::Display for PodName {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        PodRef::from(self).fmt(f)
    }
}
impl std::fmt::Debug for PodName {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.to_string().fmt(f)
    }
}

/// A pod's name borrowed from a full pod (whole) or a reduced one (split), compared, hashed
/// and shown as the one text it is.
/// Hashed as its (stem, tail) parts, not as a `str` is: neither it nor `PodName` may be looked
/// up by `&str` through `Borrow`.
#[derive(Clone, Copy)]
pub enum PodRef<'a> {
    Whole(&'a str),
    Split(&'a PodName),
}

impl<'a> PodRef<'a> {
    /// Stem and tail, cut by [`PodName::split`] either way: equal names, equal parts.
    pub fn parts(self) -> (&'a str, &'a str) {
        match self {
            PodRef::Whole(s) => s.split_at(PodName::split(s.as_bytes())),
            PodRef::Split(n) => (n.stem.as_str(), n.tail()),
        }
    }
    pub fn starts_with(self, p: &str) -> bool {
        let (a, b) = self.parts();
        match p.strip_prefix(a) {
            Some(rest) => b.starts_with(rest),
            None => a.starts_with(p),
        }
    }
    /// The text's bytes, without cutting a whole name: watch rounds order every kind of object
    /// by these.
    pub fn bytes(self) -> impl Iterator<Item = u8> + 'a {
        let (a, b) = match self {
            PodRef::Whole(s) => (s, ""),
            PodRef::Split(n) => (n.stem.as_str(), n.tail()),
        };
        a.bytes().chain(b.bytes())
    }
}

impl<'a> From<&'a str> for PodRef<'a> {
    fn from(s: &'a str) -> PodRef<'a> {
        PodRef::Whole(s)
    }
}
impl<'a> From<&'a PodName> for PodRef<'a> {
    fn from(n: &'a PodName) -> PodRef<'a> {
        PodRef::Split(n)
    }
}
impl PartialEq for PodRef<'_> {
    fn eq(&self, o: &PodRef) -> bool {
        self.parts() == o.parts()
    }
}
impl PartialEq<&str> for PodRef<'_> {
    fn eq(&self, o: &&str) -> bool {
        *self == PodRef::Whole(o)
    }
}
impl Eq for PodRef<'_> {}
impl Hash for PodRef<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.parts().hash(h)
    }
}
impl PartialOrd for PodRef<'_> {
    fn partial_cmp(&self, o: &PodRef) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for PodRef<'_> {
    fn cmp(&self, o: &PodRef) -> std::cmp::Ordering {
        self.bytes().cmp(o.bytes())
    }
}
impl std::fmt::Display for PodRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let (a, b) = self.parts();
        f.write_str(a)?;
        f.write_str(b)
    }
}
impl std::fmt::Debug for PodRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.to_string().fmt(f)
    }
}

impl From<&str> for PodName {
    fn from(s: &str) -> PodName {
        PodName::shared(s)
    }
}
impl Serialize for PodName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for PodName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PodName, D::Error> {
        Ok(PodName::shared(&Str::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_a_pointer_and_empty_is_none() {
        assert_eq!(std::mem::size_of::<Name>(), 8);
        assert_eq!(std::mem::size_of::<Option<Name>>(), 8);
        let (a, b) = (Name::new("kube-system"), Name::new("kube-system"));
        assert_ne!(a.address(), b.address());
        assert_eq!(a, b);
        assert_eq!(a, "kube-system");
        assert_ne!(a, Name::new("kube-public"));
        assert_eq!(Name::new("").address(), Name::default().address());
        assert_eq!(Name::default().as_str(), "");
        let json: Vec<Name> = serde_json::from_str(r#"["", "node-1"]"#).unwrap();
        assert_eq!(json[0].address(), Name::default().address());
        assert_eq!(serde_json::to_string(&json).unwrap(), r#"["","node-1"]"#);
    }

    #[test]
    fn a_pod_name_keeps_its_own_characters_inline_and_reads_as_one_text() {
        assert_eq!(std::mem::size_of::<PodName>(), 16);
        let cases = [
            ("web-6c8b9d7f5c-x2x9z", "web-6c8b9d7f5c-"),
            ("web-0", "web-"),
            ("etcd-cp-0", "etcd-cp-"),
            (
                "kube-controller-manager-cp-0",
                "kube-controller-manager-cp-",
            ),
            ("standalone", "standalone"),
            ("trailing-", "trailing-"),
            ("long-tail-abcdefgh", "long-tail-abcdefgh"),
            ("seven-abcdefg", "seven-"),
            ("", ""),
            ("ünï-çødé", "ünï-"),
        ];
        for (s, stem) in cases {
            let n = PodName::new(s);
            assert_eq!(n.stem.as_str(), stem, "{s}");
            assert_eq!(n.to_string(), s);
            assert_eq!(n.len(), s.len());
            assert_eq!(n, s);
            assert_eq!(n, PodName::with_stem(Name::new(stem), s));
            assert_eq!(PodRef::from(&n), PodRef::Whole(s));
            let hash = |r: PodRef| {
                let mut h = std::hash::DefaultHasher::new();
                r.hash(&mut h);
                h.finish()
            };
            assert_eq!(hash(PodRef::from(&n)), hash(PodRef::Whole(s)));
            let json = serde_json::to_string(&n).unwrap();
            assert_eq!(json, serde_json::to_string(s).unwrap());
            let read = serde_json::from_str::<PodName>(&json).unwrap();
            assert_eq!(read, n);
            if !n.tail().is_empty() {
                let again = PodName::from(s);
                assert_eq!(read.stem.address(), again.stem.address(), "{s}: one stem");
            }
        }
        assert_ne!(PodName::new("web-0"), "web-1");
        assert_ne!(PodName::new("web-0"), "web-00");
        assert_ne!(PodName::new("web-0"), PodName::new("web-1"));
        assert_ne!(PodName::new("web-0"), "xeb-0");
        let mut v: Vec<PodName> = ["b-1", "a-12", "a-1", "a-", "ab"].map(PodName::new).into();
        v.sort();
        let sorted: Vec<String> = v.iter().map(ToString::to_string).collect();
        let mut want = ["b-1", "a-12", "a-1", "a-", "ab"];
        want.sort();
        assert_eq!(sorted, want);
        for w in want.windows(2) {
            let (a, b) = (PodName::from(w[0]), PodName::from(w[1]));
            assert!(PodRef::Whole(w[0]) < PodRef::from(&b), "{w:?}");
            assert!(PodRef::from(&a) < PodRef::Whole(w[1]), "{w:?}");
        }
    }
}
