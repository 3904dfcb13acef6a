// Guide, section 4: loss and optimizer (docs/guide.md shows the marked regions).
#include <logreg/logreg.hpp>

#include <cstdio>
#include <iostream>

int main() {
    using namespace logreg;
    // [loss]
    RowMatrix<float> z(2, 3);  // logits of 2 samples over 3 classes
    z << 2.0f, 1.0f, 0.1f, 0.5f, 2.5f, 0.3f;
    LabelVector y(2);
    y << 0, 1;
    const CrossEntropy<float> criterion;  // nn.CrossEntropyLoss()
    std::cout << "loss " << criterion.loss(z, y) << "\n";

    CrossEntropyOptions smooth;  // nn.CrossEntropyLoss(label_smoothing=0.1)
    smooth.label_smoothing = 0.1;
    std::cout << "with label smoothing 0.1: " << CrossEntropy<float>(smooth).loss(z, y) << "\n";
    // [loss]

    // [optimizer]
    SGDParams params;  // optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    params.lr = 0.05;
    params.momentum = 0.9;
    params.weight_decay = 1e-4;
    SGD<float> optimizer(params);  // throws InvalidParameter naming the field if a value is out of range
    // [optimizer]

    // [step]
    LinearSoftmax<float> model(3, 3);  // 3 features, 3 classes, all zero
    const RowMatrix<float> x = RowMatrix<float>::Identity(3, 3);
    const LabelVector labels = (LabelVector(3) << 0, 1, 2).finished();
    RowMatrix<float> g;
    Gradient<float> grad;
    for (int step = 1; step <= 5; ++step) {
        model.logits(x, g);                                       // forward
        const double l = criterion.loss_and_gradient(g, labels);  // loss, and g = dL/dZ
        model.backward(x, g, grad);                               // backward: dL/dW, dL/db
        optimizer.step(model, grad, params.lr);                   // update (momentum and decay included)
        std::cout << "step " << step << "  loss " << l << "\n";
    }
    // [step]

    // [schedule]
    const Schedule cosine = Schedule::cosine(/*t_max=*/10);                   // CosineAnnealingLR(optimizer, T_max=10)
    const Schedule step_lr = Schedule::step(/*step_size=*/3, /*gamma=*/0.1);  // StepLR(optimizer, 3, 0.1)
    std::printf("epoch  cosine    step\n");
    for (long long epoch = 0; epoch < 10; epoch += 3)
        std::printf("%5lld  %.4f  %.4f\n", epoch, cosine(0.5, epoch), step_lr(0.5, epoch));
    // [schedule]
    return criterion.loss(model.logits(x), labels) < 1.0 ? 0 : 1;
}
