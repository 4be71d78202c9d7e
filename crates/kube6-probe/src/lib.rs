//! `kube6 probe`: real traffic through a running cluster, in every family, with any CNI.
//!
//! The flow is one way. A [`Spec`] describes what a run probes (the agents the orchestrator
//! started on every node, the probe's Services, the cluster DNS, the outside targets) and what is
//! expected ([`spec::Expectations`], from a plan or from the cluster). [`plan::tasks_for`]
//! derives each agent's tests from the spec alone; the agent's runner ([`agent::run`]) sends the
//! traffic and reports what it observed ([`outcome::AgentResults`]) without judging it; and
//! [`Report::build`] judges every result against the expectations, as a matrix per check and
//! family, naming the likeliest [`cause`] of every failure.
//!
//! The network I/O sits behind [`agent::Prober`], so the runner's logic is tested with a fake;
//! the orchestration in a cluster ([`cluster`]) sits behind [`cluster::Api`], implemented over
//! kube-rs with the `live` feature and by test fixtures.

pub mod agent;
pub mod catalog;
pub mod cause;
pub mod cluster;
#[cfg(feature = "live")]
pub mod live;
pub mod outcome;
pub mod plan;
pub mod report;
pub mod spec;

pub use outcome::{AgentResults, Outcome};
pub use report::{Report, Status};
pub use spec::Spec;
