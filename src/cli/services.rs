//! `netcheck services`' output formats: the common ones and kubectl's listing habits.

use crate::render::{Format, Listing};
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServicesFormat {
    /// The table (or, for one Service, the detail view)
    Table,
    /// The table with more columns: SELECTOR, PODS (ready/selected), NODES behind the endpoints
    Wide,
    /// One line per Service, service/NAMESPACE/NAME, and nothing else
    Name,
    /// The report as JSON (docs/json-schema.md)
    Json,
    /// The same document as YAML
    Yaml,
    /// One self-contained HTML page
    Html,
    /// SARIF 2.1.0
    Sarif,
    /// JUnit XML
    Junit,
}

impl ServicesFormat {
    /// The report format and the text listing it stands for.
    pub fn split(self, no_headers: bool) -> (Format, Listing) {
        let listing = Listing {
            wide: self == ServicesFormat::Wide,
            names: self == ServicesFormat::Name,
            no_headers,
        };
        let format = match self {
            ServicesFormat::Json => Format::Json,
            ServicesFormat::Yaml => Format::Yaml,
            ServicesFormat::Html => Format::Html,
            ServicesFormat::Sarif => Format::Sarif,
            ServicesFormat::Junit => Format::Junit,
            ServicesFormat::Table | ServicesFormat::Wide | ServicesFormat::Name => Format::Table,
        };
        (format, listing)
    }
}
