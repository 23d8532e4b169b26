/*
 * Hand-written WebAssembly SIMD128 kernels for USearch's f32 metrics (cos, ip, l2sq), passed
 * to every translation unit with `-include` after single_thread_compat.h.
 *
 * USearch's portable loops (`metric_*_gt` in index_plugins.hpp) vectorize to one 4-lane
 * accumulator per sum, so every iteration waits for the previous add (a latency chain).
 * These specializations keep several independent accumulators (16 floats per iteration for
 * ip and l2sq, 8 for cos) and sum them in a fixed order at the end. No fused multiply-add
 * (SIMD128 has none; relaxed-simd's would differ between engines), so every runtime computes
 * bit-identical distances. The formulas are USearch's: ip = 1 - a.b, l2sq = sum (a - b)^2,
 * cos = 1 - a.b / (sqrt(a.a) sqrt(b.b)) with USearch's zero-vector cases.
 *
 * The explicit specializations must precede any use of the templates, which is why this
 * header includes index_plugins.hpp itself (its include guard makes the later includes no-ops).
 */
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <wasm_simd128.h>

#include <usearch/index_plugins.hpp>

namespace unum {
namespace usearch {
namespace vltair_simd {

/* Sum of the four lanes, always in the same order. */
inline float lane_sum(v128_t v) noexcept {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
           (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

inline v128_t load(float const* p) noexcept { return wasm_v128_load(p); }

inline v128_t mul_add(v128_t sum, v128_t a, v128_t b) noexcept {
    return wasm_f32x4_add(sum, wasm_f32x4_mul(a, b));
}

/*
 * IEEE half → single for four halves widened to 32-bit lanes, exact for every input like
 * USearch's scalar `f16_to_f32`: exponent and mantissa move up 13 bits and a multiply by
 * 2^112 rebiases the exponent (and turns half subnormals into the right normals); infinities
 * and NaNs get the all-ones exponent back; the sign is OR-ed in.
 */
inline v128_t half_to_single(v128_t half) noexcept {
    v128_t sign = wasm_i32x4_shl(wasm_v128_and(half, wasm_i32x4_splat(0x8000)), 16);
    v128_t magnitude = wasm_v128_and(half, wasm_i32x4_splat(0x7fff));
    v128_t special = wasm_i32x4_ge(magnitude, wasm_i32x4_splat(0x7c00));
    v128_t shifted = wasm_i32x4_shl(magnitude, 13);
    v128_t value = wasm_f32x4_mul(shifted, wasm_f32x4_splat(0x1p112f));
    value = wasm_v128_bitselect(wasm_v128_or(shifted, wasm_i32x4_splat(0x7f800000)), value, special);
    return wasm_v128_or(value, sign);
}

/* Eight halves at `p` as two f32x4. */
inline void load_halves(std::uint16_t const* p, v128_t& low, v128_t& high) noexcept {
    v128_t halves = wasm_v128_load(p);
    low = half_to_single(wasm_u32x4_extend_low_u16x8(halves));
    high = half_to_single(wasm_u32x4_extend_high_u16x8(halves));
}

} // namespace vltair_simd

template <>
inline float metric_ip_gt<float, float>::operator()(float const* a, float const* b, std::size_t dim) const noexcept {
    using namespace vltair_simd;
    v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
    std::size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        s0 = mul_add(s0, load(a + i), load(b + i));
        s1 = mul_add(s1, load(a + i + 4), load(b + i + 4));
        s2 = mul_add(s2, load(a + i + 8), load(b + i + 8));
        s3 = mul_add(s3, load(a + i + 12), load(b + i + 12));
    }
    for (; i + 4 <= dim; i += 4)
        s0 = mul_add(s0, load(a + i), load(b + i));
    float ab = lane_sum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
    for (; i != dim; ++i)
        ab += a[i] * b[i];
    return 1 - ab;
}

template <>
inline float metric_l2sq_gt<float, float>::operator()(float const* a, float const* b, std::size_t dim) const noexcept {
    using namespace vltair_simd;
    v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
    std::size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        v128_t d0 = wasm_f32x4_sub(load(a + i), load(b + i));
        v128_t d1 = wasm_f32x4_sub(load(a + i + 4), load(b + i + 4));
        v128_t d2 = wasm_f32x4_sub(load(a + i + 8), load(b + i + 8));
        v128_t d3 = wasm_f32x4_sub(load(a + i + 12), load(b + i + 12));
        s0 = mul_add(s0, d0, d0);
        s1 = mul_add(s1, d1, d1);
        s2 = mul_add(s2, d2, d2);
        s3 = mul_add(s3, d3, d3);
    }
    for (; i + 4 <= dim; i += 4) {
        v128_t d = wasm_f32x4_sub(load(a + i), load(b + i));
        s0 = mul_add(s0, d, d);
    }
    float sum = lane_sum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
    for (; i != dim; ++i)
        sum += (a[i] - b[i]) * (a[i] - b[i]);
    return sum;
}

template <>
inline float metric_cos_gt<float, float>::operator()(float const* a, float const* b, std::size_t dim) const noexcept {
    using namespace vltair_simd;
    v128_t ab0 = wasm_f32x4_splat(0.f), ab1 = ab0, aa0 = ab0, aa1 = ab0, bb0 = ab0, bb1 = ab0;
    std::size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        v128_t a0 = load(a + i), b0 = load(b + i);
        v128_t a1 = load(a + i + 4), b1 = load(b + i + 4);
        ab0 = mul_add(ab0, a0, b0);
        aa0 = mul_add(aa0, a0, a0);
        bb0 = mul_add(bb0, b0, b0);
        ab1 = mul_add(ab1, a1, b1);
        aa1 = mul_add(aa1, a1, a1);
        bb1 = mul_add(bb1, b1, b1);
    }
    for (; i + 4 <= dim; i += 4) {
        v128_t a0 = load(a + i), b0 = load(b + i);
        ab0 = mul_add(ab0, a0, b0);
        aa0 = mul_add(aa0, a0, a0);
        bb0 = mul_add(bb0, b0, b0);
    }
    float ab = lane_sum(wasm_f32x4_add(ab0, ab1));
    float a2 = lane_sum(wasm_f32x4_add(aa0, aa1));
    float b2 = lane_sum(wasm_f32x4_add(bb0, bb1));
    for (; i != dim; ++i) {
        ab += a[i] * b[i];
        a2 += a[i] * a[i];
        b2 += b[i] * b[i];
    }
    float result_if_zero[2][2];
    result_if_zero[0][0] = 1 - ab / (std::sqrt(a2) * std::sqrt(b2));
    result_if_zero[0][1] = result_if_zero[1][0] = 1;
    result_if_zero[1][1] = 0;
    return result_if_zero[a2 == 0][b2 == 0];
}

/*
 * f16 storage (`quantization: "f16"`): half the bytes per vector of f32, so half the memory
 * traffic per distance; USearch's own loop converts each half with a scalar call.
 */
template <>
inline float metric_ip_gt<f16_t, float>::operator()(f16_t const* a, f16_t const* b, std::size_t dim) const noexcept {
    using namespace vltair_simd;
    auto const* ah = reinterpret_cast<std::uint16_t const*>(a);
    auto const* bh = reinterpret_cast<std::uint16_t const*>(b);
    v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
    std::size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        v128_t a0, a1, a2, a3, b0, b1, b2, b3;
        load_halves(ah + i, a0, a1);
        load_halves(ah + i + 8, a2, a3);
        load_halves(bh + i, b0, b1);
        load_halves(bh + i + 8, b2, b3);
        s0 = mul_add(s0, a0, b0);
        s1 = mul_add(s1, a1, b1);
        s2 = mul_add(s2, a2, b2);
        s3 = mul_add(s3, a3, b3);
    }
    float ab = lane_sum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
    for (; i != dim; ++i)
        ab += float(a[i]) * float(b[i]);
    return 1 - ab;
}

template <>
inline float metric_cos_gt<f16_t, float>::operator()(f16_t const* a, f16_t const* b, std::size_t dim) const noexcept {
    using namespace vltair_simd;
    auto const* ah = reinterpret_cast<std::uint16_t const*>(a);
    auto const* bh = reinterpret_cast<std::uint16_t const*>(b);
    v128_t ab0 = wasm_f32x4_splat(0.f), ab1 = ab0, aa0 = ab0, aa1 = ab0, bb0 = ab0, bb1 = ab0;
    std::size_t i = 0;
    for (; i + 8 <= dim; i += 8) {
        v128_t a0, a1, b0, b1;
        load_halves(ah + i, a0, a1);
        load_halves(bh + i, b0, b1);
        ab0 = mul_add(ab0, a0, b0);
        aa0 = mul_add(aa0, a0, a0);
        bb0 = mul_add(bb0, b0, b0);
        ab1 = mul_add(ab1, a1, b1);
        aa1 = mul_add(aa1, a1, a1);
        bb1 = mul_add(bb1, b1, b1);
    }
    float ab = lane_sum(wasm_f32x4_add(ab0, ab1));
    float a2 = lane_sum(wasm_f32x4_add(aa0, aa1));
    float b2 = lane_sum(wasm_f32x4_add(bb0, bb1));
    for (; i != dim; ++i) {
        float ai = float(a[i]), bi = float(b[i]);
        ab += ai * bi;
        a2 += ai * ai;
        b2 += bi * bi;
    }
    float result_if_zero[2][2];
    result_if_zero[0][0] = 1 - ab / (std::sqrt(a2) * std::sqrt(b2));
    result_if_zero[0][1] = result_if_zero[1][0] = 1;
    result_if_zero[1][1] = 0;
    return result_if_zero[a2 == 0][b2 == 0];
}

} // namespace usearch
} // namespace unum
