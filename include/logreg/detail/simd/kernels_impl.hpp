// logreg/detail/simd/kernels_impl.hpp - the kernels, written once for every instruction set.
//
// No include guard, on purpose: each kernel set's header (portable.hpp, x86.hpp) includes this
// file inside its own namespace, after defining there
//   Vec<float>, Vec<double>   the vector type R and its operations (load, store, set1, madd,
//                             sub, mul, sum, load_bytes, and for exp: min and max, which
//                             return their second operand when either is NaN, round to the
//                             nearest integer, and pow2(k) = 2^k for integral k of a normal
//                             power), `width`, the Scalars per vector, and madd1, the scalar
//                             multiply-add of the kernels' tails;
//   this_isa                  the Isa the set is for;
//   vector_registers          how many vector registers the set can use;
//   bytes_in_kernels          KernelSet::bytes_in_kernels,
// and under the instruction set's target attribute, so the same text compiles to SSE2, AVX2 or
// AVX-512 code in one translation unit. It includes nothing itself.
//
// A softmax-regression step multiplies a tall batch by a very flat weight matrix (C = 10
// outputs, D = 784 inputs). General GEMM packs both operands for every call and blocks for
// large square shapes, which is wasted work here. These kernels walk the D axis once per small
// tile instead, keeping all partial sums in registers:
//   logits:   z[r][c] = sum_j x[r][j] w[c][j] + b[c]   (RB rows x CB classes of accumulators)
//   gradient: g[c][j] += sum_r dz[r][c] x[r][j]         (CB classes x 2 vectors of g kept in
//                                                        registers while every row is added)

/// Rows per logits tile: RB x CB accumulators + RB x vectors + one w vector fit the registers.
constexpr int forward_rows = vector_registers >= 32 ? 5 : 2;
/// Largest class tile of the logits kernel.
constexpr int forward_classes = 5;
/// Largest class tile of the gradient kernel: 2 x CB accumulators + two x vectors + one broadcast.
constexpr int gradient_classes = vector_registers >= 32 ? 12 : 6;

/// Where a kernel reads X. DenseRows: Scalars at x[r * ldx + j]. ByteRows: bytes at
/// rows[r][first + j], converted as convert_bytes does ((Scalar(byte) - offset) * scale, the same
/// operations in vectors and in scalars), so a kernel on ByteRows gives bitwise what it gives on
/// the converted rows, without a converted copy of the batch (a uint8 block is a quarter of the
/// memory traffic of its floats, and the rows are read where they are). Shifted = false: every
/// offset is 0 (pixels scaled to [0, 1]), and the subtraction, exact then, is left out.
template <typename Scalar>
struct DenseRows {
    using R = typename Vec<Scalar>::R;
    const Scalar* x;
    Index ldx;
    R load(Index r, Index j) const { return Vec<Scalar>::load(x + r * ldx + j); }
    Scalar at(Index r, Index j) const { return x[r * ldx + j]; }
    DenseRows from(Index r) const { return {x + r * ldx, ldx}; }
};

template <typename Scalar, bool Shifted = true>
struct ByteRows {
    using V = Vec<Scalar>;
    using R = typename V::R;
    const std::uint8_t* const* rows;
    Index first;           // the column of rows[r] that is column 0 here
    const Scalar* offset;  // offset[j], scale[j]: column j here (already shifted by first)
    const Scalar* scale;
    R load(Index r, Index j) const {
        R x = V::load_bytes(rows[r] + first + j);
        if constexpr (Shifted) x = V::sub(x, V::load(offset + j));
        return V::mul(x, V::load(scale + j));
    }
    Scalar at(Index r, Index j) const {
        Scalar x = static_cast<Scalar>(rows[r][first + j]);
        if constexpr (Shifted) x -= offset[j];
        return x * scale[j];
    }
    ByteRows from(Index r) const { return {rows + r, first, offset, scale}; }
};

/// Calls `kernel` with the ByteRows that read rows[r][first + j] for j >= 0: shifted by offset
/// when there is one; a null offset means every offset is 0 (Preprocessor::has_offsets), and the
/// rows then skip the subtraction. The one place that chooses between the two.
template <typename Scalar, typename Kernel>
void with_byte_rows(const std::uint8_t* const* rows, Index first, const Scalar* offset, const Scalar* scale,
                    Kernel&& kernel) {
    if (offset)
        kernel(ByteRows<Scalar>{rows, first, offset + first, scale + first});
    else
        kernel(ByteRows<Scalar, false>{rows, first, nullptr, scale + first});
}

/// Classes per tile when `classes` are split into tiles of at most `most`: near-equal tiles
/// (12 on at most 10 -> 6 + 6) rather than full ones and a thin remainder.
inline Index near_equal_tile(Index classes, Index most) {
    if (classes <= most) return most;
    const Index tiles = (classes + most - 1) / most;
    return (classes + tiles - 1) / tiles;
}

/// z[r][c] = x[r] . w[c] + b[c] for RB rows and CB classes; every w vector is loaded once per
/// tile and shared by RB rows, every x vector shared by CB classes.
template <int RB, int CB, typename Scalar, typename Rows>
inline void logits_tile(const Rows& x, const Scalar* w, Index ldw, Index d, const Scalar* bias, Scalar* z, Index ldz) {
    using V = Vec<Scalar>;
    using R = typename V::R;
    constexpr Index S = V::width;
    R acc[RB][CB];
    for (int r = 0; r < RB; ++r)
        for (int c = 0; c < CB; ++c) acc[r][c] = V::zero();
    const Index dv = d - d % S;  // the vector part of each row; the rest is done in scalars
    for (Index j = 0; j < dv; j += S) {
        R xv[RB];
        for (int r = 0; r < RB; ++r) xv[r] = x.load(r, j);
        for (int c = 0; c < CB; ++c) {
            const R wv = V::load(w + c * ldw + j);
            for (int r = 0; r < RB; ++r) acc[r][c] = V::madd(xv[r], wv, acc[r][c]);
        }
    }
    for (int r = 0; r < RB; ++r)
        for (int c = 0; c < CB; ++c) {
            Scalar s = V::sum(acc[r][c]);
            for (Index k = dv; k < d; ++k) s = V::madd1(x.at(r, k), w[c * ldw + k], s);
            z[r * ldz + c] = s + bias[c];
        }
}

/// Runs logits_tile<RB, n> for a run-time n in [1, CB] (a class tile narrower than CB).
template <int RB, int CB, typename Scalar, typename Rows>
inline void logits_tile_n(int n, const Rows& x, const Scalar* w, Index ldw, Index d, const Scalar* bias, Scalar* z,
                          Index ldz) {
    if constexpr (CB >= 1) {
        if (n == CB)
            logits_tile<RB, CB>(x, w, ldw, d, bias, z, ldz);
        else
            logits_tile_n<RB, CB - 1>(n, x, w, ldw, d, bias, z, ldz);
    }
}

/// KernelSet::logits and logits_bytes on `rows` rows of x.
template <typename Scalar, typename Rows>
void logits_of(const Rows& x, Index rows, const Scalar* w, Index ldw, Index classes, Index d, const Scalar* bias,
               Scalar* z, Index ldz) {
    constexpr int RB = forward_rows, CB = forward_classes;
    const Index per = near_equal_tile(classes, CB);
    Index r = 0;
    for (; r + RB <= rows; r += RB)
        for (Index c = 0; c < classes; c += per) {
            const int n = static_cast<int>(std::min<Index>(per, classes - c));
            logits_tile_n<RB, CB>(n, x.from(r), w + c * ldw, ldw, d, bias + c, z + r * ldz + c, ldz);
        }
    for (; r < rows; ++r)
        for (Index c = 0; c < classes; c += per) {
            const int n = static_cast<int>(std::min<Index>(per, classes - c));
            logits_tile_n<1, CB>(n, x.from(r), w + c * ldw, ldw, d, bias + c, z + r * ldz + c, ldz);
        }
}

/// KernelSet::logits.
template <typename Scalar>
void logits(const Scalar* x, Index ldx, Index rows, const Scalar* w, Index ldw, Index classes, Index d,
            const Scalar* bias, Scalar* z, Index ldz) {
    logits_of(DenseRows<Scalar>{x, ldx}, rows, w, ldw, classes, d, bias, z, ldz);
}

/// KernelSet::logits_bytes.
template <typename Scalar>
void logits_bytes(const std::uint8_t* const* x_rows, Index rows, const Scalar* offset, const Scalar* scale,
                  const Scalar* w, Index ldw, Index classes, Index d, const Scalar* bias, Scalar* z, Index ldz) {
    with_byte_rows(x_rows, 0, offset, scale,
                   [&](const auto& x) { logits_of(x, rows, w, ldw, classes, d, bias, z, ldz); });
}

/// g[c][j] += sum_r dz[r][c] x[r][j] for CB classes: two vectors of each of the CB rows of g stay
/// in registers while all `rows` rows are added, so g is read and written once per call and
/// every broadcast of dz[r][c] feeds two multiply-adds.
template <int CB, typename Scalar, typename Rows>
inline void gradient_tile(const Rows& x, Index rows, const Scalar* dz, Index ldz, Scalar* g, Index ldg, Index d,
                          bool overwrite) {
    using V = Vec<Scalar>;
    using R = typename V::R;
    constexpr Index S = V::width;
    const Index d2 = d - d % (2 * S), dv = d - d % S;
    Index j = 0;
    for (; j < d2; j += 2 * S) {
        R a0[CB], a1[CB];
        for (int c = 0; c < CB; ++c) {
            a0[c] = overwrite ? V::zero() : V::load(g + c * ldg + j);
            a1[c] = overwrite ? V::zero() : V::load(g + c * ldg + j + S);
        }
        for (Index r = 0; r < rows; ++r) {
            const R x0 = x.load(r, j), x1 = x.load(r, j + S);
            const Scalar* dzr = dz + r * ldz;
            for (int c = 0; c < CB; ++c) {
                const R s = V::set1(dzr[c]);
                a0[c] = V::madd(s, x0, a0[c]);
                a1[c] = V::madd(s, x1, a1[c]);
            }
        }
        for (int c = 0; c < CB; ++c) {
            V::store(g + c * ldg + j, a0[c]);
            V::store(g + c * ldg + j + S, a1[c]);
        }
    }
    for (; j < dv; j += S) {
        R a[CB];
        for (int c = 0; c < CB; ++c) a[c] = overwrite ? V::zero() : V::load(g + c * ldg + j);
        for (Index r = 0; r < rows; ++r) {
            const R xv = x.load(r, j);
            for (int c = 0; c < CB; ++c) a[c] = V::madd(V::set1(dz[r * ldz + c]), xv, a[c]);
        }
        for (int c = 0; c < CB; ++c) V::store(g + c * ldg + j, a[c]);
    }
    for (; j < d; ++j)
        for (int c = 0; c < CB; ++c) {
            Scalar s = overwrite ? Scalar(0) : g[c * ldg + j];
            for (Index r = 0; r < rows; ++r) s = V::madd1(dz[r * ldz + c], x.at(r, j), s);
            g[c * ldg + j] = s;
        }
}

template <int CB, typename Scalar, typename Rows>
inline void gradient_tile_n(int n, const Rows& x, Index rows, const Scalar* dz, Index ldz, Scalar* g, Index ldg,
                            Index d, bool overwrite) {
    if constexpr (CB >= 1) {
        if (n == CB)
            gradient_tile<CB>(x, rows, dz, ldz, g, ldg, d, overwrite);
        else
            gradient_tile_n<CB - 1>(n, x, rows, dz, ldz, g, ldg, d, overwrite);
    }
}

/// KernelSet::add_weight_gradient and add_weight_gradient_bytes on `rows` rows of x.
template <typename Scalar, typename Rows>
void add_weight_gradient_of(const Rows& x, Index rows, const Scalar* dz, Index ldz, Index classes, Scalar* g, Index ldg,
                            Index d, bool overwrite) {
    constexpr int CB = gradient_classes;
    const Index per = near_equal_tile(classes, CB);
    for (Index c = 0; c < classes; c += per) {
        const int n = static_cast<int>(std::min<Index>(per, classes - c));
        gradient_tile_n<CB>(n, x, rows, dz + c, ldz, g + c * ldg, ldg, d, overwrite);
    }
}

/// KernelSet::add_weight_gradient.
template <typename Scalar>
void add_weight_gradient(const Scalar* x, Index ldx, Index rows, const Scalar* dz, Index ldz, Index classes, Scalar* g,
                         Index ldg, Index d, bool overwrite) {
    add_weight_gradient_of(DenseRows<Scalar>{x, ldx}, rows, dz, ldz, classes, g, ldg, d, overwrite);
}

/// KernelSet::add_weight_gradient_bytes.
template <typename Scalar>
void add_weight_gradient_bytes(const std::uint8_t* const* x_rows, Index first, Index rows, const Scalar* offset,
                               const Scalar* scale, const Scalar* dz, Index ldz, Index classes, Scalar* g, Index ldg,
                               Index d, bool overwrite) {
    with_byte_rows(x_rows, first, offset, scale,
                   [&](const auto& x) { add_weight_gradient_of(x, rows, dz, ldz, classes, g, ldg, d, overwrite); });
}

/// KernelSet::convert_bytes: ByteRows' conversion, stored (one definition of it, so the gather
/// path and the kernels that read bytes in place convert alike).
template <typename Scalar>
void convert_bytes(const std::uint8_t* src, Index d, const Scalar* offset, const Scalar* scale, Scalar* dst) {
    using V = Vec<Scalar>;
    constexpr Index S = V::width;
    with_byte_rows(&src, 0, offset, scale, [&](const auto& row) {
        Index j = 0;
        for (; j + S <= d; j += S) V::store(dst + j, row.load(0, j));
        for (; j < d; ++j) dst[j] = row.at(0, j);
    });
}

/// KernelSet::sgd_step: p += (g * scale) * -rate in one pass, checking the results as it goes.
/// The vector part rounds as the set's madd (SSE2: twice, as p - rate * (g * scale); AVX2,
/// AVX-512: once; the portable set: as Eigen's pmadd, fused when the build enables FMA), the tail
/// as madd1 (fused exactly where madd is on x86; twice on the portable set). Which elements are
/// tails depends on n only, so a class and a column share of the update give the same bits.
template <typename Scalar>
bool sgd_step(Scalar* p, const Scalar* g, Index n, Scalar scale, Scalar rate) {
    using V = Vec<Scalar>;
    using R = typename V::R;
    constexpr Index S = V::width;
    const R vscale = V::set1(scale), vstep = V::set1(-rate), zero = V::zero();
    R nonfinite = zero;  // the sum of p * 0: 0 while every p is finite, NaN once one is not
    Index i = 0;
    for (; i + S <= n; i += S) {
        const R updated = V::madd(V::mul(V::load(g + i), vscale), vstep, V::load(p + i));
        V::store(p + i, updated);
        nonfinite = V::madd(updated, zero, nonfinite);
    }
    Scalar tail = 0;
    for (; i < n; ++i) {
        p[i] = V::madd1(g[i] * scale, -rate, p[i]);
        tail = V::madd1(p[i], Scalar(0), tail);
    }
    return V::sum(nonfinite) + tail == Scalar(0);
}

/// exp_in_place's constants. Arguments are clamped to [lo, hi], just outside the range where
/// exp is finite and nonzero, so that 2^k of the reduction stays within two normal powers of two.
/// ln2_hi has so few significant bits that k * ln2_hi is exact (Cody and Waite's reduction).
template <typename Scalar>
struct ExpConstants;

template <>
struct ExpConstants<float> {
    static constexpr float lo = -104.0f, hi = 88.75f;  // exp: below 2^-149 (rounds to 0), above FLT_MAX
    static constexpr float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    static constexpr int degree = 7;  // Taylor remainder on |r| <= ln(2)/2: r^8/8! < 6e-9, a tenth of an ulp
};

template <>
struct ExpConstants<double> {
    static constexpr double lo = -745.2, hi = 709.8;
    static constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    static constexpr int degree = 13;  // r^14/14! < 5e-18, a fiftieth of an ulp
};

/// 1/k!, rounded once to Scalar.
template <typename Scalar>
constexpr Scalar inverse_factorial(int k) {
    double f = 1;
    for (int i = 2; i <= k; ++i) f *= i;
    return static_cast<Scalar>(1.0 / f);
}

/// exp of every element: x = k ln2 + r with k = round(x / ln2) and |r| <= ln2 / 2, exp(r) by its
/// Taylor polynomial, then times 2^k as two powers of two (k / 2 and the rest), each a normal
/// number even where the result is subnormal, so only the last product rounds.
template <typename Scalar>
inline typename Vec<Scalar>::R exp_vector(typename Vec<Scalar>::R x) {
    using V = Vec<Scalar>;
    using R = typename V::R;
    using C = ExpConstants<Scalar>;
    x = V::max(V::set1(C::lo), V::min(V::set1(C::hi), x));  // in this order NaN passes through
    const R k = V::round(V::mul(x, V::set1(Scalar(1.44269504088896340736))));
    R r = V::madd(k, V::set1(-C::ln2_hi), x);
    r = V::madd(k, V::set1(-C::ln2_lo), r);
    R p = V::set1(inverse_factorial<Scalar>(C::degree));
    for (int j = C::degree - 1; j >= 0; --j) p = V::madd(p, r, V::set1(inverse_factorial<Scalar>(j)));
    const R half_k = V::round(V::mul(k, V::set1(Scalar(0.5))));
    return V::mul(V::mul(p, V::pow2(half_k)), V::pow2(V::sub(k, half_k)));
}

/// KernelSet::exp_in_place. The tail goes through a whole vector too, so that every element is
/// computed by the same instructions wherever it lies.
template <typename Scalar>
void exp_in_place(Scalar* x, Index n) {
    using V = Vec<Scalar>;
    constexpr Index S = V::width;
    Index i = 0;
    for (; i + S <= n; i += S) V::store(x + i, exp_vector<Scalar>(V::load(x + i)));
    if (i < n) {
        Scalar tail[S] = {};
        std::copy(x + i, x + n, tail);
        V::store(tail, exp_vector<Scalar>(V::load(tail)));
        std::copy(tail, tail + (n - i), x + i);
    }
}

/// This set's KernelSet.
template <typename Scalar>
constexpr KernelSet<Scalar> make_kernel_set() {
    return {this_isa,
            Vec<Scalar>::width,
            forward_rows,
            bytes_in_kernels,
            &logits<Scalar>,
            &add_weight_gradient<Scalar>,
            &logits_bytes<Scalar>,
            &add_weight_gradient_bytes<Scalar>,
            &convert_bytes<Scalar>,
            &sgd_step<Scalar>,
            &exp_in_place<Scalar>};
}
