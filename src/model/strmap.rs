//! A string map for object metadata (labels, annotations) as a sorted vector: most objects
//! carry a handful of entries, for which a `BTreeMap` allocates a 500-byte node each time,
//! and a big cluster has a hundred thousand of them. Same API, same order, same JSON; keys and
//! values inline up to 24 bytes (most labels).

use super::Str;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StrMap(Vec<(Str, Str)>);

impl StrMap {
    pub fn new() -> StrMap {
        StrMap(Vec::new())
    }
    fn find(&self, k: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(key, _)| key.as_str().cmp(k))
    }
    pub fn get(&self, k: &str) -> Option<&Str> {
        self.find(k).ok().map(|i| &self.0[i].1)
    }
    pub fn contains_key(&self, k: &str) -> bool {
        self.find(k).is_ok()
    }
    pub fn insert(&mut self, k: impl Into<Str>, v: impl Into<Str>) -> Option<Str> {
        let (k, v) = (k.into(), v.into());
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, v)),
            Err(i) => {
                self.0.insert(i, (k, v));
                None
            }
        }
    }
    pub fn remove(&mut self, k: &str) -> Option<Str> {
        self.find(k).ok().map(|i| self.0.remove(i).1)
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Str, &Str)> + ExactSizeIterator {
        self.0.iter().map(|(k, v)| (k, v))
    }
    pub fn keys(&self) -> impl Iterator<Item = &Str> {
        self.0.iter().map(|(k, _)| k)
    }
    pub fn values(&self) -> impl Iterator<Item = &Str> {
        self.0.iter().map(|(_, v)| v)
    }
    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &mut Str) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
        self.0.shrink_to_fit();
    }
    /// Once read: maps are filled entry by entry, and a big cluster keeps a hundred thousand.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
    pub fn clear(&mut self) {
        self.0 = Vec::new();
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<Str>, V: Into<Str>> FromIterator<(K, V)> for StrMap {
    /// As a map: the last of equal keys wins.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(it: I) -> StrMap {
        let mut v: Vec<(Str, Str)> = it.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        v.reverse();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.dedup_by(|a, b| a.0 == b.0);
        v.shrink_to_fit();
        StrMap(v)
    }
}

impl<K: Into<Str>, V: Into<Str>, const N: usize> From<[(K, V); N]> for StrMap {
    fn from(a: [(K, V); N]) -> StrMap {
        a.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for StrMap {
    fn from(m: BTreeMap<String, String>) -> StrMap {
        StrMap(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<Str>, V: Into<Str>> Extend<(K, V)> for StrMap {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, it: I) {
        for (k, v) in it {
            self.insert(k, v);
        }
    }
}

impl<'a> IntoIterator for &'a StrMap {
    type Item = (&'a Str, &'a Str);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (Str, Str)>, fn(&'a (Str, Str)) -> (&'a Str, &'a Str)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl Serialize for StrMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for StrMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StrMap, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = StrMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<StrMap, A::Error> {
                let mut v = Vec::with_capacity(a.size_hint().unwrap_or(0).min(64));
                while let Some(e) = a.next_entry::<Str, Str>()? {
                    v.push(e);
                }
                Ok(v.into_iter().collect())
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_sorted_map() {
        let s = |x: &str| x.to_string();
        let mut m: StrMap = [(s("b"), s("1")), (s("a"), s("2")), (s("b"), s("3"))].into();
        assert_eq!(m.get("b").map(|v| v.as_str()), Some("3"));
        assert_eq!(m.keys().cloned().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m.insert(s("c"), s("4")), None);
        assert_eq!(m.insert(s("a"), s("5")), Some("2".into()));
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"a":"5","b":"3","c":"4"}"#
        );
        let back: StrMap = serde_json::from_str(r#"{"z":"1","y":"2","z":"3"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            r#"{"y":"2","z":"3"}"#
        );
        m.retain(|k, _| k != "b");
        assert!(!m.contains_key("b") && m.len() == 2);
    }
}
