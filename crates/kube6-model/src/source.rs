//! Where a value came from: a line and column in the input, a distribution default, or a value
//! derived from others. Every value in the model carries one, so diagnostics can point at it.

use std::fmt;

use serde::Serialize;

/// A 1-based line and column in an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// How a value got into the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Read from the input at `pos`, from the field `path` (in the input format's own terms).
    Input { path: String, pos: Option<Position> },
    /// Not in the input: the distribution's default, which `by` names (e.g. "k0s default").
    Default { path: String, by: String },
    /// Computed from other values; `from` says how. `pos` is the input value it was computed
    /// from, when there is one (a range carved from `spec.prefix` points at the prefix).
    Derived {
        path: String,
        from: String,
        pos: Option<Position>,
    },
}

impl Origin {
    pub fn input(path: impl Into<String>, pos: Option<Position>) -> Origin {
        Origin::Input {
            path: path.into(),
            pos,
        }
    }

    pub fn default_by(path: impl Into<String>, by: impl Into<String>) -> Origin {
        Origin::Default {
            path: path.into(),
            by: by.into(),
        }
    }

    pub fn derived(path: impl Into<String>, from: impl Into<String>) -> Origin {
        Origin::Derived {
            path: path.into(),
            from: from.into(),
            pos: None,
        }
    }

    /// A value computed from the input value at `path` and `pos` (a range carved from a prefix).
    pub fn derived_at(
        path: impl Into<String>,
        from: impl Into<String>,
        pos: Option<Position>,
    ) -> Origin {
        Origin::Derived {
            path: path.into(),
            from: from.into(),
            pos,
        }
    }

    /// The field path, Kubernetes style (`spec.network.podCIDR`).
    pub fn path(&self) -> &str {
        match self {
            Origin::Input { path, .. }
            | Origin::Default { path, .. }
            | Origin::Derived { path, .. } => path,
        }
    }

    /// The position in the input, for values that were read from it (or computed from one).
    pub fn pos(&self) -> Option<Position> {
        match self {
            Origin::Input { pos, .. } | Origin::Derived { pos, .. } => *pos,
            Origin::Default { .. } => None,
        }
    }

    /// Whether the value was computed (carved from a prefix, ...) rather than read or defaulted.
    pub fn is_derived(&self) -> bool {
        matches!(self, Origin::Derived { .. })
    }

    pub fn is_default(&self) -> bool {
        matches!(self, Origin::Default { .. })
    }

    /// A short note for people: "default of k0s" or "derived from ...", none for input values.
    pub fn note(&self) -> Option<String> {
        match self {
            Origin::Input { .. } => None,
            Origin::Default { by, .. } => Some(format!("default: {by}")),
            Origin::Derived { from, .. } => Some(format!("derived: {from}")),
        }
    }
}

/// A value with its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Located<T> {
    pub fn new(value: T, origin: Origin) -> Located<T> {
        Located { value, origin }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Located<U> {
        Located {
            value: f(self.value),
            origin: self.origin,
        }
    }

    pub fn as_ref(&self) -> Located<&T> {
        Located {
            value: &self.value,
            origin: self.origin.clone(),
        }
    }
}
