//! IAM user names derived from a person's names.
//!
//! `given.family`, transliterated to ASCII (deunicode), lowercased, letters and digits kept, runs
//! of spaces/hyphens/dots inside a name folded into one `-`, everything else (apostrophes,
//! symbols) dropped. At most 64 characters: a long name is shortened deterministically (given
//! name to its initial, then the family name cut). Taken names get numbered variants
//! (`jane.doe2`, `jane.doe3`, ...), also within 64 characters.

use crate::error::ValidationError;

/// IAM's limit on user names.
pub const MAX_LEN: usize = 64;
/// How many variants (`name`, `name2`, ... `nameN`) are tried before giving up.
pub const MAX_VARIANTS: u32 = 99;

/// The base user name for a person, or an error naming the fields when nothing usable remains.
pub fn base(given: &str, family: &str) -> Result<String, ValidationError> {
    let g = slug(given);
    let f = slug(family);
    match (g.is_empty(), f.is_empty()) {
        (true, true) => Err(ValidationError::new(
            "detail.givenName/detail.familyName",
            "no letters or digits remain after transliteration to ASCII; at least one of the \
             names must contain some",
        )),
        (false, true) => Ok(fit(&g, MAX_LEN)),
        (true, false) => Ok(fit(&f, MAX_LEN)),
        (false, false) => {
            let full = format!("{g}.{f}");
            if full.len() <= MAX_LEN {
                return Ok(full);
            }
            let initial = &g[..1];
            Ok(fit(&format!("{initial}.{f}"), MAX_LEN))
        }
    }
}

/// The `n`-th candidate (1-based): `base` itself, then `base2`, `base3`, ...
pub fn variant(base: &str, n: u32) -> String {
    if n <= 1 {
        return base.to_owned();
    }
    let suffix = n.to_string();
    let stem = fit(base, MAX_LEN - suffix.len());
    format!("{stem}{suffix}")
}

/// Whether IAM accepts `name` as a user name (`[\w+=,.@-]{1,64}`).
pub fn is_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_LEN
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// One name part as ASCII `[a-z0-9-]`, no leading/trailing or doubled `-`.
fn slug(name: &str) -> String {
    // Only letters and digits are transliterated: deunicode would spell symbols and emoji out
    // as words ("🙂" -> "slight smile"), which is no part of anyone's name.
    let kept: String =
        name.chars().map(|c| if c.is_alphanumeric() || c == '\'' || c == '’' { c } else { ' ' }).collect();
    let ascii = deunicode::deunicode(&kept).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    let mut pending_sep = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_sep && !out.is_empty() {
                out.push('-');
            }
            pending_sep = false;
            out.push(c);
        } else if c.is_whitespace() {
            pending_sep = true;
        }
        // anything else (apostrophes, transliteration leftovers) is dropped
    }
    out
}

/// Cuts an ASCII name to `max` bytes without leaving a trailing separator.
fn fit(name: &str, max: usize) -> String {
    let cut = &name[..name.len().min(max)];
    cut.trim_end_matches(['-', '.']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_names() {
        let cases = [
            ("Jane", "Doe", "jane.doe"),
            ("Zoë", "O'Brien", "zoe.obrien"),
            ("María José", "García López", "maria-jose.garcia-lopez"),
            ("Jean-Luc", "Picard", "jean-luc.picard"),
            ("Søren", "Kierkegaard", "soren.kierkegaard"),
            ("Nguyễn", "Văn An", "nguyen.van-an"),
            ("Đặng", "Thị", "dang.thi"),
            ("Björk", "Guðmundsdóttir", "bjork.gudmundsdottir"),
            ("Александр", "Пушкин", "aleksandr.pushkin"),
            ("  Ana ", " de la  Cruz ", "ana.de-la-cruz"),
        ];
        for (g, f, want) in cases {
            assert_eq!(base(g, f).expect(g), want, "{g} {f}");
        }
    }

    #[test]
    fn non_latin_scripts_yield_ascii() {
        for (g, f) in [("太郎", "山田"), ("Σωκράτης", "Παπαδόπουλος"), ("محمد", "علي"), ("민준", "김")]
        {
            let n = base(g, f).expect(g);
            assert!(is_valid(&n), "{n}");
            assert!(n.contains('.'), "{n}");
        }
    }

    #[test]
    fn one_usable_name_is_enough_and_none_is_an_error() {
        assert_eq!(base("!!!", "Doe").expect("family"), "doe");
        assert_eq!(base("Jane", "—").expect("given"), "jane");
        let e = base("???", "🙂🙂").expect_err("nothing usable");
        assert!(e.field.contains("givenName") && e.field.contains("familyName"));
    }

    #[test]
    fn long_names_are_shortened_deterministically() {
        let g = "Maximilianus Alexander Ferdinand";
        let f = "Von Und Zu Hohenzollern-Sigmaringen-Wittelsbach-Habsburg-Lothringen";
        let a = base(g, f).expect("long");
        assert_eq!(a, base(g, f).expect("again"));
        assert!(a.len() <= MAX_LEN, "{a}");
        assert!(a.starts_with("m.von-und-zu-hohenzollern"), "{a}");
        assert!(!a.ends_with('-'));
    }

    #[test]
    fn variants_stay_within_the_limit() {
        assert_eq!(variant("jane.doe", 1), "jane.doe");
        assert_eq!(variant("jane.doe", 2), "jane.doe2");
        let long = "a".repeat(64);
        assert_eq!(variant(&long, 12).len(), 64);
        assert!(variant(&long, 12).ends_with("12"));
    }

    proptest! {
        #[test]
        fn any_input_gives_a_valid_name_or_a_named_error(g in "\\PC{0,200}", f in "\\PC{0,200}") {
            match base(&g, &f) {
                Ok(n) => {
                    prop_assert!(is_valid(&n), "{}", n);
                    prop_assert_eq!(&n, &base(&g, &f).expect("deterministic"));
                    for i in 1..=MAX_VARIANTS {
                        prop_assert!(is_valid(&variant(&n, i)));
                    }
                }
                Err(e) => prop_assert!(e.field.contains("givenName")),
            }
        }

        #[test]
        fn variants_are_distinct(stem in "[a-z]{1,64}") {
            let all: std::collections::HashSet<_> = (1..=MAX_VARIANTS).map(|i| variant(&stem, i)).collect();
            prop_assert_eq!(all.len(), MAX_VARIANTS as usize);
        }
    }
}
