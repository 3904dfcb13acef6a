// logreg/pipeline.hpp - a fitted model as one unit: preprocessing, linear softmax and class names.
//
// Like scikit-learn's make_pipeline(StandardScaler(), LogisticRegression()): predict() and
// predict_proba() take raw features, so the preprocessing can neither be forgotten nor applied
// twice, and the class names travel with the model (io::save_pipeline / io::load_pipeline store
// all three in one safetensors file).
//
// fit_pipeline() makes the leak of statistics from held-out rows impossible by construction: the
// preprocessor is computed from the training rows alone, after the split, and validation rows
// only ever see it applied.
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/evaluate.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/preprocess.hpp>
#include <logreg/types.hpp>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace logreg {

/// Preprocessing, model and class names: the unit of prediction and of the model file.
template <typename Scalar>
class Pipeline {
public:
    /// `class_names` empty: "0", "1", ...
    Pipeline(Preprocessor<Scalar> preprocessor, LinearSoftmax<Scalar> model, std::vector<std::string> class_names = {})
        : preprocessor_(std::move(preprocessor)), model_(std::move(model)), class_names_(std::move(class_names)) {
        if (preprocessor_.num_features() != model_.num_features())
            throw ShapeError(detail::cat("Pipeline: the preprocessor has ", preprocessor_.num_features(),
                                         " features but the model has ", model_.num_features()));
        if (class_names_.empty())
            for (Index c = 0; c < model_.num_classes(); ++c) class_names_.push_back(std::to_string(c));
        if (static_cast<Index>(class_names_.size()) != model_.num_classes())
            throw ShapeError(
                detail::cat("Pipeline: ", class_names_.size(), " class names for ", model_.num_classes(), " classes"));
    }

    const Preprocessor<Scalar>& preprocessor() const { return preprocessor_; }
    const LinearSoftmax<Scalar>& model() const { return model_; }
    const std::vector<std::string>& class_names() const { return class_names_; }
    Index num_features() const { return model_.num_features(); }
    Index num_classes() const { return model_.num_classes(); }

    /// The logits (one row per sample, one column per class) of raw feature rows.
    template <typename Derived>
    RowMatrix<Scalar> decision_function(const Eigen::MatrixBase<Derived>& x) const {
        return model_.logits(preprocessor_.transform(x));
    }

    /// Class probabilities of raw feature rows; every row sums to 1.
    template <typename Derived>
    RowMatrix<Scalar> predict_proba(const Eigen::MatrixBase<Derived>& x) const {
        return model_.predict_proba(preprocessor_.transform(x));
    }

    /// The most probable class index of each raw feature row (the first one on ties).
    template <typename Derived>
    LabelVector predict(const Eigen::MatrixBase<Derived>& x) const {
        return model_.predict(preprocessor_.transform(x));
    }

    /// The name of the most probable class of each raw feature row.
    template <typename Derived>
    std::vector<std::string> predict_names(const Eigen::MatrixBase<Derived>& x) const {
        const LabelVector p = predict(x);
        std::vector<std::string> names;
        names.reserve(static_cast<std::size_t>(p.size()));
        for (Index i = 0; i < p.size(); ++i) names.push_back(class_names_[static_cast<std::size_t>(p[i])]);
        return names;
    }

    /// Mean cross-entropy, accuracy and predictions on a data set (all rows, or `rows`).
    template <typename Feature>
    Evaluation evaluate(const Dataset<Feature>& data, const IndexVector* rows = nullptr) const {
        return logreg::evaluate(model_, data, preprocessor_, CrossEntropy<Scalar>(), rows);
    }

private:
    Preprocessor<Scalar> preprocessor_;
    LinearSoftmax<Scalar> model_;
    std::vector<std::string> class_names_;
};

/// A preprocessor of kind `kind` fitted on the rows `rows` of `data`: `standard` computes each
/// feature's mean and standard deviation there; `unit` divides by `unit_max`.
template <typename Scalar, typename Feature>
Preprocessor<Scalar> fit_preprocessor(Normalization kind, const Dataset<Feature>& data, const IndexVector& rows,
                                      double unit_max = 255.0) {
    switch (kind) {
        case Normalization::standard:
            return Preprocessor<Scalar>::standard(data, rows);
        case Normalization::unit:
            return Preprocessor<Scalar>::unit(data.num_features(), unit_max);
        case Normalization::none:
            break;
    }
    return Preprocessor<Scalar>::identity(data.num_features());
}

/// What fit_pipeline() returns: the fitted pipeline, the fitter's own report (TrainReport for a
/// Trainer, SolverReport for LBFGS) and, when there were validation rows, the final model's
/// evaluation on them.
template <typename Scalar, typename Report>
struct PipelineFit {
    Pipeline<Scalar> pipeline;
    Report report;
    std::optional<Evaluation> validation;
};

namespace detail {
/// True for fitters that validate during training (Trainer), false for LBFGS.
template <typename Fitter, typename Feature, typename Scalar, typename = void>
struct validates_while_fitting : std::false_type {};
template <typename Fitter, typename Feature, typename Scalar>
struct validates_while_fitting<Fitter, Feature, Scalar,
                               std::void_t<decltype(std::declval<Fitter&>().fit_rows(
                                   std::declval<const Dataset<Feature>&>(), std::declval<const IndexVector&>(),
                                   std::declval<const Dataset<Feature>*>(), std::declval<const IndexVector*>(),
                                   std::declval<const Preprocessor<Scalar>&>()))>> : std::true_type {};
}  // namespace detail

/// Fits `fitter` (a Trainer or an LBFGS solver, holding the model to train) on the rows
/// `train_rows` of `data`, with a preprocessor of kind `kind` computed from those rows only. A
/// Trainer validates on `validation_rows` after every epoch (early stopping included); for any
/// fitter the final model is evaluated on them. `class_names` empty: "0", "1", ...
template <typename Fitter, typename Feature>
auto fit_pipeline(Fitter& fitter, const Dataset<Feature>& data, const IndexVector& train_rows,
                  const IndexVector& validation_rows, Normalization kind, std::vector<std::string> class_names = {},
                  double unit_max = 255.0) {
    using Scalar = typename std::decay_t<decltype(fitter.model())>::scalar_type;
    if (train_rows.size() == 0) throw DataError("fit_pipeline: no training rows");
    const Preprocessor<Scalar> pre = fit_preprocessor<Scalar>(kind, data, train_rows, unit_max);
    const bool validate = validation_rows.size() > 0;
    auto report = [&] {
        if constexpr (detail::validates_while_fitting<Fitter, Feature, Scalar>::value)
            return fitter.fit_rows(data, train_rows, validate ? &data : nullptr, validate ? &validation_rows : nullptr,
                                   pre);
        else
            return fitter.fit_rows(data, train_rows, pre);
    }();
    Pipeline<Scalar> pipeline(pre, fitter.model(), std::move(class_names));
    std::optional<Evaluation> validation;
    if (validate) validation = pipeline.evaluate(data, &validation_rows);
    return PipelineFit<Scalar, decltype(report)>{std::move(pipeline), std::move(report), std::move(validation)};
}

/// The same on all rows of `data`, except that a Trainer whose options().validation_fraction is
/// above 0 holds out that fraction (seeded by options().seed) for validation - after the split, so
/// the held-out rows never reach the preprocessor's statistics.
template <typename Fitter, typename Feature>
auto fit_pipeline(Fitter& fitter, const Dataset<Feature>& data, Normalization kind,
                  std::vector<std::string> class_names = {}, double unit_max = 255.0) {
    using Scalar = typename std::decay_t<decltype(fitter.model())>::scalar_type;
    if constexpr (detail::validates_while_fitting<Fitter, Feature, Scalar>::value) {
        if (fitter.options().validation_fraction > 0) {
            const Split s =
                train_validation_split(data.size(), fitter.options().validation_fraction, fitter.options().seed);
            return fit_pipeline(fitter, data, s.train, s.validation, kind, std::move(class_names), unit_max);
        }
    }
    return fit_pipeline(fitter, data, iota(data.size()), IndexVector(), kind, std::move(class_names), unit_max);
}

}  // namespace logreg
