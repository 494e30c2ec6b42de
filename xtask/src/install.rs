//! `cargo xtask install` (being written).

use crate::Result;

pub fn run(_args: &[String]) -> Result {
    Err("not built yet".into())
}
