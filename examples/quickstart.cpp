// The README's usage example (tests check that README.md shows exactly this file).
#include <logreg/logreg.hpp>

#include <iostream>

int main() {
    using namespace logreg;
    // 1000 samples with 20 features; class c is marked by a large feature c.
    RowMatrix<float> x = RowMatrix<float>::Random(1000, 20);
    LabelVector y(1000);
    for (Index i = 0; i < 1000; ++i) {
        y[i] = static_cast<int>(i % 3);
        x(i, y[i]) += 2.0f;
    }
    Dataset<float> data(std::move(x), std::move(y), /*num_classes=*/3);

    TrainOptions options;
    options.epochs = 10;
    options.batch_size = 32;
    options.sgd.lr = 0.1;
    options.sgd.momentum = 0.9;
    options.validation_fraction = 0.2;

    Trainer<float> trainer(LinearSoftmax<float>(20, 3, Init::uniform, /*seed=*/0), options);
    const auto pre = Preprocessor<float>::identity(20);
    TrainReport report = trainer.fit(data, pre);
    for (const EpochRecord& e : report.history)
        std::cout << "epoch " << e.epoch << "  train loss " << e.train_loss
                  << "  val accuracy " << e.val_accuracy << "\n";

    Evaluation ev = evaluate(trainer.model(), data, pre);
    std::cout << "accuracy " << ev.accuracy << "\n";
    return ev.accuracy > 0.9 ? 0 : 1;
}
