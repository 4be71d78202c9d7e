//! Files as kube6 reads and writes them.
//!
//! Every input kube6 takes (configuration files, standard input, kubeconfigs, dumps, the NDP
//! proxy's configuration, sysctl files) goes through [`read`]: it refuses what is not a regular
//! file before it can block (a FIFO) or be read forever (a device), and it reads at most a limit
//! plus one byte, so a symlink to `/dev/zero` or an endless pipe costs a bounded amount of memory
//! and time. Every file kube6 writes goes through [`write`] (one file, atomically) or [`tree`]
//! (a set of files under an output directory, all or nothing); neither follows a symbolic link
//! below the directory it was given nor writes onto anything but a regular file.

pub mod read;
pub mod size;
pub mod tree;
pub mod write;

mod kind;
mod temp;

pub use kind::FileKind;
pub use read::{Limit, ReadError, Text};
pub use tree::{TreeError, TreeFile, TreeReport};
pub use write::{Replace, WriteError};
