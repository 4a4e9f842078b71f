//! ONNX import: decoding, validation errors for malformed models, the one error that
//! lists every unsupported node, tensor decoding and model metadata.

mod onnx_builder;

use onnx_builder::*;
use prost::Message;
use se_runtime::onnx::proto::{TensorProto, tensor_proto::DataType};
use se_runtime::{Error, Model, ModelError};

/// A valid one-node model `y = Relu(x)`.
fn relu_model() -> ModelBuilder {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4])
        .node("Relu", &["x"], &["y"], vec![])
        .output("y");
    b
}

fn model_error(r: se_runtime::Result<Model>) -> ModelError {
    match r {
        Err(Error::InvalidModel(e)) => e,
        Err(e) => panic!("expected an invalid-model error, got: {e}"),
        Ok(_) => panic!("expected an invalid-model error, the model loaded"),
    }
}

#[test]
fn loads_a_minimal_model() {
    let m = relu_model().load().unwrap();
    let info = m.info();
    assert_eq!(info.opset, 13);
    assert_eq!(info.batch, None);
    assert_eq!(info.inputs[0].name, "x");
    assert_eq!(info.inputs[0].shape, vec![1, 4]);
    assert_eq!(info.outputs[0].shape, vec![1, 4]);
    assert_eq!(info.layers.len(), 1);
    assert_eq!(info.layers[0].op, "Relu");
}

#[test]
fn garbage_is_a_protobuf_error() {
    for bytes in [
        &b"not an onnx file at all"[..],
        &[0xff; 64][..],
        &[0x0a, 0xff, 0xff, 0xff, 0x0f][..],
    ] {
        assert!(matches!(
            model_error(Model::from_bytes(bytes)),
            ModelError::Protobuf(_)
        ));
    }
    // A truncated valid model.
    let bytes = relu_model().bytes();
    assert!(matches!(
        model_error(Model::from_bytes(&bytes[..bytes.len() - 3])),
        ModelError::Protobuf(_)
    ));
}

#[test]
fn empty_bytes_have_no_graph() {
    assert_eq!(model_error(Model::from_bytes(&[])), ModelError::NoGraph);
}

#[test]
fn opsets_outside_9_to_25_are_rejected() {
    for opset in [7, 8, 26] {
        let mut b = relu_model();
        b.opset = opset;
        assert!(
            matches!(model_error(b.load()), ModelError::Opset { version, .. } if version == opset)
        );
    }
    for opset in [9, 21, 22, 25] {
        let mut b = relu_model();
        b.opset = opset;
        b.load().unwrap();
    }
}

#[test]
fn dangling_input_is_named() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 4])
        .named("add1", "Add", &["x", "bias"], &["y"], vec![])
        .output("y");
    let e = model_error(b.load());
    assert_eq!(
        e,
        ModelError::DanglingInput {
            node: "add1".into(),
            op: "Add".into(),
            input: "bias".into()
        }
    );
    assert!(e.to_string().contains("'bias'"));
}

#[test]
fn missing_initializer_for_conv_weights() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 3, 8, 8])
        .named("conv", "Conv", &["x", "conv.weight"], &["y"], vec![])
        .output("y");
    assert!(
        matches!(model_error(b.load()), ModelError::DanglingInput { input, .. } if input == "conv.weight")
    );
}

#[test]
fn dangling_output_and_duplicates() {
    let mut b = relu_model();
    b.output("nothing");
    assert_eq!(
        model_error(b.load()),
        ModelError::DanglingOutput("nothing".into())
    );

    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 4])
        .node("Relu", &["x"], &["y"], vec![])
        .node("Sigmoid", &["x"], &["y"], vec![])
        .output("y");
    assert_eq!(
        model_error(b.load()),
        ModelError::DuplicateValue("y".into())
    );
}

#[test]
fn cycles_are_rejected() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 4])
        .named("a", "Add", &["x", "c"], &["b"], vec![])
        .named("r", "Relu", &["b"], &["c"], vec![])
        .output("c");
    match model_error(b.load()) {
        ModelError::Cycle(nodes) => assert_eq!(nodes, vec!["a".to_string(), "r".to_string()]),
        e => panic!("{e}"),
    }
}

#[test]
fn nodes_out_of_order_are_sorted() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 4])
        .node("Sigmoid", &["h"], &["y"], vec![])
        .node("Relu", &["x"], &["h"], vec![])
        .output("y");
    let m = b.load().unwrap();
    let ops: Vec<&str> = m.info().layers.iter().map(|l| l.op.as_str()).collect();
    assert_eq!(ops, ["Relu", "Sigmoid"]);
}

#[test]
fn mismatched_weight_shapes_are_invalid() {
    // Conv weights for 4 input channels on a 3-channel input.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 3, 8, 8]);
    let w = b.weight("w", &[8, 4, 3, 3], 0.1);
    b.named("conv", "Conv", &["x", &w], &["y"], vec![])
        .output("y");
    assert!(matches!(model_error(b.load()), ModelError::BadNode { node, .. } if node == "conv"));

    // BatchNorm statistics of the wrong length.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 3, 4, 4]);
    let p: Vec<String> = ["g", "b", "m", "v"]
        .iter()
        .map(|n| b.init(n, &[4], vec![1.0; 4]))
        .collect();
    b.named(
        "bn",
        "BatchNormalization",
        &["x", &p[0], &p[1], &p[2], &p[3]],
        &["y"],
        vec![],
    )
    .output("y");
    assert!(matches!(model_error(b.load()), ModelError::BadNode { node, .. } if node == "bn"));

    // Gemm inner dimensions that differ.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[2, 5]);
    let w = b.weight("w", &[6, 3], 0.1);
    b.named("fc", "Gemm", &["x", &w], &["y"], vec![])
        .output("y");
    assert!(matches!(model_error(b.load()), ModelError::BadNode { node, .. } if node == "fc"));
}

#[test]
fn initializer_data_must_match_its_dims() {
    let mut b = relu_model();
    let mut t = tensor_f32("w", &[2, 3], &[1.0; 6]);
    t.raw_data.as_mut().unwrap().truncate(20);
    b.graph.initializer.push(t);
    assert!(matches!(model_error(b.load()), ModelError::BadTensor { tensor, .. } if tensor == "w"));

    let mut b = relu_model();
    let mut t = tensor_f32("w", &[2, 3], &[]);
    t.raw_data = None;
    t.float_data = vec![1.0; 5];
    b.graph.initializer.push(t);
    assert!(matches!(model_error(b.load()), ModelError::BadTensor { tensor, .. } if tensor == "w"));
}

#[test]
fn huge_declared_sizes_fail_before_allocating() {
    // An initializer claiming 2^62 elements with 4 bytes of data.
    let mut b = relu_model();
    let mut t = tensor_f32("w", &[1], &[1.0]);
    t.dims = vec![1 << 31, 1 << 31];
    b.graph.initializer.push(t);
    assert!(matches!(model_error(b.load()), ModelError::TooLarge { .. }));

    // dims whose product overflows u64.
    let mut b = relu_model();
    let mut t = tensor_f32("w", &[1], &[1.0]);
    t.dims = vec![i64::MAX, i64::MAX, 4];
    b.graph.initializer.push(t);
    assert!(matches!(model_error(b.load()), ModelError::TooLarge { .. }));

    // A graph input declared with a trillion elements.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 1_000_000, 1_000_000])
        .node("Relu", &["x"], &["y"], vec![])
        .output("y");
    assert!(matches!(model_error(b.load()), ModelError::TooLarge { .. }));

    // ConstantOfShape asking for 2^40 elements.
    let mut b = ModelBuilder::new(13);
    let shape = b.init_i64("shape", &[2], vec![1 << 20, 1 << 20]);
    b.input("x", &[1, 4])
        .node("ConstantOfShape", &[&shape], &["big"], vec![])
        .node("Add", &["x", "big"], &["y"], vec![])
        .output("y");
    assert!(matches!(model_error(b.load()), ModelError::TooLarge { .. }));

    // Negative dims.
    let mut b = relu_model();
    let mut t = tensor_f32("w", &[1], &[1.0]);
    t.dims = vec![-1];
    b.graph.initializer.push(t);
    assert!(matches!(
        model_error(b.load()),
        ModelError::BadTensor { .. }
    ));
}

#[test]
fn external_data_is_rejected_with_advice() {
    let mut b = relu_model();
    let mut t = tensor_f32("w", &[1], &[1.0]);
    t.raw_data = None;
    t.data_location = Some(1);
    b.graph.initializer.push(t);
    let e = model_error(b.load());
    assert_eq!(e, ModelError::ExternalData { tensor: "w".into() });
    assert!(e.to_string().contains("save_as_external_data"));
}

#[test]
fn bad_attribute_types_are_invalid() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 4])
        .named("sm", "Softmax", &["x"], &["y"], vec![attr_f("axis", 1.0)])
        .output("y");
    assert!(
        matches!(model_error(b.load()), ModelError::BadAttribute { attribute, .. } if attribute == "axis")
    );

    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 3, 8, 8]);
    let w = b.weight("w", &[4, 3, 3, 3], 0.1);
    b.named(
        "conv",
        "Conv",
        &["x", &w],
        &["y"],
        vec![attr_ints("strides", &[0, 1])],
    )
    .output("y");
    assert!(
        matches!(model_error(b.load()), ModelError::BadAttribute { attribute, .. } if attribute == "strides")
    );
}

#[test]
fn every_unsupported_node_is_listed_in_one_error() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 8, 8])
        .input_typed("ids", DataType::Int64, &[N, 4])
        .input("img", &[N, 3, -1, 8]);
    let w3d = b.weight("w3d", &[4, 3, 3, 3, 3], 0.1);
    let w = b.weight("w", &[4, 3, 3, 3], 0.1);
    b.named("leaky", "LeakyRelu", &["x"], &["a"], vec![])
        .named("resize", "Resize", &["a"], &["b"], vec![])
        .named(
            "conv3d",
            "Conv",
            &["x", &w3d],
            &["c"],
            vec![attr_ints("kernel_shape", &[3, 3, 3])],
        )
        .named("custom", "FancyOp", &["x"], &["d"], vec![])
        .named(
            "pad_wrap",
            "Pad",
            &["x"],
            &["e"],
            vec![attr_s("mode", "wrap")],
        )
        .named("conv_ok", "Conv", &["x", &w], &["f"], vec![]);
    b.graph
        .node
        .iter_mut()
        .find(|n| n.op_type.as_deref() == Some("FancyOp"))
        .unwrap()
        .domain = Some("com.example".into());
    // A Reshape whose target shape is computed from the input's data at run time.
    b.named("dyn_reshape", "Reshape", &["f", "f"], &["g"], vec![]);
    // Downstream of an unsupported node: not reported again.
    b.named("after_leaky", "Relu", &["b"], &["h"], vec![]);
    b.output("h")
        .output("c")
        .output("d")
        .output("e")
        .output("g");
    let err = b.load().unwrap_err();
    let Error::UnsupportedModel { nodes } = &err else {
        panic!("expected UnsupportedModel, got {err}");
    };
    let got: Vec<(&str, &str)> = nodes
        .iter()
        .map(|u| (u.node.as_str(), u.op.as_str()))
        .collect();
    for want in [
        ("ids", "input"),
        ("img", "input"),
        ("leaky", "LeakyRelu"),
        ("resize", "Resize"),
        ("conv3d", "Conv"),
        ("custom", "FancyOp"),
        ("pad_wrap", "Pad"),
        ("dyn_reshape", "Reshape"),
    ] {
        assert!(got.contains(&want), "{want:?} missing from {got:?}");
    }
    assert_eq!(nodes.len(), 8, "{got:?}");
    let reason = |n: &str| nodes.iter().find(|u| u.node == n).unwrap().reason.clone();
    assert!(reason("ids").contains("INT64"), "{}", reason("ids"));
    assert!(reason("img").contains("dimension 2"), "{}", reason("img"));
    assert!(reason("leaky").contains("LeakyRelu is not supported"));
    assert!(reason("conv3d").contains("2-D"));
    assert!(reason("custom").contains("com.example"));
    assert!(reason("pad_wrap").contains("wrap"));
    assert!(reason("dyn_reshape").contains("run time"));
    // One line per node in the message.
    let text = err.to_string();
    assert_eq!(text.lines().count(), 9, "{text}");
    assert!(text.starts_with("the model has 8 unsupported nodes:"));
}

#[test]
fn used_extra_outputs_are_unsupported() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 1, 4, 4])
        .named(
            "mp",
            "MaxPool",
            &["x"],
            &["y", "idx"],
            vec![attr_ints("kernel_shape", &[2, 2])],
        )
        .output("y")
        .output("idx");
    match b.load().unwrap_err() {
        Error::UnsupportedModel { nodes } => {
            assert_eq!(nodes.len(), 1);
            assert_eq!(nodes[0].node, "mp");
            assert!(nodes[0].reason.contains("idx"));
        }
        e => panic!("{e}"),
    }
    // Unused, it is fine.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 1, 4, 4])
        .named(
            "mp",
            "MaxPool",
            &["x"],
            &["y", "idx"],
            vec![attr_ints("kernel_shape", &[2, 2])],
        )
        .output("y");
    b.load().unwrap();
}

#[test]
fn constant_nodes_and_identities() {
    // Paddle-style: weights in Constant nodes, Identity in between.
    let mut b = ModelBuilder::new(11);
    b.input("x", &[1, 4]);
    b.constant("k", tensor_f32("", &[4], &[1.0, 2.0, 3.0, 4.0]));
    b.node("Identity", &["k"], &["k2"], vec![]);
    b.node("Mul", &["x", "k2"], &["m"], vec![]);
    b.node("Identity", &["m"], &["y"], vec![]);
    b.node("Constant", &[], &["half"], vec![attr_f("value_float", 0.5)]);
    b.node("Add", &["y", "half"], &["z"], vec![]);
    b.output("z");
    let m = b.load().unwrap();
    let info = m.info();
    assert_eq!(
        info.fusions.identities_removed, 1,
        "the Identity on a constant folds away"
    );
    assert_eq!(info.parameters, 5);
    assert_eq!(
        info.layers
            .iter()
            .map(|l| l.op.as_str())
            .collect::<Vec<_>>(),
        ["Mul", "Add"]
    );
}

#[test]
fn metadata_props_are_exposed() {
    let mut b = relu_model();
    b.meta("input_size", "224")
        .meta("mean", "0.485,0.456,0.406")
        .meta("labels", "cat,dog");
    let m = b.load().unwrap();
    let md = &m.info().metadata;
    assert_eq!(md.len(), 3);
    assert_eq!(md["input_size"], "224");
    assert_eq!(md["labels"], "cat,dog");
}

#[test]
fn initializers_listed_as_inputs_stay_constant() {
    // IR < 4 convention: every initializer is also a graph input.
    let mut b = ModelBuilder::new(9);
    b.input("x", &[1, 4]).input("k", &[4]);
    b.init("k", &[4], vec![1.0; 4]);
    b.node("Add", &["x", "k"], &["y"], vec![]).output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().inputs.len(), 1);
}

#[test]
fn tensor_protos_decode_all_storage_forms() {
    use se_runtime::onnx::{read_named_tensor_proto, read_tensor_proto};
    let raw = tensor_f32("a", &[2, 2], &[1.0, -2.0, 3.5, 0.25]).encode_to_vec();
    let (name, t) = read_named_tensor_proto(&raw).unwrap();
    assert_eq!(name, "a");
    assert_eq!(t.shape, vec![2, 2]);
    assert_eq!(t.data, vec![1.0, -2.0, 3.5, 0.25]);

    let typed = TensorProto {
        dims: vec![3],
        data_type: Some(DataType::Float as i32),
        float_data: vec![1.0, 2.0, 3.0],
        ..Default::default()
    };
    assert_eq!(
        read_tensor_proto(&typed.encode_to_vec()).unwrap().data,
        vec![1.0, 2.0, 3.0]
    );

    let ints = tensor_i64("i", &[2], &[-5, 7]);
    assert_eq!(
        read_tensor_proto(&ints.encode_to_vec()).unwrap().data,
        vec![-5.0, 7.0]
    );

    // float16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, smallest subnormal 0x0001.
    let half = TensorProto {
        dims: vec![4],
        data_type: Some(DataType::Float16 as i32),
        raw_data: Some(
            [0x3c00u16, 0xc000, 0x7bff, 0x0001]
                .iter()
                .flat_map(|h| h.to_le_bytes())
                .collect(),
        ),
        ..Default::default()
    };
    let h = read_tensor_proto(&half.encode_to_vec()).unwrap();
    assert_eq!(h.data, vec![1.0, -2.0, 65504.0, 2f32.powi(-24)]);

    let doubles = TensorProto {
        dims: vec![2],
        data_type: Some(DataType::Double as i32),
        raw_data: Some(
            [0.5f64, -1.25]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        ..Default::default()
    };
    assert_eq!(
        read_tensor_proto(&doubles.encode_to_vec()).unwrap().data,
        vec![0.5, -1.25]
    );

    let int8 = TensorProto {
        dims: vec![3],
        data_type: Some(DataType::Int8 as i32),
        raw_data: Some(vec![0xff, 0x7f, 0x80]),
        ..Default::default()
    };
    assert_eq!(
        read_tensor_proto(&int8.encode_to_vec()).unwrap().data,
        vec![-1.0, 127.0, -128.0]
    );

    let scalar = tensor_f32("s", &[], &[4.5]);
    let s = read_tensor_proto(&scalar.encode_to_vec()).unwrap();
    assert!(s.shape.is_empty());
    assert_eq!(s.data, vec![4.5]);

    let strings = TensorProto {
        dims: vec![1],
        data_type: Some(DataType::String as i32),
        string_data: vec![b"x".to_vec()],
        ..Default::default()
    };
    assert!(read_tensor_proto(&strings.encode_to_vec()).is_err());
    assert!(read_tensor_proto(b"\xff\xff\xff").is_err());
}

#[test]
fn unnamed_nodes_are_named_after_their_output() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 4])
        .node("LeakyRelu", &["x"], &["leaky_out"], vec![])
        .output("leaky_out");
    b.graph.node[0].name = None;
    match b.load().unwrap_err() {
        Error::UnsupportedModel { nodes } => assert_eq!(nodes[0].node, "leaky_out"),
        e => panic!("{e}"),
    }
}

#[test]
fn sum_becomes_a_chain_of_adds() {
    let mut b = ModelBuilder::new(13);
    b.input("a", &[N, 4])
        .input("b", &[N, 4])
        .input("c", &[N, 1]);
    b.named("s3", "Sum", &["a", "b", "c"], &["y"], vec![])
        .named("s1", "Sum", &["y"], &["z"], vec![]);
    b.output("z");
    let m = b.load().unwrap();
    let layers: Vec<(&str, &str)> = m
        .info()
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.op.as_str()))
        .collect();
    assert_eq!(layers, [("s3/partial1", "Add"), ("s3", "Add")]);
    assert_eq!(m.info().fusions.identities_removed, 1);
}

/// Mutated and truncated models must fail with an error, never panic.
#[test]
fn corrupted_models_never_panic() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 8, 8]);
    conv_bn_relu(&mut b, "c", "x", "h", [3, 8, 3, 2], true, true);
    se_block(&mut b, "se", "h", "s", 8, 2, SeStyle::Gemm);
    b.node("GlobalAveragePool", &["s"], &["p"], vec![])
        .node("Flatten", &["p"], &["y"], vec![])
        .output("y");
    let bytes = b.bytes();
    Model::from_bytes(&bytes).unwrap();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut loaded = 0;
    for i in 0..3000 {
        let mut m = bytes.clone();
        match i % 3 {
            0 => {
                let at = next() as usize % m.len();
                m[at] ^= 1 << (next() % 8);
            }
            1 => {
                for _ in 0..4 {
                    let at = next() as usize % m.len();
                    m[at] = next() as u8;
                }
            }
            _ => m.truncate(next() as usize % m.len()),
        }
        let result = std::panic::catch_unwind(|| {
            Model::from_bytes(&m).map(|model| model.plan(2).map(|_| ()))
        });
        match result {
            Ok(Ok(Ok(()))) => loaded += 1,
            Ok(_) => {}
            Err(_) => panic!("mutation {i} panicked"),
        }
    }
    // Many mutations hit weight bytes and still load; the rest must be clean errors.
    assert!(loaded > 100, "{loaded}");
}
