//! [`ConfigError`]: one problem in the configuration, with its key path and a hint.

use std::fmt;

/// One configuration problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Key path (`issuers[0].trust_files[1]`); empty for file-level problems.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{}: {}", self.path, self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// Every problem found (fedrp reports them all at once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// A single error.
    pub fn one(
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> ConfigErrors {
        ConfigErrors(vec![ConfigError {
            path: path.into(),
            message: message.into(),
            hint: Some(hint.into()),
        }])
    }

    /// Whether an error names `path`.
    pub fn has_path(&self, path: &str) -> bool {
        self.0.iter().any(|e| e.path == path)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A hint for a deserialisation message: "did you mean" for unknown fields, the expected
/// type otherwise.
pub(crate) fn hint_for(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (bad, tail) = rest.split_once('`')?;
        let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        let best = expected
            .iter()
            .min_by_key(|c| distance(bad, c))
            .filter(|c| distance(bad, c) <= 3);
        return Some(match best {
            Some(b) => format!("did you mean `{b}`?"),
            None => format!("known keys: {}", expected.join(", ")),
        });
    }
    if message.starts_with("invalid type") {
        return Some("check the value's type against config.example.toml".into());
    }
    if message.starts_with("missing field") {
        return Some("add the key".into());
    }
    None
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
