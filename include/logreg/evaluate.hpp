// logreg/evaluate.hpp - mean loss, accuracy and predictions of a model on a data set.
#pragma once

#include <logreg/cross_entropy.hpp>
#include <logreg/dataset.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/metrics.hpp>
#include <logreg/preprocess.hpp>

#include <algorithm>
#include <limits>

namespace logreg {

/// What evaluate() measures.
struct Evaluation {
    double loss = std::numeric_limits<double>::quiet_NaN();  ///< mean (weighted) cross-entropy
    double accuracy = 0;                                     ///< unweighted fraction correct
    LabelVector predictions;                                 ///< one per evaluated sample, in order
    LabelVector labels;                                      ///< the matching true labels
};

/// Evaluates `model` on the rows `rows` of `data` (all rows when `rows` is null), preprocessing
/// `chunk` rows at a time so that a uint8 data set is never converted whole.
template <typename Scalar, typename Feature, typename Loss = CrossEntropy<Scalar>>
Evaluation evaluate(const LinearSoftmax<Scalar>& model, const Dataset<Feature>& data, const Preprocessor<Scalar>& pre,
                    const Loss& loss = Loss(), const IndexVector* rows = nullptr, Index chunk = 1024) {
    model.check_features(data.num_features());
    pre.check_features(data.num_features());
    const IndexVector all = rows ? IndexVector() : iota(data.size());
    const IndexVector& idx = rows ? *rows : all;
    if (idx.size() == 0) throw DataError("evaluate: no samples to evaluate");
    Evaluation ev;
    ev.predictions.resize(idx.size());
    ev.labels.resize(idx.size());
    RowMatrix<Scalar> x(std::min(chunk, idx.size()), data.num_features());
    RowMatrix<Scalar> z(x.rows(), model.num_classes());
    Vector<double> w(x.rows());
    LossSums sums;
    long long correct = 0;
    const bool weighted = data.sample_weights().size() != 0;
    for (Index begin = 0; begin < idx.size(); begin += chunk) {
        const Index n = std::min(chunk, idx.size() - begin);
        auto xb = x.topRows(n);
        auto zb = z.topRows(n);
        pre.gather(data.features(), idx.data() + begin, n, xb);
        zb.noalias() = xb * model.weight().transpose();
        zb.rowwise() += model.bias().transpose();
        for (Index i = 0; i < n; ++i) {
            Index arg = 0;
            zb.row(i).maxCoeff(&arg);
            ev.predictions[begin + i] = static_cast<std::int32_t>(arg);
            ev.labels[begin + i] = data.labels()[idx[begin + i]];
            correct += ev.predictions[begin + i] == ev.labels[begin + i];
            if (weighted) w[i] = data.sample_weights()[idx[begin + i]];
        }
        sums += loss.accumulate(zb, ev.labels.data() + begin, weighted ? w.data() : nullptr);
    }
    ev.loss = sums.weight_sum > 0 ? sums.mean() : std::numeric_limits<double>::quiet_NaN();
    ev.accuracy = static_cast<double>(correct) / static_cast<double>(idx.size());
    return ev;
}

}  // namespace logreg
