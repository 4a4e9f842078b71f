//! The layout kernels (pooling, softmax, concat, transpose, pad) and their CPU twins
//! against ONNX Runtime outputs stored in tests/data/layout_onnx.txt, written by
//! tools/layout_onnx_golden.py: an independent check of the ONNX semantics.

mod common;

use std::collections::HashMap;

use se_runtime::ops::Pool2dParams;
use se_runtime::ops::concat::concat_shape;
use se_runtime::ops::pad::{PadMode, pad_shape};
use se_runtime::ops::transpose::transpose_shape;
use se_runtime::tensor::HostTensor;
use se_runtime::{Runtime, Tensor, cpu, kernels};

const DATA: &str = include_str!("data/layout_onnx.txt");

struct Case {
    op: String,
    attrs: HashMap<String, String>,
    inputs: Vec<HostTensor>,
    output: HostTensor,
}

fn list(s: &str) -> Vec<usize> {
    if s == "-" {
        return vec![];
    }
    s.split(',').map(|v| v.parse().unwrap()).collect()
}

fn tensor(line: &str) -> HostTensor {
    let (shape, data) = line
        .split_once(" : ")
        .unwrap_or((line.trim_end_matches(" :"), ""));
    let data = data
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    HostTensor::new(&list(shape), data).unwrap()
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in DATA.lines().filter(|l| !l.starts_with('#')) {
        let (tag, rest) = line.split_once(' ').unwrap();
        match tag {
            "case" => {
                let mut words = rest.split(' ');
                let op = words.next().unwrap().to_string();
                let attrs = words
                    .map(|w| {
                        let (k, v) = w.split_once('=').unwrap();
                        (k.to_string(), v.to_string())
                    })
                    .collect();
                cases.push(Case {
                    op,
                    attrs,
                    inputs: vec![],
                    output: HostTensor::zeros(&[0]).unwrap(),
                });
            }
            "in" => cases.last_mut().unwrap().inputs.push(tensor(rest)),
            "out" => cases.last_mut().unwrap().output = tensor(rest),
            _ => panic!("unknown line {line}"),
        }
    }
    cases
}

fn pair(v: &[usize]) -> [usize; 2] {
    [v[0], v[1]]
}

fn pool_params(a: &HashMap<String, String>) -> Pool2dParams {
    let p = list(&a["padding"]);
    Pool2dParams {
        kernel: pair(&list(&a["kernel"])),
        stride: pair(&list(&a["stride"])),
        // ONNX order (begins, ends) is already [top, left, bottom, right].
        padding: [p[0], p[1], p[2], p[3]],
        dilation: pair(&list(&a["dilation"])),
        ceil_mode: a["ceil"] == "1",
        count_include_pad: a["cip"] == "1",
    }
}

fn pad_mode(a: &HashMap<String, String>) -> PadMode {
    match a["mode"].as_str() {
        "constant" => PadMode::Constant(a["value"].parse().unwrap()),
        "reflect" => PadMode::Reflect,
        "edge" => PadMode::Edge,
        m => panic!("unknown pad mode {m}"),
    }
}

fn cpu_run(case: &Case) -> HostTensor {
    let (a, x) = (&case.attrs, &case.inputs[0]);
    let axis = || a["axis"].parse::<usize>().unwrap();
    match case.op.as_str() {
        "max_pool2d" => cpu::pool::max_pool2d(x, &pool_params(a)),
        "avg_pool2d" => cpu::pool::avg_pool2d(x, &pool_params(a)),
        "softmax" => cpu::softmax::softmax(x, axis()),
        "concat" => cpu::concat::concat(&case.inputs.iter().collect::<Vec<_>>(), axis()),
        "transpose" => cpu::transpose::transpose(x, &list(&a["perm"])),
        "pad" => cpu::pad::pad(x, &list(&a["pads"]), pad_mode(a)),
        op => panic!("unknown op {op}"),
    }
    .unwrap()
}

fn gpu_run(rt: &Runtime, case: &Case) -> Vec<f32> {
    let (a, x) = (&case.attrs, &case.inputs[0]);
    let ts: Vec<Tensor> = case
        .inputs
        .iter()
        .map(|x| rt.upload_host(x).unwrap())
        .collect();
    let axis = || a["axis"].parse::<usize>().unwrap();
    let shape = match case.op.as_str() {
        "max_pool2d" | "avg_pool2d" => pool_params(a).output_shape(&x.shape),
        "concat" => concat_shape(
            &case.inputs.iter().map(|x| &x.shape[..]).collect::<Vec<_>>(),
            axis(),
        ),
        "transpose" => transpose_shape(&x.shape, &list(&a["perm"])),
        "pad" => pad_shape(&x.shape, &list(&a["pads"]), pad_mode(a)),
        _ => Ok(x.shape.clone()),
    };
    let y = rt.tensor(&shape.unwrap()).unwrap();
    let dispatches = match case.op.as_str() {
        "max_pool2d" => vec![kernels::pool::max_pool2d(rt, &ts[0], &pool_params(a), &y).unwrap()],
        "avg_pool2d" => vec![kernels::pool::avg_pool2d(rt, &ts[0], &pool_params(a), &y).unwrap()],
        "softmax" => vec![kernels::softmax::softmax(rt, &ts[0], axis(), &y).unwrap()],
        "concat" => {
            kernels::concat::concat(rt, &ts.iter().collect::<Vec<_>>(), axis(), &y).unwrap()
        }
        "transpose" => {
            vec![kernels::transpose::transpose(rt, &ts[0], &list(&a["perm"]), &y).unwrap()]
        }
        "pad" => vec![kernels::pad::pad(rt, &ts[0], &list(&a["pads"]), pad_mode(a), &y).unwrap()],
        op => panic!("unknown op {op}"),
    };
    rt.run(&dispatches).unwrap();
    common::read(rt, &y)
}

#[test]
fn cpu_twins_match_onnx_runtime() {
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for (i, case) in cases.iter().enumerate() {
        let got = cpu_run(case);
        let what = format!("case {i} {} {:?}", case.op, case.attrs);
        assert_eq!(got.shape, case.output.shape, "{what}: shape");
        common::assert_close(&what, &got.data, &case.output.data);
    }
}

#[test]
fn kernels_match_onnx_runtime() {
    let rt = require!(gpu);
    for (i, case) in cases().iter().enumerate() {
        let what = format!("case {i} {} {:?}", case.op, case.attrs);
        common::assert_close(&what, &gpu_run(rt, case), &case.output.data);
    }
}
