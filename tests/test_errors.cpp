// Every error named in the design: the right exception type, a message naming the value.
#include "test_support.hpp"

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace errors_test {

using namespace logreg;
using logreg_test::contains;

TEST_CASE("all logreg exceptions derive from logreg::Error and std::exception", "[errors]") {
    REQUIRE_THROWS_AS(throw ShapeError("x"), Error);
    REQUIRE_THROWS_AS(throw FormatError("x"), IoError);
    REQUIRE_THROWS_AS(throw InvalidParameter("x"), std::exception);
}

TEST_CASE("shape mismatch between model and data", "[errors]") {
    const auto data = logreg_test::blobs<double>(10, 4, 2, 60);
    Trainer<double> t(LinearSoftmax<double>(5, 2), TrainOptions{});
    REQUIRE_THROWS_AS(t.fit(data, Preprocessor<double>::identity(4)), ShapeError);
    REQUIRE_THROWS_WITH(t.fit(data, Preprocessor<double>::identity(4)), contains("4 features but the model has 5"));
    LinearSoftmax<double> m(5, 2);
    REQUIRE_THROWS_AS(m.logits(data.features()), ShapeError);
    Trainer<double> classes(LinearSoftmax<double>(4, 3), TrainOptions{});
    REQUIRE_THROWS_WITH(classes.fit(data, Preprocessor<double>::identity(4)),
                        contains("2 classes but the model has 3"));
}

TEST_CASE("labels outside 0 to classes - 1", "[errors]") {
    RowMatrix<float> x = RowMatrix<float>::Zero(3, 2);
    LabelVector y(3);
    y << 0, 5, 1;
    REQUIRE_THROWS_AS(Dataset<float>(x, y, 3), DataError);
    REQUIRE_THROWS_WITH(Dataset<float>(x, y, 3), contains("label 5 of sample 1"));
    y[1] = -1;
    REQUIRE_THROWS_WITH(Dataset<float>(x, y, 3), contains("label -1"));
    RowMatrix<float> z = RowMatrix<float>::Zero(1, 3);
    LabelVector bad(1);
    bad << 3;
    REQUIRE_THROWS_AS(CrossEntropy<float>().loss(z, bad), DataError);
}

TEST_CASE("empty data", "[errors]") {
    const Dataset<float> empty(RowMatrix<float>(0, 3), LabelVector(0), 2);
    Trainer<float> t(LinearSoftmax<float>(3, 2), TrainOptions{});
    REQUIRE_THROWS_AS(t.fit(empty, Preprocessor<float>::identity(3)), DataError);
    REQUIRE_THROWS_WITH(t.fit(empty, Preprocessor<float>::identity(3)), contains("empty"));
    REQUIRE_THROWS_AS(evaluate(LinearSoftmax<float>(3, 2), empty, Preprocessor<float>::identity(3)), DataError);
}

TEST_CASE("batch size 0 and other bad options name the field", "[errors]") {
    TrainOptions o;
    o.batch_size = 0;
    REQUIRE_THROWS_WITH(Trainer<float>(LinearSoftmax<float>(3, 2), o), contains("'batch_size' is 0"));
    o = TrainOptions{};
    o.sgd.lr = -1;
    REQUIRE_THROWS_WITH(Trainer<float>(LinearSoftmax<float>(3, 2), o), contains("'lr' is -1"));
    o = TrainOptions{};
    o.threads = 0;
    REQUIRE_THROWS_WITH(Trainer<float>(LinearSoftmax<float>(3, 2), o), contains("'threads'"));
    o = TrainOptions{};
    o.validation_fraction = 1.5;
    REQUIRE_THROWS_WITH(Trainer<float>(LinearSoftmax<float>(3, 2), o), contains("'validation_fraction'"));
    CrossEntropyOptions ce;
    ce.label_smoothing = 2;
    REQUIRE_THROWS_WITH(Trainer<float>(LinearSoftmax<float>(3, 2), TrainOptions{}, ce), contains("label_smoothing"));
}

TEST_CASE("non-finite features and parameters", "[errors]") {
    RowMatrix<double> x = RowMatrix<double>::Zero(2, 2);
    x(1, 0) = std::nan("");
    REQUIRE_THROWS_AS(Dataset<double>(x, LabelVector::Zero(2), 2), DataError);
    REQUIRE_THROWS_WITH(Dataset<double>(x, LabelVector::Zero(2), 2), contains("feature 0 of sample 1 is nan"));
    x(1, 0) = HUGE_VAL;
    REQUIRE_THROWS_WITH(Dataset<double>(x, LabelVector::Zero(2), 2), contains("inf"));
    REQUIRE_THROWS_AS(Preprocessor<double>(Normalization::standard, Vector<double>::Constant(2, std::nan("")),
                                           Vector<double>::Ones(2)),
                      NumericalError);
    LinearSoftmax<double> m(2, 2);
    m.weight()(0, 0) = std::nan("");
    REQUIRE_FALSE(m.all_finite());
    REQUIRE_THROWS_AS(LinearSoftmax<double>(0, 2), InvalidParameter);
    REQUIRE_THROWS_AS(LinearSoftmax<double>(3, 1), InvalidParameter);
}

}  // namespace errors_test
