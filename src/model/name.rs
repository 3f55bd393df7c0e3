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
}
