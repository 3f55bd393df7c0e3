//! Lists that nearly always hold one item (a pod's addresses, an endpoint's), kept inline
//! rather than in an allocation of their own: a big cluster has hundreds of thousands.

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use std::marker::PhantomData;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OneOrMany<T> {
    One(T),
    /// None, or two and more.
    Many(Box<[T]>),
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Box::default())
    }
}

impl<T> std::ops::Deref for OneOrMany<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            OneOrMany::One(x) => std::slice::from_ref(x),
            OneOrMany::Many(xs) => xs,
        }
    }
}

impl<'a, T> IntoIterator for &'a OneOrMany<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> FromIterator<T> for OneOrMany<T> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> Self {
        let mut it = it.into_iter();
        match (it.next(), it.next()) {
            (None, _) => OneOrMany::default(),
            (Some(a), None) => OneOrMany::One(a),
            (Some(a), Some(b)) => OneOrMany::Many([a, b].into_iter().chain(it).collect()),
        }
    }
}

impl<T: Serialize> Serialize for OneOrMany<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seq<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Seq<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list")
            }
            // Read in place: the usual single item needs no Vec on the way.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let Some(first) = seq.next_element()? else {
                    return Ok(OneOrMany::default());
                };
                let Some(second) = seq.next_element()? else {
                    return Ok(OneOrMany::One(first));
                };
                let mut v = vec![first, second];
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(OneOrMany::Many(v.into_boxed_slice()))
            }
        }
        d.deserialize_seq(Seq(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::OneOrMany;

    #[test]
    fn none_one_and_many_read_and_write_as_lists() {
        for text in ["[]", "[\"a\"]", "[\"a\",\"b\"]", "[\"a\",\"b\",\"c\"]"] {
            let v: OneOrMany<String> = serde_json::from_str(text).unwrap();
            let want: Vec<String> = serde_json::from_str(text).unwrap();
            assert_eq!(&*v, &want[..], "{text}");
            assert_eq!(matches!(v, OneOrMany::One(_)), want.len() == 1, "{text}");
            assert_eq!(serde_json::to_string(&v).unwrap(), text);
            assert_eq!(want.into_iter().collect::<OneOrMany<_>>(), v, "{text}");
        }
    }

    #[test]
    fn a_single_address_costs_no_more_than_its_text() {
        assert_eq!(
            std::mem::size_of::<OneOrMany<compact_str::CompactString>>(),
            24
        );
    }
}
