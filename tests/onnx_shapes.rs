//! Shape inference for every supported op, across the opset-dependent attribute
//! forms, plus constant folding of exported shape arithmetic.

mod onnx_builder;

use onnx_builder::*;
use se_runtime::{Error, ModelError};

/// The output shape of a one-op model on input `x` of shape `dims`.
fn out_shape(opset: i64, dims: &[i64], build: impl FnOnce(&mut ModelBuilder)) -> Vec<usize> {
    let mut b = ModelBuilder::new(opset);
    b.input("x", dims);
    build(&mut b);
    b.output("y");
    let m = b.load().unwrap_or_else(|e| panic!("{e}"));
    m.info().outputs[0].shape.clone()
}

fn conv(b: &mut ModelBuilder, w: [usize; 4], attrs: Vec<se_runtime::onnx::proto::AttributeProto>) {
    let wt = b.weight("w", &w, 0.1);
    b.node("Conv", &["x", &wt], &["y"], attrs);
}

#[test]
fn conv_shapes() {
    let s = |attrs, w| out_shape(13, &[2, 4, 9, 7], |b| conv(b, w, attrs));
    assert_eq!(s(vec![], [8, 4, 3, 3]), [2, 8, 7, 5]);
    assert_eq!(
        s(vec![attr_ints("pads", &[1, 1, 1, 1])], [8, 4, 3, 3]),
        [2, 8, 9, 7]
    );
    assert_eq!(
        s(
            vec![
                attr_ints("pads", &[1, 1, 1, 1]),
                attr_ints("strides", &[2, 2])
            ],
            [8, 4, 3, 3]
        ),
        [2, 8, 5, 4]
    );
    assert_eq!(
        s(vec![attr_ints("pads", &[0, 2, 1, 0])], [8, 4, 3, 3]),
        [2, 8, 8, 7]
    );
    assert_eq!(
        s(vec![attr_ints("dilations", &[2, 3])], [8, 4, 3, 3]),
        [2, 8, 5, 1]
    );
    assert_eq!(s(vec![attr_i("group", 4)], [4, 1, 3, 3]), [2, 4, 7, 5]);
    assert_eq!(s(vec![attr_i("group", 2)], [6, 2, 1, 1]), [2, 6, 9, 7]);
    assert_eq!(
        s(
            vec![
                attr_s("auto_pad", "SAME_UPPER"),
                attr_ints("strides", &[2, 2])
            ],
            [8, 4, 3, 3]
        ),
        [2, 8, 5, 4]
    );
    assert_eq!(
        s(vec![attr_s("auto_pad", "SAME_LOWER")], [8, 4, 4, 4]),
        [2, 8, 9, 7]
    );
    assert_eq!(
        s(
            vec![
                attr_s("auto_pad", "VALID"),
                attr_ints("pads", &[5, 5, 5, 5])
            ],
            [8, 4, 3, 3]
        ),
        [2, 8, 7, 5]
    );
    assert_eq!(
        s(vec![attr_ints("kernel_shape", &[3, 3])], [8, 4, 3, 3]),
        [2, 8, 7, 5]
    );
}

#[test]
fn conv_with_kernel_larger_than_input_is_invalid() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[1, 1, 2, 2]);
    conv(&mut b, [1, 1, 3, 3], vec![]);
    b.output("y");
    assert!(matches!(
        b.load(),
        Err(Error::InvalidModel(ModelError::BadNode { .. }))
    ));
}

#[test]
fn pool_shapes() {
    let s = |op: &str, attrs: Vec<_>| {
        out_shape(13, &[1, 3, 7, 6], |b| {
            b.node(op, &["x"], &["y"], attrs);
        })
    };
    let k = |a: i64| attr_ints("kernel_shape", &[a, a]);
    assert_eq!(s("MaxPool", vec![k(2)]), [1, 3, 6, 5]);
    assert_eq!(
        s("MaxPool", vec![k(2), attr_ints("strides", &[2, 2])]),
        [1, 3, 3, 3]
    );
    assert_eq!(
        s(
            "MaxPool",
            vec![k(2), attr_ints("strides", &[2, 2]), attr_i("ceil_mode", 1)]
        ),
        [1, 3, 4, 3]
    );
    assert_eq!(
        s(
            "MaxPool",
            vec![
                k(3),
                attr_ints("strides", &[2, 2]),
                attr_ints("pads", &[1, 1, 1, 1])
            ]
        ),
        [1, 3, 4, 3]
    );
    assert_eq!(
        s(
            "MaxPool",
            vec![
                k(3),
                attr_ints("strides", &[2, 2]),
                attr_s("auto_pad", "SAME_UPPER")
            ]
        ),
        [1, 3, 4, 3]
    );
    assert_eq!(
        s("MaxPool", vec![k(2), attr_ints("dilations", &[2, 2])]),
        [1, 3, 5, 4]
    );
    assert_eq!(
        s(
            "AveragePool",
            vec![
                k(3),
                attr_ints("pads", &[1, 1, 1, 1]),
                attr_i("count_include_pad", 1)
            ]
        ),
        [1, 3, 7, 6]
    );
    assert_eq!(s("GlobalAveragePool", vec![]), [1, 3, 1, 1]);
    assert_eq!(s("GlobalMaxPool", vec![]), [1, 3, 1, 1]);
    // ceil_mode where the last window would start in the padding: dropped.
    let t = out_shape(13, &[1, 1, 5, 5], |b| {
        b.node(
            "MaxPool",
            &["x"],
            &["y"],
            vec![
                k(2),
                attr_ints("strides", &[2, 2]),
                attr_ints("pads", &[1, 1, 1, 1]),
                attr_i("ceil_mode", 1),
            ],
        );
    });
    assert_eq!(t, [1, 1, 3, 3]);
}

#[test]
fn elementwise_and_activation_shapes() {
    for op in [
        "Relu",
        "Sigmoid",
        "Tanh",
        "HardSigmoid",
        "HardSwish",
        "Dropout",
        "Identity",
    ] {
        let s = out_shape(14, &[2, 3, 4, 5], |b| {
            b.node(op, &["x"], &["y"], vec![]);
        });
        assert_eq!(s, [2, 3, 4, 5], "{op}");
    }
    for opset in [9, 11, 13] {
        let s = out_shape(opset, &[2, 3], |b| {
            b.clip("clip", "x", "y", 0.0, 6.0);
        });
        assert_eq!(s, [2, 3]);
    }
    // Clip from opset 11 with only a min (Relu) and with no bounds at all.
    let s = out_shape(13, &[2, 3], |b| {
        let lo = b.init("lo", &[], vec![0.0]);
        b.node("Clip", &["x", &lo], &["y"], vec![]);
    });
    assert_eq!(s, [2, 3]);
    for (op, other, want) in [
        ("Add", vec![3usize, 1, 1], vec![2usize, 3, 4, 5]),
        ("Sub", vec![5], vec![2, 3, 4, 5]),
        ("Mul", vec![1, 3, 1, 5], vec![2, 3, 4, 5]),
        ("Div", vec![], vec![2, 3, 4, 5]),
    ] {
        let s = out_shape(13, &[2, 3, 4, 5], |b| {
            let n = other.iter().product();
            let k = b.init("k", &other, vec![2.0; n]);
            b.node(op, &["x", &k], &["y"], vec![]);
        });
        assert_eq!(s, want, "{op}");
    }
    // Broadcasting both ways: [2, 1, 4] + [3, 1] -> [2, 3, 4].
    let mut b = ModelBuilder::new(13);
    b.input("a", &[2, 1, 4])
        .input("c", &[3, 1])
        .node("Add", &["a", "c"], &["y"], vec![])
        .output("y");
    assert_eq!(b.load().unwrap().info().outputs[0].shape, [2, 3, 4]);
    // Shapes that do not broadcast.
    let mut b = ModelBuilder::new(13);
    b.input("a", &[2, 3])
        .input("c", &[4])
        .node("Add", &["a", "c"], &["y"], vec![])
        .output("y");
    assert!(matches!(b.load(), Err(Error::InvalidModel(_))));
}

#[test]
fn reduce_mean_shapes() {
    for opset in [13, 18] {
        let s = |axes: &[i64], keep: i64| {
            out_shape(opset, &[2, 3, 4, 5], |b| {
                b.with_axes(
                    "rm",
                    "ReduceMean",
                    "x",
                    "y",
                    axes,
                    vec![attr_i("keepdims", keep)],
                );
            })
        };
        assert_eq!(s(&[2, 3], 1), [2, 3, 1, 1]);
        assert_eq!(s(&[-1, -2], 1), [2, 3, 1, 1]);
        assert_eq!(s(&[2, 3], 0), [2, 3]);
        assert_eq!(s(&[3], 1), [2, 3, 4, 1]);
        assert_eq!(s(&[1, 2, 3], 0), [2]);
        // Any axes, the channel axis too.
        assert_eq!(s(&[1], 1), [2, 1, 4, 5]);
        assert_eq!(s(&[0, 2], 0), [3, 5]);
    }
}

#[test]
fn matmul_and_gemm_shapes() {
    let mm = |a: &[i64], w: &[usize]| {
        out_shape(13, a, |b| {
            let k = b.weight("w", w, 0.1);
            b.node("MatMul", &["x", &k], &["y"], vec![]);
        })
    };
    assert_eq!(mm(&[2, 5], &[5, 3]), [2, 3]);
    assert_eq!(mm(&[4, 2, 5], &[5, 3]), [4, 2, 3]);
    assert_eq!(mm(&[4, 2, 5], &[4, 5, 3]), [4, 2, 3]);
    assert_eq!(mm(&[5], &[5, 3]), [3]);
    assert_eq!(mm(&[2, 5], &[5]), [2]);
    let gemm = |a: &[i64], w: &[usize], attrs: Vec<_>| {
        out_shape(13, a, |b| {
            let k = b.weight("w", w, 0.1);
            b.node("Gemm", &["x", &k], &["y"], attrs);
        })
    };
    assert_eq!(gemm(&[2, 5], &[5, 3], vec![]), [2, 3]);
    assert_eq!(gemm(&[2, 5], &[3, 5], vec![attr_i("transB", 1)]), [2, 3]);
    assert_eq!(gemm(&[5, 2], &[5, 3], vec![attr_i("transA", 1)]), [2, 3]);
    assert_eq!(
        gemm(
            &[5, 2],
            &[3, 5],
            vec![attr_i("transA", 1), attr_i("transB", 1)]
        ),
        [2, 3]
    );
}

#[test]
fn layout_op_shapes() {
    let flat = |axis| {
        out_shape(13, &[2, 3, 4, 5], |b| {
            b.node("Flatten", &["x"], &["y"], vec![attr_i("axis", axis)]);
        })
    };
    assert_eq!(flat(1), [2, 60]);
    assert_eq!(flat(0), [1, 120]);
    assert_eq!(flat(-1), [24, 5]);
    assert_eq!(flat(4), [120, 1]);

    let reshape = |target: &[i64], allowzero: i64, opset: i64| {
        out_shape(opset, &[2, 3, 4], |b| {
            let t = b.init_i64("t", &[target.len()], target.to_vec());
            let attrs = if opset >= 14 {
                vec![attr_i("allowzero", allowzero)]
            } else {
                vec![]
            };
            b.node("Reshape", &["x", &t], &["y"], attrs);
        })
    };
    assert_eq!(reshape(&[0, -1], 0, 13), [2, 12]);
    assert_eq!(reshape(&[-1, 4], 0, 13), [6, 4]);
    assert_eq!(reshape(&[4, 0, 2], 0, 14), [4, 3, 2]);
    assert_eq!(reshape(&[24], 0, 14), [24]);

    for opset in [11, 13] {
        let sq = out_shape(opset, &[2, 1, 3, 1], |b| {
            b.with_axes("s", "Squeeze", "x", "y", &[1, -1], vec![]);
        });
        assert_eq!(sq, [2, 3]);
        let un = out_shape(opset, &[2, 3], |b| {
            b.with_axes("u", "Unsqueeze", "x", "y", &[0, -1], vec![]);
        });
        assert_eq!(un, [1, 2, 3, 1]);
    }
    let all = out_shape(13, &[1, 3, 1, 1], |b| {
        b.node("Squeeze", &["x"], &["y"], vec![]);
    });
    assert_eq!(all, [3]);

    let concat = out_shape(13, &[2, 3, 4], |b| {
        let k = b.weight("k", &[2, 5, 4], 0.1);
        b.node("Concat", &["x", &k, "x"], &["y"], vec![attr_i("axis", -2)]);
    });
    assert_eq!(concat, [2, 11, 4]);

    let t = out_shape(13, &[2, 3, 4], |b| {
        b.node(
            "Transpose",
            &["x"],
            &["y"],
            vec![attr_ints("perm", &[1, 2, 0])],
        );
    });
    assert_eq!(t, [3, 4, 2]);
    let t = out_shape(13, &[2, 3, 4], |b| {
        b.node("Transpose", &["x"], &["y"], vec![]);
    });
    assert_eq!(t, [4, 3, 2]);

    for opset in [11, 13] {
        let s = out_shape(opset, &[2, 7], |b| {
            b.node("Softmax", &["x"], &["y"], vec![]);
        });
        assert_eq!(s, [2, 7]);
    }
}

#[test]
fn pad_shapes_across_opsets() {
    let pads = [0i64, 0, 1, 2, 0, 0, 3, 4];
    let s10 = out_shape(10, &[1, 2, 5, 5], |b| {
        b.node(
            "Pad",
            &["x"],
            &["y"],
            vec![attr_ints("pads", &pads), attr_f("value", 1.5)],
        );
    });
    assert_eq!(s10, [1, 2, 9, 11]);
    for opset in [11, 13, 18] {
        let s = out_shape(opset, &[1, 2, 5, 5], |b| {
            let p = b.init_i64("p", &[8], pads.to_vec());
            let v = b.init("v", &[], vec![0.5]);
            b.node(
                "Pad",
                &["x", &p, &v],
                &["y"],
                vec![attr_s("mode", "reflect")],
            );
        });
        assert_eq!(s, [1, 2, 9, 11]);
    }
    // Opset 18 `axes` input: pads for H and W only.
    let s = out_shape(18, &[1, 2, 5, 5], |b| {
        let p = b.init_i64("p", &[4], vec![1, 2, 3, 4]);
        let axes = b.init_i64("axes", &[2], vec![2, 3]);
        b.node(
            "Pad",
            &["x", &p, "", &axes],
            &["y"],
            vec![attr_s("mode", "edge")],
        );
    });
    assert_eq!(s, [1, 2, 9, 11]);
    // Negative pads (cropping) are unsupported.
    let mut b = ModelBuilder::new(13);
    let p = b.init_i64("p", &[4], vec![0, -1, 0, 0]);
    b.input("x", &[2, 5])
        .named("crop", "Pad", &["x", &p], &["y"], vec![])
        .output("y");
    assert!(matches!(b.load(), Err(Error::UnsupportedModel { .. })));
}

#[test]
fn batch_norm_shape() {
    let s = out_shape(13, &[2, 3, 4, 4], |b| {
        let p: Vec<String> = ["g", "b", "m", "v"]
            .iter()
            .map(|n| b.init(n, &[3], vec![1.0; 3]))
            .collect();
        b.node(
            "BatchNormalization",
            &["x", &p[0], &p[1], &p[2], &p[3]],
            &["y"],
            vec![],
        );
    });
    assert_eq!(s, [2, 3, 4, 4]);
}

#[test]
fn pytorch_view_shape_arithmetic_folds_away() {
    // y = x.view(x.size(0), -1) as torch.onnx exports it.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4, 2, 3]);
    let zero = b.init_i64("zero", &[], vec![0]);
    let axes = b.init_i64("axes0", &[1], vec![0]);
    let minus1 = b.init_i64("minus1", &[1], vec![-1]);
    b.node("Shape", &["x"], &["shape"], vec![])
        .node("Gather", &["shape", &zero], &["n"], vec![attr_i("axis", 0)])
        .node("Unsqueeze", &["n", &axes], &["n1"], vec![])
        .node(
            "Concat",
            &["n1", &minus1],
            &["target"],
            vec![attr_i("axis", 0)],
        )
        .node("Reshape", &["x", "target"], &["flat"], vec![])
        .node("Cast", &["flat"], &["y"], vec![attr_i("to", 1)])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().outputs[0].shape, [1, 24]);
    assert_eq!(m.info().fusions.constants_folded, 4);
    // The folded target is re-derived for another batch size.
    let plan = m.plan(5).unwrap();
    assert_eq!(plan.outputs[0].operand.shape, [5, 24]);
    assert!(
        plan.steps.is_empty(),
        "a reshape of the input costs nothing"
    );
}

#[test]
fn constant_subgraphs_fold() {
    // Slice, Gather on floats, ConstantOfShape, integer and float arithmetic, Cast.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[2, 3]);
    let k = b.init("k", &[2, 4], vec![1., 2., 3., 4., 5., 6., 7., 8.]);
    let starts = b.init_i64("starts", &[1], vec![1]);
    let ends = b.init_i64("ends", &[1], vec![4]);
    let axes = b.init_i64("axes", &[1], vec![1]);
    let idx = b.init_i64("idx", &[], vec![1]);
    let shape = b.init_i64("shape", &[1], vec![3]);
    b.node("Slice", &[&k, &starts, &ends, &axes], &["ks"], vec![]) // [[2,3,4],[6,7,8]]
        .node("Gather", &["ks", &idx], &["row"], vec![]) // [6,7,8]
        .node(
            "ConstantOfShape",
            &[&shape],
            &["ones"],
            vec![attr_t("value", tensor_f32("", &[1], &[1.0]))],
        )
        .node("Sub", &["row", "ones"], &["d"], vec![]) // [5,6,7]
        .node("Mul", &["x", "d"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.constants_folded, 4);
    let plan = m.plan(2).unwrap();
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.constants.len(), 1);
    assert_eq!(plan.constants[0].data, vec![5.0, 6.0, 7.0]);
}

#[test]
fn symbolic_batch_binds_per_session() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 8, 8]);
    conv_bn_relu(&mut b, "c1", "x", "h", [3, 4, 3, 2], true, true);
    b.node("GlobalAveragePool", &["h"], &["p"], vec![])
        .node("Flatten", &["p"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().batch, None);
    assert_eq!(m.info().outputs[0].shape, [1, 4]);
    for n in [1, 2, 7] {
        let p = m.plan(n).unwrap();
        assert_eq!(p.inputs[0].operand.shape, [n, 3, 8, 8]);
        assert_eq!(p.outputs[0].operand.shape, [n, 4]);
    }
    assert!(m.plan(0).is_err());
}

#[test]
fn fixed_batch_is_enforced() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[2, 4])
        .node("Relu", &["x"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().batch, Some(2));
    assert_eq!(m.info().outputs[0].shape, [2, 4]);
    assert!(m.plan(2).is_ok());
    assert!(matches!(m.plan(3), Err(Error::InvalidArgument { .. })));
}

#[test]
fn reshape_hardcoding_the_batch_fails_for_other_batches() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 6]);
    let t = b.init_i64("t", &[2], vec![1, 6]);
    b.node("Reshape", &["x", &t], &["y"], vec![]).output("y");
    let m = b.load().unwrap();
    assert!(m.plan(1).is_ok());
    assert!(matches!(
        m.plan(2),
        Err(Error::InvalidModel(ModelError::BadNode { .. }))
    ));
}

#[test]
fn expand_shapes() {
    let e = |x: &[i64], target: &[i64]| {
        out_shape(13, x, |b| {
            let t = b.init_i64("t", &[target.len()], target.to_vec());
            b.node("Expand", &["x", &t], &["y"], vec![]);
        })
    };
    assert_eq!(e(&[2, 3, 1, 1], &[2, 3, 4, 5]), [2, 3, 4, 5]);
    // Target dims of 1 keep the input's; the target may have a higher rank.
    assert_eq!(e(&[3, 1], &[2, 1, 6]), [2, 3, 6]);
    assert_eq!(e(&[3, 4], &[1]), [3, 4]);
    let mut b = ModelBuilder::new(13);
    let t = b.init_i64("t", &[2], vec![2, 5]);
    b.input("x", &[3, 4])
        .node("Expand", &["x", &t], &["y"], vec![])
        .output("y");
    assert!(matches!(b.load(), Err(Error::InvalidModel(_))));
}
