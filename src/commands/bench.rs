//! `fedrp bench`: one-core validation throughput over a directory of tokens.
