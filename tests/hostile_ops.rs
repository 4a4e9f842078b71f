//! Hostile inputs for the general operators (issue 13): reductions, Slice, Split,
//! LayerNormalization, the math functions and variadic ops. Each bad attribute or input is a typed error
//! naming the node and the problem; a valid but empty result is an unsupported node.

mod onnx_builder;

use onnx_builder::errors::*;
use onnx_builder::*;
use se_runtime::ModelError;

/// `x [N, 4, 3, 3]` -> `op(x, consts...)` named "n" -> `y`, at `opset`; each
/// constant input is an i64 initializer (`None`: omitted).
fn with_inputs(
    opset: i64,
    op: &str,
    consts: &[Option<&[i64]>],
    attrs: Vec<se_runtime::onnx::proto::AttributeProto>,
    outputs: &[&str],
) -> ModelBuilder {
    let mut b = ModelBuilder::new(opset);
    b.input("x", &[N, 4, 3, 3]);
    let mut ins = vec!["x".to_string()];
    for (i, c) in consts.iter().enumerate() {
        ins.push(match c {
            Some(v) => b.init_i64(&format!("c{i}"), &[v.len()], v.to_vec()),
            None => String::new(),
        });
    }
    let ins: Vec<&str> = ins.iter().map(String::as_str).collect();
    b.named("n", op, &ins, outputs, attrs);
    for o in outputs {
        b.output(o);
    }
    b
}

fn bad_node(b: &ModelBuilder, parts: &[&str]) {
    let e = model_error(b);
    assert!(
        matches!(&e, ModelError::BadNode { node, .. } if node == "n"),
        "{e:?}"
    );
    says(&e, parts);
}

#[test]
fn reductions_with_bad_axes() {
    for (opset, op) in [(13, "ReduceSum"), (18, "ReduceMax"), (18, "ReduceL2")] {
        let b = with_inputs(opset, op, &[Some(&[4])], vec![], &["y"]);
        bad_node(&b, &["axis 4 is out of range for rank 4"]);
        let b = with_inputs(opset, op, &[Some(&[-5])], vec![], &["y"]);
        bad_node(&b, &["axis -5 is out of range"]);
    }
    // Attribute form (opset 13 for all but ReduceSum).
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4])
        .named(
            "n",
            "ReduceMin",
            &["x"],
            &["y"],
            vec![attr_ints("axes", &[2])],
        )
        .output("y");
    bad_node(&b, &["axis 2 is out of range for rank 2"]);
    // Rank 9 is over what the kernels index.
    let mut b = ModelBuilder::new(18);
    b.input("x", &[N, 2, 1, 1, 1, 1, 1, 1, 2])
        .named("n", "ReduceSum", &["x"], &["y"], vec![])
        .output("y");
    says(unsupported(&b, "n"), &["rank 9"]);
}

#[test]
fn slices_with_bad_ranges() {
    let slice = |starts: &[i64], ends: &[i64], axes: &[i64], steps: &[i64]| {
        with_inputs(
            13,
            "Slice",
            &[Some(starts), Some(ends), Some(axes), Some(steps)],
            vec![],
            &["y"],
        )
    };
    bad_node(&slice(&[0], &[2], &[1], &[0]), &["a step is 0"]);
    bad_node(&slice(&[0], &[2], &[4], &[1]), &["axis 4 is out of range"]);
    bad_node(&slice(&[0, 0], &[2], &[1], &[1]), &["differ in length"]);
    bad_node(
        &slice(&[0, 1], &[2, 3], &[1, -3], &[1, 1]),
        &["axis 1 is sliced twice"],
    );
    // Past the end, or an end before the start: nothing is left.
    says(
        unsupported(&slice(&[9], &[i64::MAX], &[2], &[1]), "n"),
        &["is empty"],
    );
    says(
        unsupported(&slice(&[2], &[0], &[3], &[1]), "n"),
        &["is empty"],
    );
    // Bounds computed at run time cannot be planned.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]).input("s", &[1]);
    let e = b.init_i64("e", &[1], vec![2]);
    b.named("n", "Slice", &["x", "s", &e], &["y"], vec![])
        .output("y");
    says(
        unsupported(&b, "n"),
        &["the starts (input 1) is computed at run time"],
    );
}

#[test]
fn splits_that_do_not_cover_the_axis() {
    let two = ["y0", "y1"];
    let b = with_inputs(13, "Split", &[Some(&[1, 2])], vec![attr_i("axis", 1)], &two);
    bad_node(&b, &["split [1, 2] does not sum to 4"]);
    let b = with_inputs(
        13,
        "Split",
        &[Some(&[5, -1])],
        vec![attr_i("axis", 1)],
        &two,
    );
    bad_node(&b, &["negative"]);
    let b = with_inputs(13, "Split", &[], vec![attr_i("axis", 2)], &two);
    bad_node(&b, &["size 3 does not split into 2 equal parts"]);
    let b = with_inputs(13, "Split", &[], vec![attr_i("axis", 4)], &two);
    bad_node(&b, &["axis 4 is out of range"]);
    let b = with_inputs(18, "Split", &[], vec![attr_i("num_outputs", 3)], &two);
    bad_node(&b, &["num_outputs 3 with 2 outputs"]);
    // 3 chunks of 2 leave nothing for the third.
    let three = ["y0", "y1", "y2"];
    let attrs = vec![attr_i("axis", 1), attr_i("num_outputs", 3)];
    let b = with_inputs(18, "Split", &[], attrs, &three);
    bad_node(&b, &["no 3 non-empty chunks"]);
    // A part of size 0 is an empty result.
    let b = with_inputs(13, "Split", &[Some(&[4, 0])], vec![attr_i("axis", 1)], &two);
    says(unsupported(&b, "n"), &["is empty"]);
    // Opset 11: the split is an attribute.
    let attrs = vec![attr_i("axis", 1), attr_ints("split", &[3, 3])];
    let b = with_inputs(11, "Split", &[], attrs, &two);
    bad_node(&b, &["does not sum to 4"]);
}

#[test]
fn bad_attributes_and_arity_of_elementwise_ops() {
    let b = with_inputs(20, "Gelu", &[], vec![attr_s("approximate", "fast")], &["y"]);
    let e = model_error(&b);
    assert!(matches!(&e, ModelError::BadAttribute { attribute, .. } if attribute == "approximate"));
    says(&e, &["'fast'"]);
    for op in ["Sum", "Max", "Min"] {
        let mut b = ModelBuilder::new(13);
        b.input("x", &[N, 4])
            .named("n", op, &[], &["y"], vec![])
            .output("y");
        says(model_error(&b), &["needs at least one input"]);
    }
    for axis in [4, -5] {
        let b = with_inputs(13, "LogSoftmax", &[], vec![attr_i("axis", axis)], &["y"]);
        bad_node(&b, &["out of range for rank 4"]);
    }
    // Integer shape arithmetic that overflows is an error, not a wrapped shape.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]);
    let (base, exp) = (
        b.init_i64("b", &[1], vec![10]),
        b.init_i64("e", &[1], vec![40]),
    );
    b.named("n", "Pow", &[&base, &exp], &["shape"], vec![])
        .node("Reshape", &["x", "shape"], &["y"], vec![])
        .output("y");
    bad_node(&b, &["overflowing power"]);
}

#[test]
fn layer_norms_with_bad_parameters() {
    let ln = |axis: i64, scale: &[usize], outputs: &[&str]| {
        let mut b = ModelBuilder::new(17);
        b.input("x", &[N, 4, 3, 3]);
        let s = b.weight("s", scale, 1.0);
        b.named(
            "n",
            "LayerNormalization",
            &["x", &s],
            outputs,
            vec![attr_i("axis", axis)],
        );
        for o in outputs {
            b.output(o);
        }
        b
    };
    bad_node(&ln(4, &[3], &["y"]), &["axis 4 is out of range"]);
    says(
        unsupported(&ln(-1, &[4], &["y"]), "n"),
        &["does not match the normalised shape [3]"],
    );
    says(unsupported(&ln(1, &[4, 3], &["y"]), "n"), &["[4, 3]"]);
    let mut b = ModelBuilder::new(17);
    b.input("x", &[N, 4])
        .named("n", "LayerNormalization", &["x"], &["y"], vec![])
        .output("y");
    bad_node(&b, &["the scale input is missing"]);
}

#[test]
fn expand_to_a_huge_or_incompatible_shape() {
    let huge: &[i64] = &[1 << 20, 1 << 20, 1 << 20, 3];
    let e = load_error(&with_inputs(13, "Expand", &[Some(huge)], vec![], &["y"]));
    says(&e, &["Expand target"]);
    let b = with_inputs(13, "Expand", &[Some(&[2, 5, 3, 3])], vec![], &["y"]);
    bad_node(&b, &["cannot expand"]);
    let b = with_inputs(13, "Expand", &[Some(&[-2, 4, 3, 3])], vec![], &["y"]);
    bad_node(&b, &["negative dimension -2"]);
}
