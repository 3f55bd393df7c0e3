//! `netcheck fleet`'s flags.

use super::View;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct FleetArgs {
    /// These kubeconfig contexts (comma-separated or repeated)
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub contexts: Vec<String>,
    /// Every context of the kubeconfig (--kubeconfig, else KUBECONFIG's files merged, else
    /// ~/.kube/config)
    #[arg(long, conflicts_with = "contexts")]
    pub all_contexts: bool,
    /// Saved clusters: files written by `netcheck snapshot` or `netcheck report -o json`
    /// (which one is detected); several may follow one --from
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub from: Vec<PathBuf>,
    /// Clusters collected at once
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=512))]
    pub parallel: u16,
    #[command(flatten)]
    pub view: View,
}
