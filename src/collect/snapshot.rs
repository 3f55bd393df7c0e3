//! Loading and saving snapshots: the cluster model as one versioned JSON document.

use super::Fatal;
use crate::model::{Cluster, SNAPSHOT_API_VERSION, SNAPSHOT_KIND};
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

/// Generic over the writer: serde_json writes a snapshot in millions of small pieces, and
/// through `dyn Write` each was a call that BufWriter's fast path could not be inlined into.
pub fn save(c: &Cluster, w: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, c)?;
    writeln!(w)
}
