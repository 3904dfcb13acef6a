// logreg/detail/sparse_gradient.hpp - the full-batch loss and gradient over data that is mostly
// zeros (MNIST: 81% of the pixels), for the L-BFGS solver.
//
// A full-batch solver reads the same rows at every evaluation, so it pays to store them once
// without their zeros: the logits and the gradient then cost O(nonzeros x classes) instead of
// O(rows x features x classes). The preprocessor x' = v * scale (no offset: an offset would make
// every zero nonzero) is folded into the weights: z_i = b + sum_{j in nz(i)} v_ij (W_{:,j} s_j)
// and dW_{:,j} = s_j sum_i v_ij dz_i. W is kept transposed and padded to whole SIMD packets per
// feature (10 float classes -> 16), so that a nonzero costs one packet-wide multiply-add per pass.
//
// The rows are stored twice, for the two passes over a block of `block_rows` rows:
//  - by row (compressed sparse rows) for the logits: a row's logits are summed in registers from
//    the W^T packets of its nonzeros and written once;
//  - by column within the block (the block's compressed sparse columns) for the gradient: a
//    column's packet of dW^T is summed in a register from the block's dL/dz rows (in L1) and
//    written once per block, rather than read, updated and written back per nonzero (W^T and dW^T,
//    50 KB each for MNIST, do not both fit in L1). docs/design.md has the measurements.
//
// Threads take contiguous ranges of blocks, each with its own transposed gradient; the ranges are
// summed in order, so the result is bitwise reproducible for a fixed thread count. It is checked
// against the dense engine (detail/batch_gradient.hpp) in tests/test_lbfgs.cpp.
#pragma once

#include <logreg/cross_entropy.hpp>
#include <logreg/dataset.hpp>
#include <logreg/detail/thread_pool.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/preprocess.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace logreg::detail {

template <typename Scalar>
class SparseGradient {
public:
    /// Rows per block (row offsets in a block fit a byte).
    static constexpr Index block_rows = 64;
    /// Column indices are stored in 16 bits: every byte moved counts, the passes are memory-bound.
    static constexpr Index max_features = 65536;

    /// True when the sparse pass is exact and pays off: the preprocessor only scales (every
    /// offset is zero) and at most `max_density` of the entries of `rows` are nonzero.
    template <typename Feature>
    static bool suitable(const Dataset<Feature>& data, const IndexVector& rows, const Preprocessor<Scalar>& pre,
                         double max_density = 0.5) {
        if (!(pre.offset().array() == Scalar(0)).all() || data.num_features() > max_features) return false;
        return static_cast<double>(count_nonzeros(data, rows)) <=
               max_density * static_cast<double>(rows.size()) * static_cast<double>(data.num_features());
    }

    /// Stores `rows` of `data` (their nonzeros, labels and sample weights) for `threads` threads
    /// and `classes` classes; allocation happens here only.
    template <typename Feature>
    void build(const Dataset<Feature>& data, const IndexVector& rows, Index classes, int threads) {
        const Index d = data.num_features(), n = rows.size();
        features_ = d;
        classes_ = classes;
        padded_ = (classes + packet - 1) / packet * packet;
        rows_ = n;
        const auto nnz = static_cast<std::size_t>(count_nonzeros(data, rows));
        // uint8 data keeps its bytes (converted in registers); other types are stored as Scalar.
        bytes_ = std::is_same_v<Feature, std::uint8_t>;
        entry_row_.resize(nnz);
        row_start_.resize(static_cast<std::size_t>(n) + 1);
        row_column_.resize(nnz);
        entry_byte_.assign(bytes_ ? nnz : 0, 0);
        row_byte_.assign(bytes_ ? nnz : 0, 0);
        entry_value_.assign(bytes_ ? 0 : nnz, Scalar(0));
        row_value_.assign(bytes_ ? 0 : nnz, Scalar(0));
        std::size_t at_row = 0;
        for (Index k = 0; k < n; ++k) {
            row_start_[static_cast<std::size_t>(k)] = static_cast<std::int64_t>(at_row);
            const Feature* row = data.features().row(rows[k]).data();
            for (Index j = 0; j < d; ++j)
                if (row[j] != Feature(0)) {
                    row_column_[at_row] = static_cast<std::uint16_t>(j);
                    set_value(row_byte_, row_value_, at_row++, row[j]);
                }
        }
        row_start_[static_cast<std::size_t>(n)] = static_cast<std::int64_t>(at_row);
        block_start_.assign(1, 0);
        column_.clear();
        column_start_.assign(1, 0);
        std::vector<std::int64_t> count(static_cast<std::size_t>(d) + 1);
        std::size_t filled = 0;
        for (Index b0 = 0; b0 < n; b0 += block_rows) {
            const Index nb = std::min(block_rows, n - b0);
            // Counting sort of the block's nonzeros by column.
            std::fill(count.begin(), count.end(), 0);
            for (Index i = 0; i < nb; ++i) {
                const Feature* row = data.features().row(rows[b0 + i]).data();
                for (Index j = 0; j < d; ++j) count[static_cast<std::size_t>(j) + 1] += row[j] != Feature(0);
            }
            for (Index j = 0; j < d; ++j)
                if (count[static_cast<std::size_t>(j) + 1] > 0) {
                    column_.push_back(static_cast<std::uint32_t>(j));
                    column_start_.push_back(column_start_.back() + count[static_cast<std::size_t>(j) + 1]);
                }
            block_start_.push_back(static_cast<std::int64_t>(column_.size()));
            for (Index j = 0; j < d; ++j)
                count[static_cast<std::size_t>(j) + 1] += count[static_cast<std::size_t>(j)];  // start of column j
            for (Index i = 0; i < nb; ++i) {
                const Feature* row = data.features().row(rows[b0 + i]).data();
                for (Index j = 0; j < d; ++j)
                    if (row[j] != Feature(0)) {
                        const std::size_t at = filled + static_cast<std::size_t>(count[static_cast<std::size_t>(j)]++);
                        entry_row_[at] = static_cast<std::uint8_t>(i);
                        set_value(entry_byte_, entry_value_, at, row[j]);
                    }
            }
            filled += static_cast<std::size_t>(count[static_cast<std::size_t>(d) - 1]);
        }
        labels_.resize(n);
        weights_.resize(data.sample_weights().size() != 0 ? n : 0);
        for (Index k = 0; k < n; ++k) {
            labels_[k] = data.labels()[rows[k]];
            if (weights_.size() != 0) weights_[k] = data.sample_weights()[rows[k]];
        }
        wt_.resize(d * padded_);
        slices_.assign(static_cast<std::size_t>(threads), Slice{});
        for (auto& s : slices_) {
            s.grad.resize(d * padded_);
            s.colsum.resize(padded_);
            s.z.resize(block_rows, padded_);
            s.acc.resize(7 * padded_);
        }
        grad_.resize(classes, d);
    }

    Index rows() const { return rows_; }
    Index nonzeros() const { return static_cast<Index>(entry_row_.size()); }

    /// The gradient of the mean loss over the stored rows into gradient(); returns the loss sums.
    template <typename Loss>
    LossSums compute(const LinearSoftmax<Scalar>& model, const Loss& loss, const Preprocessor<Scalar>& pre,
                     ThreadPool& pool) {
        // W^T with the scales folded in, padded with zero classes.
        const Index d = features_, c = classes_, p = padded_;
        for (Index j = 0; j < d; ++j) {
            Scalar* w = wt_.data() + j * p;
            for (Index k = 0; k < c; ++k) w[k] = model.weight()(k, j) * pre.scale()[j];
            for (Index k = c; k < p; ++k) w[k] = Scalar(0);
        }
        Job<Loss> job{this, &model, &loss};
        job.threads = std::min<int>(static_cast<int>(slices_.size()), pool.size());
        pool.run(&Job<Loss>::run, &job, job.threads);
        LossSums sums;
        for (int t = 0; t < job.threads; ++t) sums += slices_[static_cast<std::size_t>(t)].sums;
        // Sum the ranges in order, undo the transposition and scale by s_j / total weight.
        Slice& s0 = slices_[0];
        for (int t = 1; t < job.threads; ++t) {
            s0.grad += slices_[static_cast<std::size_t>(t)].grad;
            s0.colsum += slices_[static_cast<std::size_t>(t)].colsum;
        }
        const auto inv = static_cast<Scalar>(sums.weight_sum > 0 ? 1.0 / sums.weight_sum : 0.0);
        for (Index j = 0; j < d; ++j) {
            const Scalar f = pre.scale()[j] * inv;
            for (Index k = 0; k < c; ++k) grad_.weight(k, j) = s0.grad[j * p + k] * f;
        }
        grad_.bias = s0.colsum.head(c) * inv;
        return sums;
    }

    Gradient<Scalar>& gradient() { return grad_; }

private:
    // Packet-wide rows of W^T: 16 floats or 8 doubles (64 bytes, one AVX-512 register).
    static constexpr Index packet = 64 / static_cast<Index>(sizeof(Scalar));

    template <typename Feature>
    static void set_value(std::vector<std::uint8_t>& bytes, std::vector<Scalar>& values, std::size_t at, Feature v) {
        if constexpr (std::is_same_v<Feature, std::uint8_t>)
            bytes[at] = v;
        else
            values[at] = static_cast<Scalar>(v);
    }

    template <typename Feature>
    static long long count_nonzeros(const Dataset<Feature>& data, const IndexVector& rows) {
        long long nonzeros = 0;
        for (Index k = 0; k < rows.size(); ++k) {
            const Feature* row = data.features().row(rows[k]).data();
            for (Index j = 0; j < data.num_features(); ++j) nonzeros += row[j] != Feature(0);
        }
        return nonzeros;
    }

    struct Slice {
        Vector<Scalar> grad;    // this range's sum_i v_ij dz_i, transposed and padded: features x padded
        Vector<Scalar> colsum;  // sum_i dz_i (the bias gradient), padded
        RowMatrix<Scalar> z;    // a block's logits, then its dL/dz: block_rows x padded
        Vector<Scalar> acc;     // accumulators when the padded class count is not a compile-time one
        LossSums sums;
    };

    template <typename Loss>
    struct Job {
        SparseGradient* self;
        const LinearSoftmax<Scalar>* model;
        const Loss* loss;
        int threads = 1;

        static void run(void* context, int t) { static_cast<Job*>(context)->range(t); }

        void range(int t) {
            const auto blocks = static_cast<Index>(self->block_start_.size()) - 1;
            const Index share = blocks / threads, extra = blocks % threads;
            const Index begin = t * share + std::min<Index>(t, extra), count = share + (t < extra ? 1 : 0);
            if (self->bytes_)
                with_width<std::uint8_t>(t, begin, begin + count, self->row_byte_.data(), self->entry_byte_.data());
            else
                with_width<Scalar>(t, begin, begin + count, self->row_value_.data(), self->entry_value_.data());
        }

        template <typename V>
        void with_width(int t, Index begin, Index end, const V* row_value, const V* value) {
            switch (self->padded_) {  // fixed packet counts: the inner loops become straight-line SIMD
                case packet:
                    return blocks_with<packet>(t, begin, end, row_value, value);
                case 2 * packet:
                    return blocks_with<2 * packet>(t, begin, end, row_value, value);
                default:
                    return blocks_with<Eigen::Dynamic>(t, begin, end, row_value, value);
            }
        }

        template <int P, typename V>
        void blocks_with(int t, Index first_block, Index end_block, const V* row_value, const V* value) {
            using Packet = Eigen::Array<Scalar, P, 1>;
            using In = Eigen::Map<const Packet>;
            using Out = Eigen::Map<Packet>;
            Slice& s = self->slices_[static_cast<std::size_t>(t)];
            const Index p = self->padded_, c = self->classes_;
            s.grad.setZero();
            s.colsum.setZero();
            s.sums = LossSums{};
            // Accumulators: SIMD registers for a fixed width, the slice's scratch otherwise (no allocation).
            const auto reg = [&](Index i) {
                if constexpr (P == Eigen::Dynamic)
                    return Eigen::Map<Packet>(s.acc.data() + i * p, p);
                else
                    return Packet();
            };
            auto bias = reg(0), a0 = reg(1), a1 = reg(2), a2 = reg(3), a3 = reg(4);
            bias.setZero();
            bias.head(c) = model->bias().array();
            const Index stride = P == Eigen::Dynamic ? p : P;  // a compile-time multiplier when possible
            const std::int64_t* row_start = self->row_start_.data();
            const std::uint16_t* row_column = self->row_column_.data();
            const std::int64_t* col_start = self->column_start_.data();
            const std::uint32_t* column = self->column_.data();
            const std::uint8_t* entry_row = self->entry_row_.data();
            const Scalar* wt = self->wt_.data();
            Scalar* z = s.z.data();
            Scalar* g = s.grad.data();
            for (Index blk = first_block; blk < end_block; ++blk) {
                const Index r0 = blk * block_rows, nb = std::min(block_rows, self->rows_ - r0);
                const std::int64_t k0 = self->block_start_[static_cast<std::size_t>(blk)];
                const std::int64_t k1 = self->block_start_[static_cast<std::size_t>(blk) + 1];
                // Logits, row by row: four independent sums hide the add latency.
                for (Index i = 0; i < nb; ++i) {
                    std::int64_t q = row_start[r0 + i];
                    const std::int64_t e = row_start[r0 + i + 1];
                    a0 = bias;
                    a1.setZero();
                    a2.setZero();
                    a3.setZero();
                    for (; q + 3 < e; q += 4) {
                        a0 += Scalar(row_value[q]) * In(wt + row_column[q] * stride, p);
                        a1 += Scalar(row_value[q + 1]) * In(wt + row_column[q + 1] * stride, p);
                        a2 += Scalar(row_value[q + 2]) * In(wt + row_column[q + 2] * stride, p);
                        a3 += Scalar(row_value[q + 3]) * In(wt + row_column[q + 3] * stride, p);
                    }
                    for (; q < e; ++q) a0 += Scalar(row_value[q]) * In(wt + row_column[q] * stride, p);
                    Out(z + i * stride, p) = (a0 + a1) + (a2 + a3);
                }
                // The loss overwrites the first c columns with dL/dz; the padding stays zero.
                auto zb = s.z.topLeftCorner(nb, c);
                s.sums += loss->accumulate(zb, self->labels_.data() + r0,
                                           self->weights_.size() != 0 ? self->weights_.data() + r0 : nullptr);
                for (Index i = 0; i < nb; ++i) s.colsum.array() += In(z + i * stride, p);
                // dW^T_j += sum_i v_ij dz_i, column by column: two interleaved sums hide the add latency.
                for (std::int64_t k = k0; k < k1; ++k) {
                    a0.setZero();
                    a1.setZero();
                    std::int64_t q = col_start[k];
                    const std::int64_t e = col_start[k + 1];
                    for (; q + 1 < e; q += 2) {
                        a0 += Scalar(value[q]) * In(z + entry_row[q] * stride, p);
                        a1 += Scalar(value[q + 1]) * In(z + entry_row[q + 1] * stride, p);
                    }
                    if (q < e) a0 += Scalar(value[q]) * In(z + entry_row[q] * stride, p);
                    Out(g + column[k] * stride, p) += a0 + a1;
                }
            }
        }
    };

    Index features_ = 0, classes_ = 0, padded_ = 0, rows_ = 0;
    // By row: row k's nonzeros are [row_start_[k], row_start_[k + 1]) of row_column_ and row_value_.
    std::vector<std::int64_t> row_start_;
    std::vector<std::uint16_t> row_column_;
    std::vector<std::uint8_t> row_byte_;  // the values of uint8 data (bytes_) ...
    std::vector<Scalar> row_value_;       // ... or of any other
    bool bytes_ = false;
    // By column in each block: block b's columns are column_[block_start_[b] .. block_start_[b + 1]);
    // column k's nonzeros are entries [column_start_[k], column_start_[k + 1]), each a row offset
    // in the block and a value.
    std::vector<std::int64_t> block_start_;
    std::vector<std::uint32_t> column_;
    std::vector<std::int64_t> column_start_;
    std::vector<std::uint8_t> entry_row_;
    std::vector<std::uint8_t> entry_byte_;
    std::vector<Scalar> entry_value_;
    LabelVector labels_;
    Vector<double> weights_;  // empty: unweighted
    Vector<Scalar> wt_;       // W^T scaled and padded: features x padded
    std::vector<Slice> slices_;
    Gradient<Scalar> grad_;
};

}  // namespace logreg::detail
