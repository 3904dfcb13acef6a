// Guide, section 3: the model (docs/guide.md shows the marked regions).
#include <logreg/logreg.hpp>

#include <cmath>
#include <iostream>

int main() {
    using namespace logreg;
    // [model]
    LinearSoftmax<float> model(784, 10, Init::uniform, /*seed=*/0);  // nn.Linear(784, 10)
    // A stand-in for a batch of 64 images with pixels in [0, 1] (section 2 loads the real ones).
    const RowMatrix<float> x = (RowMatrix<float>::Random(64, 784).array() + 1) / 2;
    const RowMatrix<float> z = model.logits(x);         // model(x): 64 x 10 scores, X W^T + b
    const RowMatrix<float> p = model.predict_proba(x);  // torch.softmax(model(x), dim=1)
    const LabelVector predicted = model.predict(x);     // model(x).argmax(dim=1)
    std::cout << "W: " << model.weight().rows() << " x " << model.weight().cols() << ", b: " << model.bias().size()
              << ", logits: " << z.rows() << " x " << z.cols() << "\n"
              << "row 0: p sums to " << p.row(0).sum() << ", predicted class " << predicted[0] << "\n";
    // [model]

    // [stable]
    Vector<float> scores(3);
    scores << 1000, 999, 0;
    const Vector<float> naive = scores.array().exp() / scores.array().exp().sum();  // inf / inf
    const Vector<float> e = (scores.array() - scores.maxCoeff()).exp();             // exponents <= 0
    const Vector<float> stable = e / e.sum();
    std::cout << "naive softmax:   " << naive.transpose() << "\nshifted softmax: " << stable.transpose() << "\n";
    // [stable]

    // [gradient]
    LabelVector y = LabelVector::Zero(64);  // pretend every image is a 0
    RowMatrix<float> g = model.logits(x);
    const CrossEntropy<float> loss;
    const double l = loss.loss_and_gradient(g, y);  // the mean loss; g becomes dL/dZ = (P - Y) / B
    Gradient<float> grad;
    model.backward(x, g, grad);  // dL/dW = G^T X (10 x 784), dL/db = column sums of G
    std::cout << "loss " << l << ", dL/dZ(0, 0) = " << g(0, 0) << " = (P(0, 0) - 1) / 64 = " << (p(0, 0) - 1) / 64
              << "\n";
    // [gradient]
    const bool ok = std::abs(p.row(0).sum() - 1) < 1e-5f && stable.allFinite() && !naive.allFinite() &&
                    std::abs(g(0, 0) - (p(0, 0) - 1) / 64) < 1e-6f;
    return ok ? 0 : 1;
}
