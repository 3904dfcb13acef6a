// logreg/detail/batch_gradient.hpp - the hot path: gradient of the mean loss over one mini-batch.
//
// For a batch of row indices into a data set it gathers and preprocesses the rows
// (converting uint8 features as it goes), computes logits, the fused softmax
// cross-entropy gradient and dW = dZ^T X, db = colsum(dZ). With several threads
// each takes a contiguous slice of the batch into its own buffers and the partial
// gradients are added in slice order. All buffers are sized by reserve(), so a
// steady-state step does not touch the heap.
#pragma once

#include <logreg/cross_entropy.hpp>
#include <logreg/detail/thread_pool.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/preprocess.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace logreg::detail {

template <typename Scalar>
class BatchGradient {
public:
    /// Sizes every buffer for batches of up to `max_batch` rows; allocation happens here only.
    void reserve(Index max_batch, Index features, Index classes, int threads) {
        if (max_batch == max_batch_ && features == features_ && classes == classes_ &&
            static_cast<int>(slices_.size()) == threads)
            return;
        max_batch_ = max_batch;
        features_ = features;
        classes_ = classes;
        slices_.assign(static_cast<std::size_t>(threads), Slice{});
        const Index per = (max_batch + threads - 1) / threads;
        for (auto& s : slices_) {
            s.x.resize(per, features);
            s.z.resize(per, classes);
            s.labels.resize(per);
            s.weights.resize(per);
            s.grad.resize(classes, features);
        }
        total_.resize(classes, features);
    }

    /// Computes the gradient of the mean loss over rows[0..count) into gradient(); returns the loss sums.
    template <typename Feature>
    LossSums compute(const LinearSoftmax<Scalar>& model, const CrossEntropy<Scalar>& loss,
                     const RowMatrix<Feature>& features, const LabelVector& labels, const Vector<double>& weights,
                     const Index* rows, Index count, const Preprocessor<Scalar>& pre, ThreadPool& pool) {
        Job<Feature> job{this, &model, &loss, &features, &labels, &weights, rows, count, &pre};
        pool.run(&Job<Feature>::run, &job);
        LossSums sums;
        for (const auto& s : slices_) sums += s.sums;
        // Reduce in slice order: a fixed order keeps results bitwise reproducible.
        total_.weight = slices_[0].grad.weight;
        total_.bias = slices_[0].grad.bias;
        for (std::size_t t = 1; t < slices_.size(); ++t) {
            if (slices_[t].rows == 0) continue;
            total_.weight += slices_[t].grad.weight;
            total_.bias += slices_[t].grad.bias;
        }
        if (sums.weight_sum > 0) {
            const auto inv = static_cast<Scalar>(1.0 / sums.weight_sum);
            total_.weight *= inv;
            total_.bias *= inv;
        }
        return sums;
    }

    Gradient<Scalar>& gradient() { return total_; }

private:
    struct Slice {
        RowMatrix<Scalar> x, z;
        LabelVector labels;
        Vector<double> weights;
        Gradient<Scalar> grad;
        LossSums sums;
        Index rows = 0;
    };

    template <typename Feature>
    struct Job {
        BatchGradient* self;
        const LinearSoftmax<Scalar>* model;
        const CrossEntropy<Scalar>* loss;
        const RowMatrix<Feature>* features;
        const LabelVector* labels;
        const Vector<double>* weights;
        const Index* rows;
        Index count;
        const Preprocessor<Scalar>* pre;

        static void run(void* context, int t) { static_cast<Job*>(context)->slice(t); }

        void slice(int t) {
            Slice& s = self->slices_[static_cast<std::size_t>(t)];
            const Index threads = static_cast<Index>(self->slices_.size());
            const Index per = (count + threads - 1) / threads;
            const Index begin = std::min(count, per * t);
            const Index n = std::min(count, begin + per) - begin;
            s.rows = n;
            s.sums = LossSums{};
            if (n == 0) {
                s.grad.set_zero();
                return;
            }
            const Index* r = rows + begin;
            auto x = s.x.topRows(n);
            auto z = s.z.topRows(n);
            pre->gather(*features, r, n, x);
            for (Index i = 0; i < n; ++i) s.labels[i] = (*labels)[r[i]];
            const bool weighted = weights->size() != 0;
            if (weighted)
                for (Index i = 0; i < n; ++i) s.weights[i] = (*weights)[r[i]];
            z.noalias() = x * model->weight().transpose();
            z.rowwise() += model->bias().transpose();
            s.sums = loss->accumulate(z, s.labels.data(), weighted ? s.weights.data() : nullptr);
            s.grad.weight.noalias() = z.transpose() * x;
            s.grad.bias.noalias() = z.colwise().sum().transpose();
        }
    };

    std::vector<Slice> slices_;
    Gradient<Scalar> total_;
    Index max_batch_ = -1, features_ = -1, classes_ = -1;
};

}  // namespace logreg::detail
