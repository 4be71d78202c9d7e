//! Versions of distributions, Kubernetes and CNIs, as people write them: `v1.34.1+k0s.0`,
//! `v1.33.4+rke2r1`, `1.33`, `v3.31`, `1.19.4-rc.1`. One parser for the whole workspace, so that
//! every rule, default and renderer that depends on a version reads it the same way.
//!
//! Upstream behaviour changes at a release (`Release`); a written version is compared with it by
//! major, minor and patch only. Pre-releases of a release count as that release (k0s's
//! `v1.34.1-rc.0+k0s.0` already carries what `v1.34.1+k0s.0` carries: release candidates are cut
//! from the release branch), and build metadata (`+k0s.0`, `+rke2r1`) never matters.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Why a version string could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error("the version is empty")]
    Empty,
    #[error(
        "{text:?} is not a version: expected MAJOR.MINOR[.PATCH] with an optional leading v (for example v1.34.1 or 3.31)"
    )]
    Malformed {
        text: String,
        #[source]
        source: semver::Error,
    },
}

/// A release at which upstream behaviour changed: `Release::new(1, 34, 0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Release {
    pub const fn new(major: u64, minor: u64, patch: u64) -> Release {
        Release {
            major,
            minor,
            patch,
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A parsed version, keeping the text it was written as (for messages and rendered output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    text: String,
    parsed: semver::Version,
}

impl Version {
    /// Reads a version. A leading `v`, a missing patch (`1.33`) and a missing minor (`3`) are
    /// accepted, as the distributions' own documentation writes them.
    pub fn parse(text: &str) -> Result<Version, VersionError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(VersionError::Empty);
        }
        let bare = trimmed.strip_prefix(['v', 'V']).unwrap_or(trimmed);
        let parsed =
            semver::Version::parse(&complete(bare)).map_err(|source| VersionError::Malformed {
                text: trimmed.to_string(),
                source,
            })?;
        Ok(Version {
            text: trimmed.to_string(),
            parsed,
        })
    }

    /// The version as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn major(&self) -> u64 {
        self.parsed.major
    }

    pub fn minor(&self) -> u64 {
        self.parsed.minor
    }

    pub fn patch(&self) -> u64 {
        self.parsed.patch
    }

    /// major.minor.patch, without pre-release and build metadata.
    pub fn release(&self) -> Release {
        Release::new(self.parsed.major, self.parsed.minor, self.parsed.patch)
    }

    /// Whether this version has what `release` introduced.
    pub fn is_at_least(&self, release: Release) -> bool {
        self.release() >= release
    }

    /// Whether this version is older than `release` (lacks what it introduced).
    pub fn is_before(&self, release: Release) -> bool {
        self.release() < release
    }

    /// The version without the distribution's suffix: `v1.34.1+k0s.0` → `1.34.1`. For k0s,
    /// k3s and RKE2 this is the Kubernetes version they ship.
    pub fn core(&self) -> String {
        let r = self.release();
        format!("{}.{}.{}", r.major, r.minor, r.patch)
    }
}

/// Pads `1.33` to `1.33.0` and `3` to `3.0.0`, keeping a pre-release or build suffix.
fn complete(bare: &str) -> String {
    let end = bare.find(['-', '+']).unwrap_or(bare.len());
    let (core, suffix) = bare.split_at(end);
    let dots = core.matches('.').count();
    let padding = match dots {
        0 => ".0.0",
        1 => ".0",
        _ => "",
    };
    format!("{core}{padding}{suffix}")
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    /// Precedence as SemVer defines it (build metadata ignored), then the text, so that two
    /// different spellings of one version are not equal.
    fn cmp(&self, other: &Version) -> Ordering {
        self.parsed
            .cmp_precedence(&other.parsed)
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Version, VersionError> {
        Version::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        match Version::parse(text) {
            Ok(v) => v,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn reads_the_spellings_distributions_use() {
        assert_eq!(v("v1.34.1+k0s.0").release(), Release::new(1, 34, 1));
        assert_eq!(v("v1.33.4+rke2r1").release(), Release::new(1, 33, 4));
        assert_eq!(v("v1.33.4+k3s1").core(), "1.33.4");
        assert_eq!(v("1.33").release(), Release::new(1, 33, 0));
        assert_eq!(v("v3.31").release(), Release::new(3, 31, 0));
        assert_eq!(v("3").release(), Release::new(3, 0, 0));
        assert_eq!(v(" 1.19.4 ").as_str(), "1.19.4");
        assert_eq!(v("v1.36.1-rc.0+k0s.0").release(), Release::new(1, 36, 1));
    }

    #[test]
    fn refuses_what_is_not_a_version() {
        assert!(matches!(Version::parse("  "), Err(VersionError::Empty)));
        for bad in [
            "latest",
            "1.x",
            "v1..2",
            "1.2.3.4",
            "01.2.3",
            "1.2.3+",
            "stable-1.33",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn cut_offs_ignore_pre_release_and_build() {
        let cut = Release::new(1, 34, 0);
        assert!(v("v1.34.0-beta.0+k0s.0").is_at_least(cut));
        assert!(v("1.34").is_at_least(cut));
        assert!(v("v1.33.13+k0s.1").is_before(cut));
        assert!(!v("v1.35.0").is_before(cut));
    }

    #[test]
    fn orders_by_precedence() {
        assert!(v("1.33.10") > v("1.33.9"));
        assert!(v("1.34.0-rc.1") < v("1.34.0"));
        assert!(v("v3.31") < v("3.31.1"));
    }
}
