//! One module per subcommand; each has an `Args` (or subcommand enum) and a `run`.

pub mod checks;
pub mod cluster;
pub mod convert;
pub mod diff;
pub mod emit;
pub mod host;
pub mod input;
pub mod ndp_proxy;
pub mod node_ip;
pub mod plan;
pub mod probe;
pub mod render;
pub mod rules;
pub mod schema;
pub mod validate;
pub mod verify;
