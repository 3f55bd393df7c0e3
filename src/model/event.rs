//! Events, only of the reasons that say an address ran out. They are read with a server-side
//! field selector per reason, so that a cluster's million events cost one small list each.

use super::Meta;
use serde::{Deserialize, Serialize};

/// The node IPAM controller could not give a node a podCIDR: the cluster CIDR is full.
pub const CIDR_NOT_AVAILABLE: &str = "CIDRNotAvailable";
/// The kubelet could not set up a pod's network; the message says why (IPAM exhaustion among
/// other CNI failures).
pub const SANDBOX_FAILED: &str = "FailedCreatePodSandBox";
pub const EVENT_REASONS: &[&str] = &[CIDR_NOT_AVAILABLE, SANDBOX_FAILED];
/// At most this many events of one reason are kept, each message clipped to `EVENT_MESSAGE`.
pub const MAX_EVENTS: usize = 1000;
pub const EVENT_MESSAGE: usize = 600;

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub involved_object: ObjectRef,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<EventSource>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    #[serde(default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct EventSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The node, for kubelet events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl Event {
    /// Clips the message, as kept events are bounded in size.
    pub fn clipped(mut self) -> Event {
        if self.message.len() > EVENT_MESSAGE {
            let mut end = EVENT_MESSAGE;
            while !self.message.is_char_boundary(end) {
                end -= 1;
            }
            self.message.truncate(end);
            self.message.push('…');
        }
        self
    }
    /// `kind namespace/name` of the object it is about.
    pub fn subject(&self) -> String {
        let o = &self.involved_object;
        match &o.namespace {
            Some(ns) if !ns.is_empty() => format!("{} {ns}/{}", o.kind.to_lowercase(), o.name),
            _ => format!("{} {}", o.kind.to_lowercase(), o.name),
        }
    }
    pub fn times(&self) -> i64 {
        self.count.unwrap_or(1).max(1)
    }
}
