//! graceful-handler: the drain Lambda. A pure decision core (`event`, `decide`) between thin AWS I/O (`observe`,
//! `execute`) and a thin `main`.

pub mod aws_error;
pub mod decide;
pub mod drain_lock;
pub mod duplicates;
pub mod emf;
pub mod event;
pub mod execute;
pub mod https;
pub mod mutants;
pub mod observe;
pub mod port;
pub mod sdk_config;
pub mod sdk_port;
pub mod telemetry;
