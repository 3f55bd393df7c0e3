//! Rule dumps taken on nodes (iptables-save, nft list ruleset, ipvsadm...), kept as text so
//! that a snapshot carries them and every reading of them can quote their lines.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSet {
    /// The node the rules were taken on.
    pub node: String,
    /// Where they came from: a file name, or the command run on this host.
    pub source: String,
    pub text: String,
}
