//! The shape every kube6 check catalog shares (host `K6H0nn`, verify `K6V0nn`, probe `K6P0nn`):
//! a fixed table of [`CheckInfo`] entries per crate, declared with [`checks!`], looked up by id
//! or name, turned into an [`IgnoreSet`] from `--ignore CHECK,...`, and into the Markdown table
//! the crate's documentation page holds. Reports are made from catalog entries only, so the
//! documentation lists everything a command can say.

use std::collections::BTreeSet;
use std::marker::PhantomData;

/// A check's fixed description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CheckInfo {
    /// Stable id: a catalog prefix and three digits (`K6H001`).
    pub id: &'static str,
    /// Stable name (`ipv6-enabled`): lower-case letters, digits and '-'.
    pub name: &'static str,
    /// What passes, in one line.
    pub title: &'static str,
    /// Why it matters: what breaks when it fails.
    pub why: &'static str,
    /// What fixes a failure, in general; each report says what to do in its case.
    pub fix: &'static str,
}

/// Declares a catalog: one `pub const` per check and `ALL`, every check in the order they are
/// reported (ids follow that order).
#[macro_export]
macro_rules! checks {
    ($($konst:ident = $id:literal, $name:literal, $title:literal, why: $why:literal, fix: $fix:literal;)*) => {
        $(
            #[doc = $title]
            pub const $konst: $crate::CheckInfo = $crate::CheckInfo {
                id: $id,
                name: $name,
                title: $title,
                why: $why,
                fix: $fix,
            };
        )*
        /// Every check, in the order they are reported.
        pub const ALL: &[$crate::CheckInfo] = &[$($konst),*];
    };
}

/// One command's catalog.
pub trait Catalog: 'static {
    /// Every check, in report order.
    const ALL: &'static [CheckInfo];
    /// The id prefix (`K6H`).
    const PREFIX: &'static str;
    /// The header of the title column in tables ("passes when", "checks").
    const TITLE_HEADER: &'static str;

    /// The check with this id or name (case-insensitive, surrounding spaces ignored).
    fn find(key: &str) -> Option<&'static CheckInfo> {
        let key = key.trim();
        Self::ALL
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(key) || c.name.eq_ignore_ascii_case(key))
    }

    /// The check with exactly this id.
    fn by_id(id: &str) -> Option<&'static CheckInfo> {
        Self::ALL.iter().find(|c| c.id == id)
    }

    /// The catalog as a Markdown table (id, name, title, why, fix), for the documentation page;
    /// each crate has a test that fails when its page holds another table.
    fn markdown() -> String {
        let mut out = format!(
            "| id | name | {} | why it matters | what fixes it |\n|---|---|---|---|---|\n",
            Self::TITLE_HEADER
        );
        let cell = |text: &str| text.replace('|', "\\|");
        for check in Self::ALL {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} |\n",
                check.id,
                check.name,
                cell(check.title),
                cell(check.why),
                cell(check.fix)
            ));
        }
        out
    }

    /// The catalog as table rows for text output: a header, then id, name and title per check.
    fn rows() -> Vec<Vec<String>> {
        let mut rows = vec![vec![
            "id".to_string(),
            "name".to_string(),
            Self::TITLE_HEADER.to_string(),
        ]];
        rows.extend(Self::ALL.iter().map(|check| {
            vec![
                check.id.to_string(),
                check.name.to_string(),
                check.title.to_string(),
            ]
        }));
        rows
    }

    /// Every problem with the catalog itself: ids out of order or not of this prefix, names
    /// twice or not in the allowed alphabet, empty texts. Each crate's tests assert it is empty.
    fn defects() -> Vec<String> {
        let mut defects = Vec::new();
        let mut names = BTreeSet::new();
        for (i, check) in Self::ALL.iter().enumerate() {
            let expected = format!("{}{:03}", Self::PREFIX, i + 1);
            if check.id != expected {
                defects.push(format!(
                    "{} should be {expected}: ids follow the order",
                    check.id
                ));
            }
            if !names.insert(check.name) {
                defects.push(format!("{}: name {:?} is used twice", check.id, check.name));
            }
            let well_formed = !check.name.is_empty()
                && check
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !well_formed {
                defects.push(format!(
                    "{}: name {:?} is not kebab-case",
                    check.id, check.name
                ));
            }
            if check.title.is_empty() || check.why.is_empty() || check.fix.is_empty() {
                defects.push(format!("{}: title, why and fix are all needed", check.id));
            }
        }
        defects
    }
}

/// A name given to `--ignore` that is no check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown check {given:?}: use a check id or name ({known}) or `all`")]
pub struct UnknownCheck {
    pub given: String,
    pub known: String,
}

/// The checks whose failures and warnings do not count (`--ignore CHECK,...`), in the spirit of
/// kubeadm's `--ignore-preflight-errors`: an ignored check is still run and reported as
/// ignored, it only stops deciding the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreSet<C: Catalog> {
    ids: BTreeSet<&'static str>,
    catalog: PhantomData<C>,
}

impl<C: Catalog> Default for IgnoreSet<C> {
    fn default() -> Self {
        IgnoreSet {
            ids: BTreeSet::new(),
            catalog: PhantomData,
        }
    }
}

impl<C: Catalog> IgnoreSet<C> {
    /// Reads check ids or names (case-insensitive), or `all`, from one or more comma lists;
    /// empty items are skipped, an unknown one is an error naming every known check.
    pub fn parse<'a>(lists: impl IntoIterator<Item = &'a str>) -> Result<Self, UnknownCheck> {
        let mut set = Self::default();
        for item in lists
            .into_iter()
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            if item.eq_ignore_ascii_case("all") {
                set.ids.extend(C::ALL.iter().map(|c| c.id));
                continue;
            }
            let check = C::find(item).ok_or_else(|| UnknownCheck {
                given: item.to_string(),
                known: C::ALL
                    .iter()
                    .map(|c| format!("{} {}", c.id, c.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            set.ids.insert(check.id);
        }
        Ok(set)
    }

    /// Every check but the ones named (`--only CHECK,...`): only those decide the exit status;
    /// the others still run and are reported as ignored.
    pub fn all_but<'a>(lists: impl IntoIterator<Item = &'a str>) -> Result<Self, UnknownCheck> {
        let named = Self::parse(lists)?;
        Ok(IgnoreSet {
            ids: C::ALL
                .iter()
                .map(|c| c.id)
                .filter(|id| !named.contains(id))
                .collect(),
            catalog: PhantomData,
        })
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    mod sample {
        crate::checks! {
            FIRST = "K6T001", "first-check", "the first passes", why: "it matters", fix: "fix it";
            SECOND = "K6T002", "second", "the second passes", why: "it matters too", fix: "fix | it";
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Sample;
    impl Catalog for Sample {
        const ALL: &'static [CheckInfo] = sample::ALL;
        const PREFIX: &'static str = "K6T";
        const TITLE_HEADER: &'static str = "passes when";
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Broken;
    impl Catalog for Broken {
        const ALL: &'static [CheckInfo] = &[sample::SECOND, sample::SECOND];
        const PREFIX: &'static str = "K6T";
        const TITLE_HEADER: &'static str = "checks";
    }

    #[test]
    fn lookup_takes_ids_and_names_in_any_case() {
        assert_eq!(Sample::find(" k6t002 ").unwrap().name, "second");
        assert_eq!(Sample::find("FIRST-check").unwrap().id, "K6T001");
        assert!(Sample::find("third").is_none());
        assert!(Sample::by_id("k6t001").is_none());
        assert_eq!(Sample::by_id("K6T001"), Some(&sample::FIRST));
    }

    #[test]
    fn ignore_takes_ids_names_and_all_and_refuses_the_rest() {
        let set = IgnoreSet::<Sample>::parse(["k6t002, ", "First-Check"]).unwrap();
        assert!(set.contains("K6T001") && set.contains("K6T002"));
        let all = IgnoreSet::<Sample>::parse(["ALL"]).unwrap();
        assert!(sample::ALL.iter().all(|c| all.contains(c.id)));
        let err = IgnoreSet::<Sample>::parse(["first", "x"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown check \"first\": use a check id or name (K6T001 first-check, K6T002 second) or `all`"
        );
        assert!(IgnoreSet::<Sample>::parse([" , "]).unwrap().is_empty());
    }

    #[test]
    fn only_ignores_every_other_check() {
        let set = IgnoreSet::<Sample>::all_but(["second"]).unwrap();
        assert!(set.contains("K6T001") && !set.contains("K6T002"));
        assert!(IgnoreSet::<Sample>::all_but(["all"]).unwrap().is_empty());
        assert_eq!(
            IgnoreSet::<Sample>::all_but(["nope"]).unwrap_err().given,
            "nope"
        );
    }

    #[test]
    fn markdown_escapes_cells_and_rows_have_the_header() {
        let md = Sample::markdown();
        assert!(md.starts_with("| id | name | passes when | why it matters | what fixes it |\n"));
        assert!(
            md.contains(
                "| K6T002 | `second` | the second passes | it matters too | fix \\| it |\n"
            )
        );
        assert_eq!(Sample::rows()[0], ["id", "name", "passes when"]);
        assert_eq!(Sample::rows().len(), 3);
    }

    #[test]
    fn defects_find_order_and_duplicate_names() {
        assert!(Sample::defects().is_empty(), "{:?}", Sample::defects());
        let defects = Broken::defects();
        assert!(
            defects.iter().any(|d| d.contains("should be K6T001")),
            "{defects:?}"
        );
        assert!(
            defects.iter().any(|d| d.contains("used twice")),
            "{defects:?}"
        );
    }
}
