// logreg/metrics.hpp - accuracy, confusion matrix, per-class precision / recall / F1.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/types.hpp>

#include <vector>

namespace logreg {

namespace detail {
inline void check_same_length(const LabelVector& predicted, const LabelVector& truth, const char* what) {
    if (predicted.size() != truth.size())
        throw ShapeError(cat(what, ": ", predicted.size(), " predictions but ", truth.size(), " labels"));
    if (truth.size() == 0) throw DataError(cat(what, ": no samples"));
}
}  // namespace detail

/// Fraction of predictions equal to the labels.
inline double accuracy(const LabelVector& predicted, const LabelVector& truth) {
    detail::check_same_length(predicted, truth, "accuracy");
    return static_cast<double>((predicted.array() == truth.array()).count()) / static_cast<double>(truth.size());
}

/// counts(t, p): samples of true class t predicted as p (rows: truth, columns: prediction, as scikit-learn).
using ConfusionMatrix = Eigen::Matrix<long long, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline ConfusionMatrix confusion_matrix(const LabelVector& predicted, const LabelVector& truth, int num_classes) {
    detail::check_same_length(predicted, truth, "confusion_matrix");
    ConfusionMatrix m = ConfusionMatrix::Zero(num_classes, num_classes);
    for (Index i = 0; i < truth.size(); ++i) {
        if (truth[i] < 0 || truth[i] >= num_classes || predicted[i] < 0 || predicted[i] >= num_classes)
            throw DataError(detail::cat("confusion_matrix: sample ", i, " has label ", truth[i], " / prediction ",
                                        predicted[i], " outside [0, ", num_classes, ")"));
        ++m(truth[i], predicted[i]);
    }
    return m;
}

/// Per-class scores; a class with no predictions (or no samples) gets precision (recall) 0, like
/// scikit-learn's zero_division=0.
struct ClassScores {
    double precision = 0, recall = 0, f1 = 0;
    long long support = 0;  ///< number of true samples of the class
};

struct ClassificationReport {
    std::vector<ClassScores> classes;
    double accuracy = 0;
    double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
    ConfusionMatrix confusion;
};

inline ClassificationReport classification_report(const ConfusionMatrix& cm) {
    ClassificationReport r;
    r.confusion = cm;
    const Index k = cm.rows();
    long long total = 0, correct = 0;
    for (Index c = 0; c < k; ++c) {
        const long long tp = cm(c, c), actual = cm.row(c).sum(), predicted = cm.col(c).sum();
        ClassScores s;
        s.support = actual;
        s.precision = predicted > 0 ? static_cast<double>(tp) / static_cast<double>(predicted) : 0.0;
        s.recall = actual > 0 ? static_cast<double>(tp) / static_cast<double>(actual) : 0.0;
        s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
        r.classes.push_back(s);
        r.macro_precision += s.precision / static_cast<double>(k);
        r.macro_recall += s.recall / static_cast<double>(k);
        r.macro_f1 += s.f1 / static_cast<double>(k);
        total += actual;
        correct += tp;
    }
    r.accuracy = total > 0 ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
    return r;
}

inline ClassificationReport classification_report(const LabelVector& predicted, const LabelVector& truth,
                                                  int num_classes) {
    return classification_report(confusion_matrix(predicted, truth, num_classes));
}

}  // namespace logreg
