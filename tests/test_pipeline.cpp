// The fitted pipeline: predictions from raw features equal the model's on preprocessed ones
// (checked in double against a plain reference), probabilities sum to 1, and fit_pipeline
// computes the preprocessor from the training rows only - never from validation rows.
#include "test_support.hpp"

#include <logreg/lbfgs.hpp>
#include <logreg/pipeline.hpp>
#include <logreg/train.hpp>

#include <cmath>

using namespace logreg;

namespace pipeline_test {

/// Rows whose features are centred on 100 * label, so that standardizing matters.
Dataset<float> shifted_data(Index n, Index d, int classes, std::mt19937_64& gen) {
    RowMatrix<float> x = logreg_test::random_matrix<float>(n, d, gen, 3.0);
    const LabelVector y = logreg_test::random_labels(n, classes, gen);
    for (Index i = 0; i < n; ++i) x.row(i).array() += 100.0f * static_cast<float>(y[i]) + 7.0f;
    return Dataset<float>(std::move(x), y, classes);
}

/// Column means over `rows`, in double: the reference for the preprocessor's offsets.
Vector<double> mean_of(const Dataset<float>& data, const IndexVector& rows) {
    Vector<double> m = Vector<double>::Zero(data.num_features());
    for (Index k = 0; k < rows.size(); ++k) m += data.features().row(rows[k]).cast<double>().transpose();
    return m / static_cast<double>(rows.size());
}

}  // namespace pipeline_test

using namespace pipeline_test;

TEST_CASE("pipeline predictions from raw features match a double-precision reference", "[pipeline]") {
    auto gen = logreg_test::rng(1603);
    const Dataset<float> data = shifted_data(50, 6, 3, gen);
    const Preprocessor<double> pre = Preprocessor<double>::standard(data, iota(data.size()));
    LinearSoftmax<double> model(6, 3);
    model.weight() = logreg_test::random_matrix<double>(3, 6, gen);
    model.bias() = logreg_test::random_matrix<double>(3, 1, gen).col(0);
    const Pipeline<double> p(pre, model, {"a", "b", "c"});
    const RowMatrix<float>& x = data.features();

    const RowMatrix<double> z = p.decision_function(x);
    const RowMatrix<double> prob = p.predict_proba(x);
    const LabelVector pred = p.predict(x);
    const std::vector<std::string> names = p.predict_names(x);
    for (Index i = 0; i < x.rows(); ++i) {
        double zmax = -1e300;
        Vector<double> zi(3);
        for (Index c = 0; c < 3; ++c) {
            double s = model.bias()[c];
            for (Index j = 0; j < 6; ++j)
                s += model.weight()(c, j) * ((static_cast<double>(x(i, j)) - pre.offset()[j]) * pre.scale()[j]);
            zi[c] = s;
            zmax = std::max(zmax, s);
        }
        const double norm = (zi.array() - zmax).exp().sum();
        Index best = 0;
        zi.maxCoeff(&best);
        for (Index c = 0; c < 3; ++c) {
            CHECK(std::abs(z(i, c) - zi[c]) <= 1e-9 * std::max(1.0, std::abs(zi[c])));
            CHECK(std::abs(prob(i, c) - std::exp(zi[c] - zmax) / norm) <= 1e-12);
        }
        CHECK(std::abs(prob.row(i).sum() - 1.0) <= 1e-12);
        CHECK(pred[i] == best);
        CHECK(names[static_cast<std::size_t>(i)] == std::string(1, static_cast<char>('a' + best)));
    }
    CHECK(p.evaluate(data).predictions == pred);
}

TEST_CASE("pipeline shapes and class names are checked", "[pipeline][errors]") {
    CHECK_THROWS_AS(Pipeline<float>(Preprocessor<float>::identity(4), LinearSoftmax<float>(5, 3)), ShapeError);
    CHECK_THROWS_AS(Pipeline<float>(Preprocessor<float>::identity(5), LinearSoftmax<float>(5, 3), {"x", "y"}),
                    ShapeError);
    const Pipeline<float> p(Preprocessor<float>::identity(5), LinearSoftmax<float>(5, 3));
    CHECK(p.class_names() == std::vector<std::string>{"0", "1", "2"});
    CHECK_THROWS_AS(p.predict(RowMatrix<float>::Zero(2, 4)), ShapeError);
}

TEST_CASE("fit_pipeline computes the preprocessor from the training rows only", "[pipeline]") {
    auto gen = logreg_test::rng(1604);
    const Dataset<float> data = shifted_data(400, 5, 4, gen);

    SECTION("a Trainer holding out options().validation_fraction") {
        TrainOptions o;
        o.epochs = 3;
        o.validation_fraction = 0.25;
        o.seed = 11;
        Trainer<float> trainer(LinearSoftmax<float>(5, 4), o);
        const auto fit = fit_pipeline(trainer, data, Normalization::standard, {"w", "x", "y", "z"});
        const Split s = train_validation_split(data.size(), 0.25, 11);
        const Vector<double> train_mean = mean_of(data, s.train), all_mean = mean_of(data, iota(data.size()));
        const Vector<double> offset = fit.pipeline.preprocessor().offset().cast<double>();
        CHECK((offset - train_mean).cwiseAbs().maxCoeff() <= 1e-4 * train_mean.cwiseAbs().maxCoeff());
        // Not the statistics of all rows: those include the validation rows (the leak).
        CHECK((offset - all_mean).cwiseAbs().maxCoeff() > 1e-2);
        REQUIRE(fit.validation.has_value());
        CHECK(fit.validation->labels.size() == s.validation.size());
        REQUIRE(fit.report.history.size() == 3);
        CHECK(fit.report.history.back().val_accuracy == Approx(fit.validation->accuracy));
        CHECK(fit.pipeline.class_names()[3] == "z");
    }
    SECTION("explicit train and validation rows, and the L-BFGS solver") {
        const ThreeWaySplit s = stratified_split(data, 0.2, 0.2, 5);
        LBFGS<double> solver(LinearSoftmax<double>(5, 4));
        const auto fit = fit_pipeline(solver, data, s.train, s.validation, Normalization::standard);
        const Vector<double> train_mean = mean_of(data, s.train);
        CHECK((fit.pipeline.preprocessor().offset() - train_mean).cwiseAbs().maxCoeff() <=
              1e-9 * train_mean.cwiseAbs().maxCoeff());
        REQUIRE(fit.validation.has_value());
        CHECK(fit.validation->accuracy > 0.9);  // the classes are 100 standard deviations apart
        CHECK(fit.pipeline.evaluate(data, &s.test).accuracy > 0.9);
    }
    SECTION("no rows to train on") {
        Trainer<float> trainer(LinearSoftmax<float>(5, 4));
        CHECK_THROWS_AS(fit_pipeline(trainer, data, IndexVector(), IndexVector(), Normalization::standard), DataError);
    }
}
