//! Initial passwords: from the operating system's CSPRNG, satisfying the account's policy.

use crate::error::Error;
use crate::secret::Secret;

/// Symbols IAM accepts in passwords (and counts as the "symbol" class).
pub const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";

/// Our floor, whatever the account asks for.
pub const MIN_LENGTH: usize = 20;
/// IAM's ceiling for passwords.
pub const MAX_LENGTH: usize = 128;

/// The parts of the account password policy that constrain a generated password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub minimum_length: usize,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

impl PasswordPolicy {
    /// AWS's default when the account has no custom policy (`NoSuchEntity`): at least 8
    /// characters and three of the four character classes.
    pub const AWS_DEFAULT: PasswordPolicy = PasswordPolicy {
        minimum_length: 8,
        require_uppercase: false,
        require_lowercase: false,
        require_numbers: false,
        require_symbols: false,
    };

    /// Whether `password` meets this policy (and AWS's default rule of three classes).
    pub fn accepts(&self, password: &str) -> bool {
        let has = |set: &str| password.chars().any(|c| set.contains(c));
        let classes = [has(UPPER), has(LOWER), has(DIGITS), has(SYMBOLS)];
        password.chars().count() >= self.minimum_length
            && password.chars().count() <= MAX_LENGTH
            && (!self.require_uppercase || classes[0])
            && (!self.require_lowercase || classes[1])
            && (!self.require_numbers || classes[2])
            && (!self.require_symbols || classes[3])
            && classes.iter().filter(|&&b| b).count() >= 3
            && password
                .chars()
                .all(|c| UPPER.contains(c) || LOWER.contains(c) || DIGITS.contains(c) || SYMBOLS.contains(c))
    }
}

/// A fresh password for `policy`: at least [`MIN_LENGTH`] characters, every class present.
pub fn generate(policy: &PasswordPolicy) -> Result<Secret, Error> {
    generate_with(policy, &mut OsRandom)
}

/// Source of uniformly random indices; the OS CSPRNG in production.
pub trait Random {
    /// A uniformly random number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> Result<usize, Error>;
}

/// `getrandom`: the operating system's CSPRNG.
pub struct OsRandom;

impl Random for OsRandom {
    fn below(&mut self, n: usize) -> Result<usize, Error> {
        debug_assert!(n > 0 && n <= u32::MAX as usize);
        let n = n as u64;
        // Rejection sampling: no modulo bias.
        let zone = u64::from(u32::MAX) + 1 - ((u64::from(u32::MAX) + 1) % n);
        loop {
            let mut b = [0u8; 4];
            getrandom::fill(&mut b).map_err(|e| Error::Random(e.to_string()))?;
            let v = u64::from(u32::from_le_bytes(b));
            if v < zone {
                return Ok((v % n) as usize);
            }
        }
    }
}

pub fn generate_with(policy: &PasswordPolicy, rng: &mut impl Random) -> Result<Secret, Error> {
    let len = policy.minimum_length.clamp(MIN_LENGTH, MAX_LENGTH);
    let classes: [&[u8]; 4] = [UPPER.as_bytes(), LOWER.as_bytes(), DIGITS.as_bytes(), SYMBOLS.as_bytes()];
    let all: Vec<u8> = classes.concat();
    // One buffer, allocated once at its final size and moved (never copied) into the `Secret`,
    // which zeroes it when dropped; on a failed draw it is zeroed here.
    let mut chars = zeroize::Zeroizing::new(Vec::with_capacity(len));
    for class in classes {
        chars.push(class[rng.below(class.len())?]);
    }
    while chars.len() < len {
        chars.push(all[rng.below(all.len())?]);
    }
    // Fisher-Yates, so the guaranteed characters are not always in front.
    for i in (1..chars.len()).rev() {
        let j = rng.below(i + 1)?;
        chars.swap(i, j);
    }
    let bytes = std::mem::take(&mut *chars);
    // Every byte is ASCII from the sets above, so this cannot fail; if it did, the bytes are
    // zeroed and not echoed.
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Secret::new(text)),
        Err(e) => {
            zeroize::Zeroize::zeroize(&mut e.into_bytes());
            Err(Error::Random("generated password was not ASCII".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strict(min: usize) -> PasswordPolicy {
        PasswordPolicy {
            minimum_length: min,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
        }
    }

    #[test]
    fn meets_the_default_and_strict_policies() {
        for p in [PasswordPolicy::AWS_DEFAULT, strict(14), strict(32), strict(128)] {
            let pw = generate(&p).expect("rng");
            assert!(p.accepts(pw.expose()), "{p:?}");
            assert!(strict(MIN_LENGTH).accepts(pw.expose()));
            assert_eq!(pw.expose().len(), p.minimum_length.clamp(MIN_LENGTH, MAX_LENGTH));
        }
    }

    #[test]
    fn passwords_differ() {
        let p = PasswordPolicy::AWS_DEFAULT;
        let a = generate(&p).expect("rng");
        let b = generate(&p).expect("rng");
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn accepts_rejects_weak_passwords() {
        assert!(!strict(8).accepts("alllowercase1!"));
        assert!(!strict(8).accepts("Sh0rt!"));
        assert!(!PasswordPolicy::AWS_DEFAULT.accepts("onlylowercaseletters"));
        assert!(!PasswordPolicy::AWS_DEFAULT.accepts("Aa1!Aa1!Aa1! tab\tx"));
    }

    #[test]
    fn every_symbol_shows_up_over_many_draws() {
        // A broken sampler that never picks the last entries of a set would fail this.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..400 {
            seen.extend(generate(&PasswordPolicy::AWS_DEFAULT).expect("rng").expose().chars());
        }
        for c in SYMBOLS.chars().chain(UPPER.chars()).chain(DIGITS.chars()) {
            assert!(seen.contains(&c), "{c} never drawn");
        }
    }

    proptest! {
        #[test]
        fn any_policy_is_met(min in 0usize..200, u: bool, l: bool, n: bool, s: bool) {
            let p = PasswordPolicy { minimum_length: min, require_uppercase: u, require_lowercase: l, require_numbers: n, require_symbols: s };
            let pw = generate(&p).expect("rng");
            prop_assert!(p.accepts(pw.expose()) || min > MAX_LENGTH);
            prop_assert!(strict(MIN_LENGTH).accepts(pw.expose()));
        }
    }
}
