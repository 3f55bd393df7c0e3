//! ipvs mode: virtual servers and their real servers.

use super::{err, ParseError, Programmed};

pub fn parse_list(_text: &str) -> Result<Programmed, ParseError> {
    Err(err(0, "ipvsadm -Ln: not read yet"))
}

pub fn parse_save(_text: &str) -> Result<Programmed, ParseError> {
    Err(err(0, "ipvsadm-save -n: not read yet"))
}
