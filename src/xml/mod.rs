//! The strict XML reader (quick-xml) and the compact tree it builds.
//!
//! This is the one XML parser whose output fedrp consumes: envelope and signature-profile checks,
//! the streaming verification engine, the assertion models (parsed from verified canonical bytes)
//! and metadata all read [`Document`]s.

pub mod datetime;
mod names;
mod parse;
mod tree;

pub use names::{XML_NS, is_absolute_uri, is_ncname, is_xml_char, split_qname};
pub use parse::parse;
pub use tree::{Attr, Children, Descendants, Document, NodeId, NodeKind, NsDecl};

use crate::Reason;

/// Caps applied while parsing.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Maximum input size in bytes.
    pub max_bytes: usize,
    /// Maximum element nesting depth.
    pub max_depth: usize,
    /// Maximum number of nodes (elements, text runs, comments).
    pub max_nodes: usize,
    /// Maximum attributes plus namespace declarations on one element.
    pub max_attrs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 20,
            max_depth: 64,
            max_nodes: 50_000,
            max_attrs: 128,
        }
    }
}

/// How literal carriage returns in character data are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineEnds {
    /// XML 1.0 §2.11: CR LF and lone CR become LF.
    #[default]
    Normalize,
    /// A literal CR inside the document element's character data is kept as data, as if it were
    /// written `&#xD;` (what .NET's reader does; see `ARCHITECTURE.md`, "CR LF in signed values").
    KeepCrInText,
}

/// Parser options.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// Caps.
    pub limits: Limits,
    /// Line-end handling in character data.
    pub line_ends: LineEnds,
}

/// A document the strict reader refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message} (at byte {offset})")]
pub struct XmlError {
    /// Reason code.
    pub reason: Reason,
    /// Byte offset in the input.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl XmlError {
    pub(crate) fn new(reason: Reason, offset: usize, message: impl Into<String>) -> Self {
        XmlError {
            reason,
            offset,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests;
