//! What a model that must not load says: the error of loading and planning it, and
//! checks on its message (the hostile-input tests).

use super::ModelBuilder;
use se_runtime::{Error, ModelError};

/// The error of loading `b` and planning it for batch 2.
pub fn load_error(b: &ModelBuilder) -> Error {
    match b.load().and_then(|m| m.plan(2).map(|_| ())) {
        Err(e) => e,
        Ok(()) => panic!("the model loaded"),
    }
}

pub fn model_error(b: &ModelBuilder) -> ModelError {
    match load_error(b) {
        Error::InvalidModel(e) => e,
        e => panic!("expected an invalid-model error, got {e:?}"),
    }
}

/// The reason of the one unsupported node, which must be `node`.
pub fn unsupported(b: &ModelBuilder, node: &str) -> String {
    match load_error(b) {
        Error::UnsupportedModel { nodes } => {
            assert_eq!(nodes.len(), 1, "{nodes:?}");
            assert_eq!(nodes[0].node, node);
            nodes[0].reason.clone()
        }
        e => panic!("expected an unsupported-model error, got {e:?}"),
    }
}

/// `msg` contains every one of `parts`.
pub fn says(msg: impl std::fmt::Display, parts: &[&str]) {
    let msg = msg.to_string();
    for p in parts {
        assert!(msg.contains(p), "'{msg}' does not mention '{p}'");
    }
}
