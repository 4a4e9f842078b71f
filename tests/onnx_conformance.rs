//! The ONNX backend node test suite (`onnx/backend/test/data/node`, shipped in the
//! `onnx` wheel) for every supported operator, on the GPU.
//!
//! A test is in scope when every node of its graph is an operator the importer accepts
//! on tensors computed at run time (`onnx::operators()` with `Operands::Any`).
//! The runtime compiles weights as constants, so every graph input after the first is
//! bound to its test-data value as an initializer, as a deployed model would hold it.
//! Outcome per test: passed; failed (wrong values or an error on f32 data); skipped
//! because its data is not f32; or unsupported (the runtime refused a feature of the
//! op, e.g. 1-D or 3-D pooling, or the test's opset): those are listed by name. Tolerance: ONNX's own,
//! |got - want| <= 1e-3 * |want| + 1e-5.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prost::Message;
use se_runtime::onnx::{Operands, decode_model, operators, proto, read_tensor_proto};
use se_runtime::{Error, HostTensor, Model, ModelError, Session};

fn suite_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("ONNX_NODE_TESTS") {
        return Some(PathBuf::from(d));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/lib");
    std::fs::read_dir(venv).ok()?.flatten().find_map(|py| {
        let d = py.path().join("site-packages/onnx/backend/test/data/node");
        d.is_dir().then_some(d)
    })
}

enum Outcome {
    Passed,
    Failed(String),
    NotF32,
    Unsupported(String),
}

const FLOAT: i32 = proto::tensor_proto::DataType::Float as i32;

fn elem_type(v: &proto::ValueInfoProto) -> Option<i32> {
    match v.r#type.as_ref()?.value.as_ref()? {
        proto::type_proto::Value::TensorType(t) => t.elem_type,
        _ => None,
    }
}

fn run_case(rt: &se_runtime::Runtime, dir: &Path, mut model: proto::ModelProto) -> Outcome {
    let graph = model.graph.as_mut().unwrap();
    // The data input and every output must be f32; other inputs become constants
    // (int64 shapes, axes and pads included).
    let f32_data = graph
        .input
        .first()
        .is_some_and(|v| elem_type(v) == Some(FLOAT))
        && graph.output.iter().all(|v| elem_type(v) == Some(FLOAT));
    if !f32_data {
        return Outcome::NotF32;
    }
    let mut sets: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    sets.sort();
    let read = |p: PathBuf| proto::TensorProto::decode(&*std::fs::read(p).unwrap()).unwrap();
    let set = &sets[0];
    // Bind inputs 1.. as initializers.
    let inputs: Vec<proto::ValueInfoProto> = graph.input.drain(1..).collect();
    for (i, v) in inputs.iter().enumerate() {
        let mut t = read(set.join(format!("input_{}.pb", i + 1)));
        t.name = v.name.clone();
        graph.initializer.push(t);
    }
    let input_name = graph.input[0].name.clone().unwrap_or_default();
    let bytes = model.encode_to_vec();
    let m = match Model::from_bytes(&bytes) {
        Ok(m) => m,
        Err(Error::UnsupportedModel { nodes }) => {
            let reasons: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
            return Outcome::Unsupported(reasons.join("; "));
        }
        // A test written for a newer opset than the runtime imports is out of reach,
        // not wrong.
        Err(e @ Error::InvalidModel(ModelError::Opset { .. })) => {
            return Outcome::Unsupported(e.to_string());
        }
        Err(e) => return Outcome::Failed(format!("load: {e}")),
    };
    let x = read_tensor_proto(&std::fs::read(set.join("input_0.pb")).unwrap()).unwrap();
    let batch = x.shape.first().copied().unwrap_or(1);
    let session = match Session::new(rt, &m, batch) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(format!("session: {e}")),
    };
    let result = match pollster::block_on(session.run(&[(input_name.as_str(), x)])) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(format!("run: {e}")),
    };
    for (i, (_, got)) in result.outputs.iter().enumerate() {
        let want: HostTensor =
            read_tensor_proto(&std::fs::read(set.join(format!("output_{i}.pb"))).unwrap()).unwrap();
        if got.data.len() != want.data.len() {
            return Outcome::Failed(format!(
                "output {i}: shape {:?} vs {:?}",
                got.shape, want.shape
            ));
        }
        for (j, (g, w)) in got.data.iter().zip(&want.data).enumerate() {
            if (g - w).abs() > 1e-3 * w.abs() + 1e-5 || g.is_nan() != w.is_nan() {
                return Outcome::Failed(format!("output {i}[{j}]: {g} vs {w}"));
            }
        }
    }
    Outcome::Passed
}

#[test]
fn onnx_node_conformance() {
    let rt = require!(gpu);
    let Some(dir) = suite_dir() else {
        panic!(
            "ONNX node tests not found: run `bash tools/test.sh` (it installs the onnx wheel) or set ONNX_NODE_TESTS"
        );
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    let supported: Vec<&str> = operators()
        .filter(|&(_, operands)| operands == Operands::Any)
        .map(|(op, _)| op)
        .collect();

    // op -> [passed, failed, not f32, unsupported]
    let mut per_op: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let (mut failures, mut unsupported) = (vec![], vec![]);
    for case in cases {
        let Ok(bytes) = std::fs::read(case.join("model.onnx")) else {
            continue;
        };
        let Ok(model) = decode_model(&bytes) else {
            continue;
        };
        let ops: Vec<String> = model.graph.as_ref().map_or(vec![], |g| {
            g.node
                .iter()
                .map(|n| n.op_type.clone().unwrap_or_default())
                .collect()
        });
        if ops.is_empty() || !ops.iter().all(|op| supported.contains(&op.as_str())) {
            continue;
        }
        // Attribute the case to its main op: the last non-Constant node.
        let op = ops
            .iter()
            .rev()
            .find(|o| *o != "Constant")
            .unwrap_or(&ops[0])
            .clone();
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let counts = per_op.entry(op).or_default();
        match run_case(rt, &case, model) {
            Outcome::Passed => counts[0] += 1,
            Outcome::Failed(why) => {
                counts[1] += 1;
                failures.push(format!("{name}: {why}"));
            }
            Outcome::NotF32 => counts[2] += 1,
            Outcome::Unsupported(why) => {
                counts[3] += 1;
                unsupported.push(format!("{name}: {why}"));
            }
        }
    }

    common::report(&format!("\nONNX node conformance ({}):", dir.display()));
    common::report(&format!(
        "{:<20} {:>6} {:>6} {:>8} {:>11}",
        "op", "passed", "failed", "non-f32", "unsupported"
    ));
    let mut total = [0usize; 4];
    for (op, c) in &per_op {
        common::report(&format!(
            "{op:<20} {:>6} {:>6} {:>8} {:>11}",
            c[0], c[1], c[2], c[3]
        ));
        (0..4).for_each(|i| total[i] += c[i]);
    }
    common::report(&format!(
        "{:<20} {:>6} {:>6} {:>8} {:>11}",
        "total", total[0], total[1], total[2], total[3]
    ));
    for u in &unsupported {
        common::report(&format!("unsupported: {u}"));
    }
    for f in &failures {
        common::report(&format!("FAILED: {f}"));
    }
    // Guards against the suite silently not running (148 pass with onnx 1.22.0).
    assert!(total[0] >= 140, "too few conformance tests ran: {total:?}");
    assert!(
        failures.is_empty(),
        "{} conformance tests failed",
        failures.len()
    );
}
