//! A value that must never be shown: passwords and secret access keys.

use std::fmt;

/// A secret string. `Debug` and `Display` print `***`; it implements neither `Serialize` nor
/// `Clone`, so it cannot slip into a step output, an audit record or a log field by accident.
/// The only way to the text is [`Secret::expose`], called where the value is handed to AWS.
/// Its buffer is zeroed when it is dropped (the SDK's own copy of a request is beyond reach).
pub struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret text, for the one AWS call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2-very-secret".to_owned());
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }
}
