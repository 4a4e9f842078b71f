//! Builds small ONNX models in tests with the prost types, so every test states its
//! graph in a few lines: `ModelBuilder::new(13).input("x", &[N, 3, 8, 8]) ...`.
#![allow(dead_code)]

pub mod errors;

use prost::Message;
use se_runtime::onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
    tensor_proto::DataType, tensor_shape_proto, type_proto,
};

/// A symbolic batch dimension in `input` shapes.
pub const N: i64 = -1;

pub struct ModelBuilder {
    pub graph: GraphProto,
    pub opset: i64,
    pub metadata: Vec<(String, String)>,
    next: usize,
}

impl ModelBuilder {
    pub fn new(opset: i64) -> Self {
        Self {
            graph: GraphProto {
                name: Some("test".into()),
                ..Default::default()
            },
            opset,
            metadata: Vec::new(),
            next: 0,
        }
    }

    /// A float input; `N` (-1) marks the symbolic batch dimension.
    pub fn input(&mut self, name: &str, dims: &[i64]) -> &mut Self {
        self.graph
            .input
            .push(value_info(name, DataType::Float, dims));
        self
    }

    pub fn input_typed(&mut self, name: &str, dtype: DataType, dims: &[i64]) -> &mut Self {
        self.graph.input.push(value_info(name, dtype, dims));
        self
    }

    pub fn output(&mut self, name: &str) -> &mut Self {
        self.graph.output.push(ValueInfoProto {
            name: Some(name.into()),
            r#type: Some(TypeProto {
                value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                    elem_type: Some(DataType::Float as i32),
                    shape: None,
                })),
                ..Default::default()
            }),
            ..Default::default()
        });
        self
    }

    /// An f32 initializer.
    pub fn init(&mut self, name: &str, shape: &[usize], data: Vec<f32>) -> String {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "initializer {name}"
        );
        self.graph.initializer.push(tensor_f32(name, shape, &data));
        name.to_string()
    }

    pub fn init_i64(&mut self, name: &str, shape: &[usize], data: Vec<i64>) -> String {
        self.graph.initializer.push(tensor_i64(name, shape, &data));
        name.to_string()
    }

    /// A deterministic random f32 initializer scaled by `scale`.
    pub fn weight(&mut self, name: &str, shape: &[usize], scale: f32) -> String {
        let n = shape.iter().product();
        self.next += 1;
        let data = random(0x5eed + self.next as u64 * 7919, n, scale);
        self.init(name, shape, data)
    }

    /// A Constant node holding `t` (the paddle2onnx way of storing weights).
    pub fn constant(&mut self, output: &str, t: TensorProto) -> &mut Self {
        self.node("Constant", &[], &[output], vec![attr_t("value", t)])
    }

    pub fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> &mut Self {
        self.next += 1;
        self.graph.node.push(NodeProto {
            name: Some(format!("{}_{}", op.to_lowercase(), self.next)),
            op_type: Some(op.into()),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute: attrs,
            ..Default::default()
        });
        self
    }

    /// Like `node`, with an explicit node name.
    pub fn named(
        &mut self,
        name: &str,
        op: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> &mut Self {
        self.node(op, inputs, outputs, attrs);
        self.graph.node.last_mut().unwrap().name = Some(name.into());
        self
    }

    /// Clip to [lo, hi]: attributes before opset 11, constant inputs from 11 on.
    pub fn clip(&mut self, name: &str, x: &str, y: &str, lo: f32, hi: f32) -> &mut Self {
        if self.opset < 11 {
            return self.named(
                name,
                "Clip",
                &[x],
                &[y],
                vec![attr_f("min", lo), attr_f("max", hi)],
            );
        }
        let lo = self.init(&format!("{name}.min"), &[], vec![lo]);
        let hi = self.init(&format!("{name}.max"), &[], vec![hi]);
        self.named(name, "Clip", &[x, &lo, &hi], &[y], vec![])
    }

    /// Squeeze / Unsqueeze / ReduceMean with `axes` as the attribute or the input the
    /// opset wants (input from opset 13 for (Un)Squeeze and ReduceSum, 18 for the
    /// other reductions).
    pub fn with_axes(
        &mut self,
        name: &str,
        op: &str,
        x: &str,
        y: &str,
        axes: &[i64],
        mut attrs: Vec<AttributeProto>,
    ) -> &mut Self {
        let as_input = match op.strip_prefix("Reduce") {
            Some(kind) if kind != "Sum" => self.opset >= 18,
            _ => self.opset >= 13,
        };
        if as_input {
            let a = self.init_i64(&format!("{name}.axes"), &[axes.len()], axes.to_vec());
            self.named(name, op, &[x, &a], &[y], attrs)
        } else {
            attrs.push(attr_ints("axes", axes));
            self.named(name, op, &[x], &[y], attrs)
        }
    }

    pub fn meta(&mut self, key: &str, value: &str) -> &mut Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    pub fn build(&self) -> ModelProto {
        ModelProto {
            ir_version: Some(8),
            producer_name: Some("se-runtime tests".into()),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(self.opset),
            }],
            graph: Some(self.graph.clone()),
            metadata_props: self
                .metadata
                .iter()
                .map(|(k, v)| StringStringEntryProto {
                    key: Some(k.clone()),
                    value: Some(v.clone()),
                })
                .collect(),
            ..Default::default()
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.build().encode_to_vec()
    }

    pub fn load(&self) -> se_runtime::Result<se_runtime::Model> {
        se_runtime::Model::from_bytes(&self.bytes())
    }
}

pub fn value_info(name: &str, dtype: DataType, dims: &[i64]) -> ValueInfoProto {
    use tensor_shape_proto::{Dimension, dimension::Value};
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(dtype as i32),
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| Dimension {
                            value: Some(if d < 0 {
                                Value::DimParam("N".into())
                            } else {
                                Value::DimValue(d)
                            }),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An f32 tensor stored as raw little-endian bytes (what exporters write).
pub fn tensor_f32(name: &str, shape: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(DataType::Float as i32),
        raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

/// An int64 tensor stored in `int64_data`.
pub fn tensor_i64(name: &str, shape: &[usize], data: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(DataType::Int64 as i32),
        int64_data: data.to_vec(),
        ..Default::default()
    }
}

pub fn attr_i(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(v),
        ..Default::default()
    }
}

pub fn attr_f(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(v),
        ..Default::default()
    }
}

pub fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: v.to_vec(),
        ..Default::default()
    }
}

pub fn attr_s(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::String as i32),
        s: Some(v.as_bytes().to_vec()),
        ..Default::default()
    }
}

pub fn attr_t(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Tensor as i32),
        t: Some(t),
        ..Default::default()
    }
}

/// Deterministic uniform values in [-scale, scale) (SplitMix64), as `common::random`.
pub fn random(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// How an SE block's pieces are written, to cover the exporters' variants.
#[derive(Clone, Copy, Debug)]
pub enum SeStyle {
    /// GlobalAveragePool -> Conv 1x1 -> Relu -> Conv 1x1 -> Sigmoid -> Mul (torchvision, timm).
    Conv,
    /// GlobalAveragePool -> Flatten -> Gemm -> Relu -> Gemm -> Sigmoid -> Reshape -> Mul
    /// (the original SENet `x.view(b, c)` + Linear).
    Gemm,
    /// ReduceMean(axes 2,3) -> Conv -> Relu -> Conv -> `Clip(x + 3, 0, 6) / 6` -> Mul
    /// (MobileNetV3 spelled out).
    HardSigmoidSpelled,
    /// GlobalMaxPool -> Squeeze -> MatMul + Add -> Relu -> MatMul + Add -> Sigmoid ->
    /// Unsqueeze -> Mul with the gate on the left.
    MaxMatMul,
    /// The original SENet code as torch.onnx exports it: `y = pool(x).view(b, c)`
    /// (Shape/Gather/Unsqueeze/Concat/Reshape), `fc(y).view(b, c, 1, 1)` with the
    /// sigmoid after the view, `x * y.expand_as(x)` (Shape + Expand).
    ExpandAs,
}

/// Appends an SE block reading `x` ([N, c, H, W]) and writing `y`; returns its name
/// prefix. Node names share the prefix `prefix/` as exporters write them.
pub fn se_block(
    b: &mut ModelBuilder,
    prefix: &str,
    x: &str,
    y: &str,
    c: usize,
    r: usize,
    style: SeStyle,
) {
    let p = |s: &str| format!("{prefix}/{s}");
    let s1 = 1.0 / (c as f32).sqrt();
    let s2 = 1.0 / (r as f32).sqrt();
    match style {
        SeStyle::Conv | SeStyle::HardSigmoidSpelled => {
            let w1 = b.weight(&p("fc1.weight"), &[r, c, 1, 1], s1);
            let b1 = b.weight(&p("fc1.bias"), &[r], 0.1);
            let w2 = b.weight(&p("fc2.weight"), &[c, r, 1, 1], s2);
            let b2 = b.weight(&p("fc2.bias"), &[c], 0.1);
            if let SeStyle::Conv = style {
                b.named(
                    &p("pool"),
                    "GlobalAveragePool",
                    &[x],
                    &[&p("pooled")],
                    vec![],
                );
            } else {
                b.with_axes(
                    &p("pool"),
                    "ReduceMean",
                    x,
                    &p("pooled"),
                    &[2, 3],
                    vec![attr_i("keepdims", 1)],
                );
            }
            b.named(
                &p("fc1"),
                "Conv",
                &[&p("pooled"), &w1, &b1],
                &[&p("h")],
                vec![],
            );
            b.named(&p("relu"), "Relu", &[&p("h")], &[&p("hr")], vec![]);
            b.named(&p("fc2"), "Conv", &[&p("hr"), &w2, &b2], &[&p("e")], vec![]);
            if let SeStyle::Conv = style {
                b.named(&p("gate"), "Sigmoid", &[&p("e")], &[&p("g")], vec![]);
            } else {
                let three = b.init(&p("three"), &[], vec![3.0]);
                let six = b.init(&p("six"), &[], vec![6.0]);
                b.named(&p("add3"), "Add", &[&p("e"), &three], &[&p("e3")], vec![]);
                b.clip(&p("relu6"), &p("e3"), &p("ec"), 0.0, 6.0);
                b.named(&p("div6"), "Div", &[&p("ec"), &six], &[&p("g")], vec![]);
            }
            b.named(&p("mul"), "Mul", &[x, &p("g")], &[y], vec![]);
        }
        SeStyle::Gemm => {
            let w1 = b.weight(&p("fc1.weight"), &[r, c], s1);
            let b1 = b.weight(&p("fc1.bias"), &[r], 0.1);
            let w2 = b.weight(&p("fc2.weight"), &[c, r], s2);
            let b2 = b.weight(&p("fc2.bias"), &[c], 0.1);
            let shape = b.init_i64(&p("shape"), &[4], vec![0, c as i64, 1, 1]);
            b.named(
                &p("pool"),
                "GlobalAveragePool",
                &[x],
                &[&p("pooled")],
                vec![],
            );
            b.named(
                &p("flatten"),
                "Flatten",
                &[&p("pooled")],
                &[&p("s")],
                vec![attr_i("axis", 1)],
            );
            b.named(
                &p("fc1"),
                "Gemm",
                &[&p("s"), &w1, &b1],
                &[&p("h")],
                vec![attr_i("transB", 1)],
            );
            b.named(&p("relu"), "Relu", &[&p("h")], &[&p("hr")], vec![]);
            b.named(
                &p("fc2"),
                "Gemm",
                &[&p("hr"), &w2, &b2],
                &[&p("e")],
                vec![attr_i("transB", 1)],
            );
            b.named(&p("gate"), "Sigmoid", &[&p("e")], &[&p("g")], vec![]);
            b.named(
                &p("reshape"),
                "Reshape",
                &[&p("g"), &shape],
                &[&p("g4")],
                vec![],
            );
            b.named(&p("mul"), "Mul", &[x, &p("g4")], &[y], vec![]);
        }
        SeStyle::ExpandAs => {
            let w1 = b.weight(&p("fc1.weight"), &[r, c], s1);
            let b1 = b.weight(&p("fc1.bias"), &[r], 0.1);
            let w2 = b.weight(&p("fc2.weight"), &[c, r], s2);
            let b2 = b.weight(&p("fc2.bias"), &[c], 0.1);
            let zero = b.init_i64(&p("zero"), &[], vec![0]);
            let cdim = b.init_i64(&p("c"), &[1], vec![c as i64]);
            let ones = b.init_i64(&p("ones"), &[2], vec![1, 1]);
            b.named(&p("shape"), "Shape", &[x], &[&p("xs")], vec![]);
            b.named(
                &p("gather"),
                "Gather",
                &[&p("xs"), &zero],
                &[&p("n")],
                vec![],
            );
            b.with_axes(&p("unsq"), "Unsqueeze", &p("n"), &p("n1"), &[0], vec![]);
            b.named(
                &p("cat2"),
                "Concat",
                &[&p("n1"), &cdim],
                &[&p("t2")],
                vec![attr_i("axis", 0)],
            );
            b.named(
                &p("cat4"),
                "Concat",
                &[&p("n1"), &cdim, &ones],
                &[&p("t4")],
                vec![attr_i("axis", 0)],
            );
            b.named(
                &p("pool"),
                "GlobalAveragePool",
                &[x],
                &[&p("pooled")],
                vec![],
            );
            b.named(
                &p("view"),
                "Reshape",
                &[&p("pooled"), &p("t2")],
                &[&p("s")],
                vec![],
            );
            b.named(
                &p("fc1"),
                "Gemm",
                &[&p("s"), &w1, &b1],
                &[&p("h")],
                vec![attr_i("transB", 1)],
            );
            b.named(&p("relu"), "Relu", &[&p("h")], &[&p("hr")], vec![]);
            b.named(
                &p("fc2"),
                "Gemm",
                &[&p("hr"), &w2, &b2],
                &[&p("e")],
                vec![attr_i("transB", 1)],
            );
            b.named(
                &p("view4"),
                "Reshape",
                &[&p("e"), &p("t4")],
                &[&p("e4")],
                vec![],
            );
            b.named(&p("gate"), "Sigmoid", &[&p("e4")], &[&p("g")], vec![]);
            b.named(
                &p("expand"),
                "Expand",
                &[&p("g"), &p("xs")],
                &[&p("gx")],
                vec![],
            );
            b.named(&p("mul"), "Mul", &[x, &p("gx")], &[y], vec![]);
        }
        SeStyle::MaxMatMul => {
            let w1 = b.weight(&p("fc1.weight"), &[c, r], s1);
            let b1 = b.weight(&p("fc1.bias"), &[r], 0.1);
            let w2 = b.weight(&p("fc2.weight"), &[r, c], s2);
            let b2 = b.weight(&p("fc2.bias"), &[c], 0.1);
            b.named(&p("pool"), "GlobalMaxPool", &[x], &[&p("pooled")], vec![]);
            b.with_axes(
                &p("squeeze"),
                "Squeeze",
                &p("pooled"),
                &p("s"),
                &[2, 3],
                vec![],
            );
            b.named(&p("fc1"), "MatMul", &[&p("s"), &w1], &[&p("h0")], vec![]);
            b.named(&p("fc1_bias"), "Add", &[&p("h0"), &b1], &[&p("h")], vec![]);
            b.named(&p("relu"), "Relu", &[&p("h")], &[&p("hr")], vec![]);
            b.named(&p("fc2"), "MatMul", &[&p("hr"), &w2], &[&p("e0")], vec![]);
            b.named(&p("fc2_bias"), "Add", &[&b2, &p("e0")], &[&p("e")], vec![]);
            b.named(&p("gate"), "Sigmoid", &[&p("e")], &[&p("g")], vec![]);
            b.with_axes(
                &p("unsqueeze"),
                "Unsqueeze",
                &p("g"),
                &p("g4"),
                &[2, 3],
                vec![],
            );
            b.named(&p("mul"), "Mul", &[&p("g4"), x], &[y], vec![]);
        }
    }
}

/// Appends Conv (+ BatchNorm) (+ Relu): `x` [N, ci, H, W] -> `y` [N, co, H', W'].
pub fn conv_bn_relu(
    b: &mut ModelBuilder,
    prefix: &str,
    x: &str,
    y: &str,
    [ci, co, k, stride]: [usize; 4],
    bn: bool,
    relu: bool,
) {
    let p = |s: &str| format!("{prefix}/{s}");
    let w = b.weight(
        &p("weight"),
        &[co, ci, k, k],
        1.0 / ((ci * k * k) as f32).sqrt(),
    );
    let pad = (k / 2) as i64;
    let attrs = vec![
        attr_ints("kernel_shape", &[k as i64, k as i64]),
        attr_ints("strides", &[stride as i64, stride as i64]),
        attr_ints("pads", &[pad, pad, pad, pad]),
    ];
    let conv_out = if bn || relu {
        p("conv_out")
    } else {
        y.to_string()
    };
    b.named(&p("conv"), "Conv", &[x, &w], &[&conv_out], attrs);
    let mut last = conv_out;
    if bn {
        let gamma: Vec<f32> = random(11 + co as u64, co, 0.5)
            .iter()
            .map(|v| 1.0 + v)
            .collect();
        let var: Vec<f32> = random(13 + co as u64, co, 0.5)
            .iter()
            .map(|v| 1.0 + v)
            .collect();
        let gamma = b.init(&p("bn.weight"), &[co], gamma);
        let beta = b.weight(&p("bn.bias"), &[co], 0.2);
        let mean = b.weight(&p("bn.mean"), &[co], 0.2);
        let var = b.init(&p("bn.var"), &[co], var);
        let out = if relu { p("bn_out") } else { y.to_string() };
        b.named(
            &p("bn"),
            "BatchNormalization",
            &[&last, &gamma, &beta, &mean, &var],
            &[&out],
            vec![attr_f("epsilon", 1e-5)],
        );
        last = out;
    }
    if relu {
        b.named(&p("relu"), "Relu", &[&last], &[y], vec![]);
    }
}
