// Metrics: accuracy, confusion matrix, precision / recall / F1 against hand counts.
#include "test_support.hpp"

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace metrics_test {

using namespace logreg;

TEST_CASE("confusion matrix and per-class scores", "[metrics]") {
    LabelVector truth(8), pred(8);
    truth << 0, 0, 0, 1, 1, 2, 2, 2;
    pred << 0, 1, 0, 1, 1, 2, 0, 1;
    REQUIRE(accuracy(pred, truth) == Approx(5.0 / 8));
    const ConfusionMatrix cm = confusion_matrix(pred, truth, 3);
    ConfusionMatrix expected(3, 3);
    expected << 2, 1, 0, 0, 2, 0, 1, 1, 1;
    REQUIRE(cm == expected);
    const auto r = classification_report(cm);
    REQUIRE(r.accuracy == Approx(5.0 / 8));
    REQUIRE(r.classes[0].precision == Approx(2.0 / 3));
    REQUIRE(r.classes[0].recall == Approx(2.0 / 3));
    REQUIRE(r.classes[1].precision == Approx(0.5));
    REQUIRE(r.classes[1].recall == Approx(1.0));
    REQUIRE(r.classes[1].f1 == Approx(2 * 0.5 / 1.5));
    REQUIRE(r.classes[2].precision == Approx(1.0));
    REQUIRE(r.classes[2].recall == Approx(1.0 / 3));
    REQUIRE(r.classes[2].support == 3);
    REQUIRE(r.macro_recall == Approx((2.0 / 3 + 1.0 + 1.0 / 3) / 3));
}

TEST_CASE("a class never predicted has precision 0, not NaN", "[metrics]") {
    LabelVector truth(3), pred(3);
    truth << 0, 1, 2;
    pred << 0, 0, 0;
    const auto r = classification_report(pred, truth, 3);
    REQUIRE(r.classes[1].precision == 0.0);
    REQUIRE(r.classes[1].f1 == 0.0);
}

TEST_CASE("evaluate reports mean loss and accuracy matching direct computation", "[metrics]") {
    const auto data = logreg_test::blobs<double>(2500, 6, 3, 50);  // more rows than one evaluation chunk
    LinearSoftmax<double> m(6, 3, Init::uniform, 3);
    const auto pre = Preprocessor<double>::identity(6);
    const Evaluation ev = evaluate(m, data, pre);
    REQUIRE(ev.predictions == m.predict(data.features()));
    REQUIRE(ev.accuracy == Approx(accuracy(m.predict(data.features()), data.labels())));
    REQUIRE(ev.loss == Approx(CrossEntropy<double>().loss(m.logits(data.features()), data.labels())).epsilon(1e-12));
}

}  // namespace metrics_test
