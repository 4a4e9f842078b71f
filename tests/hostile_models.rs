//! Hostile models (issue 8): every way a model file from a stranger can be wrong gets
//! a typed error naming the problem, never a panic, a hang or a huge allocation. The
//! fuzz seeds and every input the fuzzer found (`fuzz/`) are replayed here through the
//! same entry points as `fuzz/fuzz_targets/load_model.rs`, so plain `cargo test` keeps
//! them fixed. `tests/onnx_import.rs` covers the loader's ordinary errors; this file is
//! the catalogue of attacks.

mod onnx_builder;

mod common;

use onnx_builder::errors::*;
use onnx_builder::*;
use se_runtime::onnx::proto::{
    AttributeProto, TensorShapeProto, tensor_proto::DataType, tensor_shape_proto, type_proto,
};
use se_runtime::{CpuSession, Error, HostTensor, Model, ModelError};

/// `x [N, ci, hw, hw]` -> Conv(weights of `w`, `attrs`) named "conv" -> `y`.
fn conv(ci: i64, hw: i64, w: &[usize], attrs: Vec<AttributeProto>) -> ModelBuilder {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, ci, hw, hw]);
    let w = b.weight("w", w, 0.1);
    b.named("conv", "Conv", &["x", &w], &["y"], attrs)
        .output("y");
    b
}

fn one_node(input: &[i64], op: &str, attrs: Vec<AttributeProto>) -> ModelBuilder {
    let mut b = ModelBuilder::new(13);
    b.input("x", input)
        .named("n", op, &["x"], &["y"], attrs)
        .output("y");
    b
}

fn protobuf_error(bytes: &[u8]) -> ModelError {
    match Model::from_bytes(bytes) {
        Err(Error::InvalidModel(e @ (ModelError::Protobuf(_) | ModelError::NoGraph))) => e,
        Err(e) => panic!("expected a decoding error, got {e:?}"),
        Ok(_) => panic!("the bytes loaded as a model"),
    }
}

#[test]
fn truncated_files_are_protobuf_errors() {
    let mut b = conv(3, 8, &[4, 3, 3, 3], vec![]);
    b.meta("se_runtime.labels", r#"["a","b","c","d"]"#);
    let bytes = b.bytes();
    Model::from_bytes(&bytes).unwrap();
    // Cuts inside the graph, the weights' raw data and the metadata.
    let mut cuts = 0;
    for len in (1..bytes.len()).step_by(7) {
        match Model::from_bytes(&bytes[..len]) {
            Err(Error::InvalidModel(ModelError::Protobuf(m))) => {
                says(
                    Error::InvalidModel(ModelError::Protobuf(m)),
                    &["not an ONNX model"],
                );
                cuts += 1;
            }
            // A cut at a field boundary is a valid but incomplete model.
            Err(_) => {}
            Ok(_) => panic!("a model cut to {len} of {} bytes loaded", bytes.len()),
        }
    }
    assert!(cuts > bytes.len() / 14, "{cuts}");
}

#[test]
fn files_that_are_not_models() {
    let png = std::fs::read("samples/fashion/0_ankle_boot.png").unwrap();
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00model.onnx";
    let json = br#"{"format": "onnx", "graph": []}"#;
    for bytes in [&png[..], zip, json, b"\x7fELF\x02\x01\x01"] {
        let e = protobuf_error(bytes);
        says(
            Error::InvalidModel(e.clone()),
            &[match e {
                ModelError::NoGraph => "no graph",
                _ => "not an ONNX model",
            }],
        );
    }
    // A PNG is a protobuf decoding error, not a model without a graph.
    assert!(matches!(protobuf_error(&png), ModelError::Protobuf(_)));
}

#[test]
fn huge_declared_sizes_fail_without_allocating() {
    // 2^29 elements (2 GiB) declared with 4 bytes of data: the data length is checked
    // against the dims before anything is allocated.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]);
    let mut t = tensor_f32("w", &[1], &[1.0]);
    t.dims = vec![1 << 20, 1 << 9];
    b.graph.initializer.push(t);
    b.named("add", "Add", &["x", "w"], &["y"], vec![])
        .output("y");
    let e = model_error(&b);
    assert!(matches!(&e, ModelError::BadTensor { tensor, .. } if tensor == "w"));
    says(&e, &["4 bytes of raw data", "536870912 elements"]);

    // 2^40 elements: over the element limit before the data is even looked at.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]);
    let mut t = tensor_f32("w", &[1], &[1.0]);
    t.dims = vec![1 << 20, 1 << 20];
    b.graph.initializer.push(t);
    b.named("add", "Add", &["x", "w"], &["y"], vec![])
        .output("y");
    let e = model_error(&b);
    assert!(matches!(&e, ModelError::TooLarge { .. }));
    says(&e, &["'w'", "1099511627776 elements", "over the limit"]);

    // An input of 3 x 2^30 elements.
    let e = model_error(&one_node(&[N, 3, 32768, 32768], "Relu", vec![]));
    assert!(matches!(&e, ModelError::TooLarge { .. }));
    says(&e, &["input 'x'", "[1, 3, 32768, 32768]"]);

    // Each tensor under the limit, together over it: the plan refuses the activations
    // (2 x 2^31 f32 = 16 GiB at batch 2) without allocating them.
    let b = one_node(&[N, 8, 16384, 8192], "Relu", vec![]);
    let model = b.load().unwrap();
    let e = match model.plan(2) {
        Err(Error::InvalidModel(e @ ModelError::TooLarge { .. })) => e,
        r => panic!("{:?}", r.map(|p| p.buffer_bytes())),
    };
    says(&e, &["activations", "batch 2", "4294967296 elements"]);

    // A Pad node asking for 2^40 rows.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 4, 4]);
    let p = b.init_i64("p", &[8], vec![0, 0, 1 << 40, 0, 0, 0, 0, 0]);
    b.named("pad", "Pad", &["x", &p], &["y"], vec![])
        .output("y");
    let e = model_error(&b);
    assert!(matches!(&e, ModelError::TooLarge { .. }));
    says(&e, &["node 'pad'"]);

    // A Reshape target whose product overflows.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]);
    let s = b.init_i64("s", &[2], vec![1 << 40, 1 << 40]);
    b.named("r", "Reshape", &["x", &s], &["y"], vec![])
        .output("y");
    let e = model_error(&b);
    assert!(matches!(&e, ModelError::BadNode { node, .. } if node == "r"));
    says(&e, &["cannot reshape", "1099511627776"]);
}

#[test]
fn negative_and_zero_dims() {
    // A negative initializer dimension.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]);
    let mut t = tensor_f32("w", &[4], &[1.0; 4]);
    t.dims = vec![-4];
    b.graph.initializer.push(t);
    b.named("add", "Add", &["x", "w"], &["y"], vec![])
        .output("y");
    let e = model_error(&b);
    assert!(matches!(&e, ModelError::BadTensor { tensor, .. } if tensor == "w"));
    says(&e, &["negative dimension", "[-4]"]);

    // A negative input dimension (dim_value -5, not a dim_param).
    let mut b = one_node(&[N, 5, 4], "Relu", vec![]);
    let Some(type_proto::Value::TensorType(t)) =
        &mut b.graph.input[0].r#type.as_mut().unwrap().value
    else {
        unreachable!()
    };
    t.shape = Some(TensorShapeProto {
        dim: [1, -5, 4]
            .map(|d| tensor_shape_proto::Dimension {
                value: Some(tensor_shape_proto::dimension::Value::DimValue(d)),
                ..Default::default()
            })
            .to_vec(),
    });
    says(unsupported(&b, "x"), &["negative (-5)"]);

    // A zero input dimension: an empty tensor.
    says(
        unsupported(&one_node(&[N, 0, 4], "Relu", vec![]), "x"),
        &["dimension is 0"],
    );

    // A zero-size initializer makes an empty output.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]);
    b.init("w", &[0, 4], vec![]);
    b.named("add", "Add", &["x", "w"], &["y"], vec![])
        .output("y");
    says(unsupported(&b, "add"), &["[0, 4]", "empty"]);
}

#[test]
fn cycles_dangling_inputs_and_missing_initializers() {
    // A node reading its own output.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4])
        .named("r", "Relu", &["y"], &["y"], vec![])
        .output("y");
    assert_eq!(model_error(&b), ModelError::Cycle(vec!["r".into()]));

    // A three-node cycle beside a valid path.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4])
        .named("a", "Add", &["x", "c"], &["p"], vec![])
        .named("b", "Relu", &["p"], &["q"], vec![])
        .named("c", "Sigmoid", &["q"], &["c"], vec![])
        .named("ok", "Relu", &["x"], &["y"], vec![])
        .output("y");
    let e = model_error(&b);
    assert_eq!(
        e,
        ModelError::Cycle(vec!["a".into(), "b".into(), "c".into()])
    );
    says(&e, &["cycle", "a, b, c"]);

    // A node writing a graph input.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4])
        .named("r", "Relu", &["x"], &["x"], vec![])
        .output("x");
    assert_eq!(model_error(&b), ModelError::DuplicateValue("x".into()));

    // A dangling input deep in the graph.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4])
        .named("r", "Relu", &["x"], &["h"], vec![])
        .named("mul", "Mul", &["h", "scale"], &["y"], vec![])
        .output("y");
    let e = model_error(&b);
    assert_eq!(
        e,
        ModelError::DanglingInput {
            node: "mul".into(),
            op: "Mul".into(),
            input: "scale".into()
        }
    );
    says(
        &e,
        &[
            "'scale'",
            "neither a graph input, an initializer nor a node output",
        ],
    );

    // A missing BatchNorm statistic.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 2, 4, 4]);
    let g = b.init("g", &[2], vec![1.0; 2]);
    let be = b.init("b", &[2], vec![0.0; 2]);
    let m = b.init("m", &[2], vec![0.0; 2]);
    b.named(
        "bn",
        "BatchNormalization",
        &["x", &g, &be, &m, "bn.running_var"],
        &["y"],
        vec![],
    )
    .output("y");
    assert!(matches!(
        model_error(&b),
        ModelError::DanglingInput { node, input, .. } if node == "bn" && input == "bn.running_var"
    ));
}

#[test]
fn mismatched_weight_shapes() {
    let e = model_error(&conv(3, 8, &[4, 5, 3, 3], vec![]));
    assert!(matches!(&e, ModelError::BadNode { node, .. } if node == "conv"));
    says(&e, &["input channels", "expected 3, got 5"]);

    // A bias of the wrong length.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 8, 8]);
    let w = b.weight("w", &[4, 3, 3, 3], 0.1);
    let bias = b.weight("bias", &[5], 0.1);
    b.named("conv", "Conv", &["x", &w, &bias], &["y"], vec![])
        .output("y");
    says(
        model_error(&b),
        &["'conv'", "bias of shape [5], expected [4]"],
    );

    // Weights of rank 3, and a kernel_shape that contradicts the weights.
    says(
        model_error(&conv(3, 8, &[4, 3, 9], vec![])),
        &["weights of rank 3"],
    );
    says(
        model_error(&conv(
            3,
            8,
            &[4, 3, 3, 3],
            vec![attr_ints("kernel_shape", &[5, 5])],
        )),
        &["kernel_shape [5, 5] differs"],
    );

    // A Gemm whose weights do not fit its input.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 5]);
    let w = b.weight("w", &[6, 3], 0.1);
    b.named("fc", "Gemm", &["x", &w], &["y"], vec![])
        .output("y");
    assert!(matches!(model_error(&b), ModelError::BadNode { node, .. } if node == "fc"));
}

#[test]
fn unsupported_dtypes() {
    // int8 (quantised) convolution weights.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 8, 8]);
    let mut t = tensor_f32("w", &[4, 3, 3, 3], &[0.0; 108]);
    t.data_type = Some(DataType::Int8 as i32);
    t.raw_data = Some(vec![1; 108]);
    b.graph.initializer.push(t);
    b.named("conv", "Conv", &["x", "w"], &["y"], vec![])
        .output("y");
    says(unsupported(&b, "conv"), &["'w'", "integer tensor"]);

    // String and complex initializers.
    for (dtype, name) in [
        (DataType::String, "STRING"),
        (DataType::Complex64, "COMPLEX64"),
    ] {
        let mut b = conv(3, 8, &[4, 3, 3, 3], vec![]);
        b.graph.initializer[0].data_type = Some(dtype as i32);
        says(unsupported(&b, "w"), &["data type", name]);
    }
    // A node without an operator.
    let mut b = one_node(&[N, 4], "Relu", vec![]);
    b.graph.node[0].op_type = None;
    says(unsupported(&b, "n"), &["no op_type"]);

    // A data type number ONNX does not define.
    let mut b = conv(3, 8, &[4, 3, 3, 3], vec![]);
    b.graph.initializer[0].data_type = Some(99);
    let e = model_error(&b);
    assert!(matches!(&e, ModelError::BadTensor { tensor, .. } if tensor == "w"));
    says(&e, &["unknown data type 99"]);

    // f64 and int8 inputs.
    for (dtype, name) in [(DataType::Double, "DOUBLE"), (DataType::Int8, "INT8")] {
        let mut b = ModelBuilder::new(13);
        b.input_typed("x", dtype, &[N, 4])
            .node("Relu", &["x"], &["y"], vec![])
            .output("y");
        says(unsupported(&b, "x"), &[name, "only FLOAT (f32) inputs"]);
    }
}

/// f64 initializers are not an error: they are converted to f32 at load, so a model
/// stored in double precision computes what its f32 twin does.
#[test]
fn f64_initializers_are_converted() {
    let f32_model = conv(3, 6, &[4, 3, 3, 3], vec![]);
    let mut f64_model = conv(3, 6, &[4, 3, 3, 3], vec![]);
    let t = &mut f64_model.graph.initializer[0];
    let values: Vec<f32> = t
        .raw_data
        .as_ref()
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    t.data_type = Some(DataType::Double as i32);
    t.raw_data = Some(
        values
            .iter()
            .flat_map(|&v| (v as f64).to_le_bytes())
            .collect(),
    );
    let x = HostTensor::new(
        &[1, 3, 6, 6],
        (0..108).map(|i| (i as f32 * 0.37).sin()).collect(),
    )
    .unwrap();
    let run = |b: &ModelBuilder| {
        let s = CpuSession::new(&b.load().unwrap(), 1).unwrap();
        let r = pollster::block_on(s.run(&[("x", x.clone())])).unwrap();
        r.outputs[0].1.data.clone()
    };
    let (a, b) = (run(&f32_model), run(&f64_model));
    assert!(a.iter().any(|&v| v != 0.0));
    assert_eq!(a, b);
}

#[test]
fn absurd_convolution_attributes() {
    let w = [4, 3, 3, 3];
    let bad_attr = |attrs: Vec<AttributeProto>, attribute: &str, parts: &[&str]| {
        let e = model_error(&conv(3, 8, &w, attrs));
        assert!(
            matches!(&e, ModelError::BadAttribute { node, attribute: a, .. } if node == "conv" && a == attribute),
            "{e:?}"
        );
        says(&e, parts);
    };
    bad_attr(
        vec![attr_ints("strides", &[0, 0])],
        "strides",
        &["value 0 is below 1"],
    );
    bad_attr(
        vec![attr_ints("dilations", &[1, 0])],
        "dilations",
        &["value 0 is below 1"],
    );
    bad_attr(
        vec![attr_ints("pads", &[0, -1, 0, 0])],
        "pads",
        &["value -1 is below 0"],
    );
    bad_attr(vec![attr_i("group", 0)], "group", &["0 is below 1"]);
    // Values whose output-size arithmetic would overflow (a panic before the limit).
    for name in ["strides", "dilations"] {
        bad_attr(
            vec![attr_ints(name, &[i64::MAX, 1])],
            name,
            &["over the limit of 65536"],
        );
    }
    bad_attr(
        vec![attr_ints("pads", &[i64::MAX, 0, i64::MAX, 0])],
        "pads",
        &["over the limit"],
    );
    // An attribute of the wrong type.
    bad_attr(vec![attr_f("group", 2.0)], "group", &[]);

    // Pads larger than the input: outputs that see padding only.
    says(
        unsupported(
            &conv(3, 8, &w, vec![attr_ints("pads", &[20, 20, 20, 20])]),
            "conv",
        ),
        &["pads [20, 20, 20, 20]", "padding only"],
    );
    // A kernel larger than the padded input, directly or through dilation.
    for (hw, attrs) in [
        (4, vec![attr_ints("pads", &[1, 1, 1, 1])]),
        (8, vec![attr_ints("dilations", &[5, 5])]),
    ] {
        let e = model_error(&conv(3, hw, &[4, 3, 3 + (hw == 4) as usize * 4, 3], attrs));
        assert!(matches!(&e, ModelError::BadNode { node, .. } if node == "conv"));
        says(&e, &["along H", "spans more than the input's"]);
    }
    // Groups that divide neither the input nor the output channels.
    for (ci, w) in [(3, [4, 1, 3, 3]), (4, [3, 2, 3, 3])] {
        let e = model_error(&conv(ci, 8, &w, vec![attr_i("group", 2)]));
        assert!(matches!(&e, ModelError::BadNode { node, .. } if node == "conv"));
        says(&e, &["groups 2 must divide"]);
    }
}

#[test]
fn absurd_pooling_and_axis_attributes() {
    let pool = |attrs| one_node(&[N, 3, 4, 4], "MaxPool", attrs);
    let e = model_error(&pool(vec![
        attr_ints("kernel_shape", &[2, 2]),
        attr_ints("strides", &[0, 1]),
    ]));
    assert!(matches!(&e, ModelError::BadAttribute { attribute, .. } if attribute == "strides"));
    let e = model_error(&pool(vec![attr_ints("kernel_shape", &[0, 2])]));
    assert!(
        matches!(&e, ModelError::BadAttribute { attribute, .. } if attribute == "kernel_shape")
    );
    let e = model_error(&pool(vec![attr_ints("kernel_shape", &[1 << 40, 2])]));
    says(&e, &["kernel_shape", "over the limit"]);
    says(
        unsupported(&pool(vec![attr_ints("kernel_shape", &[9, 9])]), "n"),
        &["window along H spans 9", "padded input's 4"],
    );
    says(
        unsupported(
            &pool(vec![
                attr_ints("kernel_shape", &[3, 3]),
                attr_ints("pads", &[5, 5, 5, 5]),
            ]),
            "n",
        ),
        &["padding only"],
    );

    // Axes out of range.
    for (op, attrs, input) in [
        ("Softmax", vec![attr_i("axis", 5)], &[N, 4][..]),
        ("Flatten", vec![attr_i("axis", 9)], &[N, 4, 2, 2][..]),
        ("Softmax", vec![attr_i("axis", -3)], &[N, 4][..]),
    ] {
        let e = model_error(&one_node(input, op, attrs));
        assert!(matches!(&e, ModelError::BadNode { node, .. } if node == "n"));
        says(&e, &["out of range for rank"]);
    }
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4])
        .input("z", &[N, 4])
        .named(
            "cat",
            "Concat",
            &["x", "z"],
            &["y"],
            vec![attr_i("axis", -7)],
        )
        .output("y");
    says(model_error(&b), &["'cat'", "axis -7 is out of range"]);
    let e = model_error(&one_node(
        &[N, 4, 2, 2],
        "Transpose",
        vec![attr_ints("perm", &[0, 1, 1, 7])],
    ));
    says(&e, &["perm [0, 1, 1, 7] is not a permutation"]);
}

/// What `fuzz/fuzz_targets/load_model.rs` does with each input: load, plan for batch
/// 1 and 2, and run small models once on the CPU. Returns whether the model loaded.
fn fuzz_load_model(data: &[u8]) -> bool {
    let Ok(model) = Model::from_bytes(data) else {
        return false;
    };
    let batches: &[usize] = match model.info().batch {
        Some(b) => &[b][..],
        None => &[1, 2][..],
    };
    for &batch in batches {
        let Ok(session) = CpuSession::new(&model, batch) else {
            continue;
        };
        let info = model.info();
        if info.macs.saturating_mul(batch as u64) > 1 << 20
            || info.activation_bytes.saturating_mul(batch) > 16 << 20
        {
            continue;
        }
        let inputs: se_runtime::Result<Vec<(&str, HostTensor)>> = session
            .plan()
            .inputs
            .iter()
            .map(|b| Ok((b.name.as_str(), HostTensor::zeros(&b.operand.shape)?)))
            .collect();
        if let Ok(inputs) = inputs {
            let _ = pollster::block_on(session.run(&inputs));
        }
    }
    true
}

#[test]
fn fuzz_seeds_load_and_run() {
    let seeds = common::repo_files("fuzz/seeds/load_model");
    assert!(seeds.len() >= 8);
    for (path, bytes) in seeds {
        let loaded = fuzz_load_model(&bytes);
        // One seed is a model with unsupported operators, on purpose.
        assert_eq!(loaded, !path.ends_with("unsupported.onnx"), "{path}");
    }
}

#[test]
fn fuzz_findings_stay_fixed() {
    let found = common::repo_files("fuzz/regressions/load_model");
    assert!(!found.is_empty());
    for (path, bytes) in found {
        eprintln!("{path}");
        fuzz_load_model(&bytes);
    }
}
