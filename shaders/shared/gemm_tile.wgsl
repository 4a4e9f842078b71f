// The GEMM tile loop of matmul.wgsl and conv2d.wgsl: out = A x B, A M x K, B K x N.
// Each workgroup computes a (ROWS WG_M) x (4 WG_N) block of out, each invocation a
// ROWS x 4 block in registers. K is walked in steps of BK (STAGED: A- and B-tiles staged
// in workgroup memory, for GPUs) or of 4 (direct reads: on CPU adapters such as
// lavapipe, workgroup memory and barriers cost more than they save).
//
// The kernel defines a struct `Tile` with what its loaders need, and the loaders:
//   fn tile_a(t: Tile, m: u32, k: u32) -> vec4<f32>  A[m, k .. k + 4], zero past M and K
//   fn tile_b(t: Tile, k: u32, n: u32) -> vec4<f32>  B[k, n .. n + 4], zero past K and N
//   fn tile_store(t: Tile, m: u32, n: u32, v: vec4<f32>)  out[m, n .. n + 4] = v, in bounds
// (k and n multiples of 4). The strategy (src/kernels/matmul/strategy.rs) sets the
// overrides.

override WG_M: u32 = 16u;
override WG_N: u32 = 16u;
override STAGED: bool = true;
// Rows of out per invocation: 4 when STAGED; 4 or 8 when direct (8 reuses each B load
// twice as often, ~30% faster on lavapipe).
override ROWS: u32 = 4u;

// `BK` in src/kernels/matmul/strategy.rs.
const BK: u32 = 16u;

// The tiles' lengths in vec4s. Named: naga 30 fails to specialise a module in which
// an array sized by an unnamed override expression precedes a named override.
override A_TILE: u32 = BK * WG_M;
override B_TILE: u32 = BK * WG_N;

// A-tile stored k-major (4 consecutive rows per vec4), B-tile row-major.
var<workgroup> a_tile: array<vec4<f32>, A_TILE>;
var<workgroup> b_tile: array<vec4<f32>, B_TILE>;

// One row of A's 4 x 4 block times B's rows b0..b3: a row of the block's product.
fn dot4(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) -> vec4<f32> {
    return a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
}

// Computes and stores the block whose first row is m0 and first column n0, over K =
// kdim. Called by the whole workgroup (the barriers need it), lid its invocation index.
fn gemm_tile(t: Tile, lid: u32, m0: u32, n0: u32, kdim: u32) {
    let tx = lid % WG_N;
    let ty = lid / WG_N;
    let m = m0 + ty * ROWS;
    let n = n0 + tx * 4u;
    let threads = WG_M * WG_N;

    // acc[i][j] accumulates out[m + i, n + j].
    var acc: array<vec4<f32>, 8>;
    if STAGED {
        for (var k0 = 0u; k0 < kdim; k0 += BK) {
            // A-tile: 4 x 4 blocks, transposed into a_tile[k][m] so that each
            // invocation writes whole vectors.
            for (var e = lid; e < WG_M * BK / 4u; e += threads) {
                let r = (e / (BK / 4u)) * 4u;
                let kq = (e % (BK / 4u)) * 4u;
                var rows: array<vec4<f32>, 4>;
                for (var i = 0u; i < 4u; i++) {
                    rows[i] = tile_a(t, m0 + r + i, k0 + kq);
                }
                for (var q = 0u; q < 4u; q++) {
                    a_tile[(kq + q) * WG_M + r / 4u] = vec4<f32>(rows[0][q], rows[1][q], rows[2][q], rows[3][q]);
                }
            }
            for (var e = lid; e < BK * WG_N; e += threads) {
                b_tile[e] = tile_b(t, k0 + e / WG_N, n0 + (e % WG_N) * 4u);
            }
            workgroupBarrier();
            for (var kk = 0u; kk < BK; kk++) {
                let av = a_tile[kk * WG_M + ty];
                let bv = b_tile[kk * WG_N + tx];
                acc[0] += av.x * bv;
                acc[1] += av.y * bv;
                acc[2] += av.z * bv;
                acc[3] += av.w * bv;
            }
            workgroupBarrier();
        }
    } else {
        // Direct: each invocation reads its blocks of A and B, 4 k at a time.
        for (var k0 = 0u; k0 < kdim; k0 += 4u) {
            let b0 = tile_b(t, k0, n);
            let b1 = tile_b(t, k0 + 1u, n);
            let b2 = tile_b(t, k0 + 2u, n);
            let b3 = tile_b(t, k0 + 3u, n);
            acc[0] += dot4(tile_a(t, m, k0), b0, b1, b2, b3);
            acc[1] += dot4(tile_a(t, m + 1u, k0), b0, b1, b2, b3);
            acc[2] += dot4(tile_a(t, m + 2u, k0), b0, b1, b2, b3);
            acc[3] += dot4(tile_a(t, m + 3u, k0), b0, b1, b2, b3);
            if ROWS == 8u {
                acc[4] += dot4(tile_a(t, m + 4u, k0), b0, b1, b2, b3);
                acc[5] += dot4(tile_a(t, m + 5u, k0), b0, b1, b2, b3);
                acc[6] += dot4(tile_a(t, m + 6u, k0), b0, b1, b2, b3);
                acc[7] += dot4(tile_a(t, m + 7u, k0), b0, b1, b2, b3);
            }
        }
    }

    // Constant indices into acc throughout: CPU adapters keep it in registers then.
    tile_store(t, m, n, acc[0]);
    tile_store(t, m + 1u, n, acc[1]);
    tile_store(t, m + 2u, n, acc[2]);
    tile_store(t, m + 3u, n, acc[3]);
    if ROWS == 8u {
        tile_store(t, m + 4u, n, acc[4]);
        tile_store(t, m + 5u, n, acc[5]);
        tile_store(t, m + 6u, n, acc[6]);
        tile_store(t, m + 7u, n, acc[7]);
    }
}
