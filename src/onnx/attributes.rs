//! Reading one node's attributes, with their declared types checked, for the
//! importer's operator parsers.

use super::MAX_SPATIAL;
use super::proto::{AttributeProto, NodeProto, attribute_proto::AttributeType};
use crate::error::ModelError;
use crate::ops::AutoPad;

/// One node being parsed: its attributes, its name and ONNX type for messages, and
/// the model's default-domain opset.
pub(super) struct Ctx<'a> {
    pub node: &'a NodeProto,
    pub name: &'a str,
    pub op_type: &'a str,
    pub opset: i64,
}

/// Outcome of parsing one node: malformed (`Err`), unsupported (`Ok(Err(reason))`)
/// or an op.
pub(super) type Parsed<T> = Result<Result<T, String>, ModelError>;

impl Ctx<'_> {
    pub fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.node
            .attribute
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
    }

    pub fn bad(&self, attribute: &str, message: impl Into<String>) -> ModelError {
        ModelError::BadAttribute {
            node: self.name.into(),
            op: self.op_type.into(),
            attribute: attribute.into(),
            message: message.into(),
        }
    }

    /// Checks the attribute's declared type (older writers leave it unset).
    pub fn typed(
        &self,
        name: &str,
        ty: AttributeType,
    ) -> Result<Option<&AttributeProto>, ModelError> {
        let Some(a) = self.attr(name) else {
            return Ok(None);
        };
        match a.r#type {
            Some(t) if t != ty as i32 && t != AttributeType::Undefined as i32 => Err(self.bad(
                name,
                format!(
                    "expected type {}, found {}",
                    ty.as_str_name(),
                    AttributeType::try_from(t)
                        .map(|t| t.as_str_name())
                        .unwrap_or("unknown")
                ),
            )),
            _ => Ok(Some(a)),
        }
    }

    /// A scalar attribute of type `ty` whose value `get` reads (`what` names it).
    fn scalar<T>(
        &self,
        name: &str,
        ty: AttributeType,
        what: &str,
        get: impl FnOnce(&AttributeProto) -> Option<T>,
    ) -> Result<Option<T>, ModelError> {
        self.typed(name, ty)?
            .map(|a| get(a).ok_or_else(|| self.bad(name, format!("no {what} value"))))
            .transpose()
    }

    pub fn int_opt(&self, name: &str) -> Result<Option<i64>, ModelError> {
        self.scalar(name, AttributeType::Int, "int", |a| a.i)
    }

    pub fn int(&self, name: &str, default: i64) -> Result<i64, ModelError> {
        Ok(self.int_opt(name)?.unwrap_or(default))
    }

    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ModelError> {
        match self.int(name, default as i64)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.bad(name, format!("expected 0 or 1, found {v}"))),
        }
    }

    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, ModelError> {
        Ok(self
            .typed(name, AttributeType::Ints)?
            .map(|a| a.ints.clone()))
    }

    pub fn float_opt(&self, name: &str) -> Result<Option<f32>, ModelError> {
        self.scalar(name, AttributeType::Float, "float", |a| a.f)
    }

    pub fn float(&self, name: &str, default: f32) -> Result<f32, ModelError> {
        Ok(self.float_opt(name)?.unwrap_or(default))
    }

    pub fn string(&self, name: &str, default: &str) -> Result<String, ModelError> {
        Ok(self
            .typed(name, AttributeType::String)?
            .map(|a| String::from_utf8_lossy(a.s.as_deref().unwrap_or_default()).into_owned())
            .unwrap_or_else(|| default.to_string()))
    }

    /// `n` values in `min..=MAX_SPATIAL` for a 2-D spatial attribute.
    pub fn spatial(&self, name: &str, n: usize, min: i64) -> Parsed<Option<Vec<usize>>> {
        let Some(v) = self.ints(name)? else {
            return Ok(Ok(None));
        };
        if v.len() != n {
            return Ok(Err(format!(
                "{name} {v:?}: only 2-D {} is supported",
                if self.op_type == "Conv" {
                    "convolution"
                } else {
                    "pooling"
                }
            )));
        }
        if let Some(bad) = v.iter().find(|&&x| x < min) {
            return Err(self.bad(name, format!("value {bad} is below {min}")));
        }
        if let Some(bad) = v.iter().find(|&&x| x > MAX_SPATIAL) {
            return Err(self.bad(
                name,
                format!("value {bad} is over the limit of {MAX_SPATIAL}"),
            ));
        }
        Ok(Ok(Some(v.iter().map(|&x| x as usize).collect())))
    }

    pub fn auto_pad(&self) -> Parsed<AutoPad> {
        Ok(Ok(match self.string("auto_pad", "NOTSET")?.as_str() {
            "NOTSET" | "" => AutoPad::NotSet,
            "SAME_UPPER" => AutoPad::SameUpper,
            "SAME_LOWER" => AutoPad::SameLower,
            "VALID" => AutoPad::Valid,
            other => return Err(self.bad("auto_pad", format!("unknown value '{other}'"))),
        }))
    }
}

pub(super) fn two(v: Option<Vec<usize>>, default: usize) -> [usize; 2] {
    v.map_or([default; 2], |v| [v[0], v[1]])
}

pub(super) fn four(v: Option<Vec<usize>>) -> [usize; 4] {
    v.map_or([0; 4], |v| [v[0], v[1], v[2], v[3]])
}

/// Unwraps a `Parsed` inside a function returning `Parsed`.
macro_rules! parsed {
    ($e:expr) => {
        match $e? {
            Ok(v) => v,
            Err(reason) => return Ok(Err(reason)),
        }
    };
}
pub(super) use parsed;
