pub mod cidr;
pub mod model;
pub mod parse;
