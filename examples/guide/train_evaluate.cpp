// Guide, sections 5 and 6: training with Trainer, loss checkpoints, evaluation and the mistakes
// the model makes (docs/guide.md shows the marked regions). Needs LOGREG_MNIST_DIR.
#include "mnist_or_skip.hpp"

#include <logreg/io/mnist.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/logreg.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>

// [ascii]
// One MNIST digit as text, two pixel rows per line: ' ' blank, '.' faint, '+' grey, '#' ink.
void print_digit(const logreg::RowMatrix<std::uint8_t>& images, logreg::Index i) {
    for (int r = 0; r < 28; r += 2) {
        for (int c = 0; c < 28; ++c) {
            const int v = std::max(images(i, r * 28 + c), images(i, (r + 1) * 28 + c));
            std::cout << (v > 170 ? '#' : v > 85 ? '+' : v > 0 ? '.' : ' ');
        }
        std::cout << "\n";
    }
}
// [ascii]

int main() {
    using namespace logreg;
    const auto mnist = guide::mnist_dir_or_skip();
    if (!mnist) return 0;
    const auto train = io::load_mnist(*mnist, io::MnistSplit::train);
    const auto test = io::load_mnist(*mnist, io::MnistSplit::test);
    // [trainer]
    TrainOptions options;  // the defaults of mnist_train
    options.epochs = 10;
    options.batch_size = 64;
    options.sgd.lr = 0.5;
    options.schedule = Schedule::cosine(/*t_max=*/10);
    options.validation_fraction = 0.1;  // hold out 6000 training images
    options.seed = 0;                   // the split, the shuffles
    Trainer<float> trainer(LinearSoftmax<float>(784, 10, Init::uniform, /*seed=*/0), options);
    const auto pre = Preprocessor<float>::unit(784);
    // [trainer]

    // [checkpoints]
    Callbacks callbacks;
    callbacks.on_batch = [](const BatchRecord& b) {
        if (b.epoch == 1 && (b.batch + 1) % 200 == 0)
            std::printf("epoch 1  batch %3lld  loss %.4f\n", static_cast<long long>(b.batch + 1), b.loss);
        return true;  // false stops training
    };
    callbacks.on_epoch = [](const EpochRecord& e) {
        std::printf("epoch %2d  train loss %.4f  val loss %.4f  val acc %.4f  lr %.3f\n", e.epoch, e.train_loss,
                    e.val_loss, e.val_accuracy, e.lr);
        return true;
    };
    trainer.set_callbacks(callbacks);
    const TrainReport report = trainer.fit(train, pre);
    std::cout << to_string(report.reason) << ", " << report.batch_losses.size() << " batch losses recorded\n";
    io::save_model("guide-model.safetensors", trainer.model(), pre);  // torch.save(model.state_dict(), ...)
    // [checkpoints]

    // [evaluate]
    const Evaluation ev = evaluate(trainer.model(), test, pre);
    const ClassificationReport cls = classification_report(ev.predictions, ev.labels, 10);
    std::printf("test accuracy %.4f  test loss %.4f\n", ev.accuracy, ev.loss);
    std::cout << "confusion matrix (rows: true digit, columns: predicted digit)\n" << cls.confusion << "\n";
    std::cout << "digit  precision  recall\n";
    for (std::size_t c = 0; c < 10; ++c)
        std::printf("%5zu  %9.3f  %6.3f\n", c, cls.classes[c].precision, cls.classes[c].recall);
    // [evaluate]

    // [mistakes]
    const RowMatrix<float> p = trainer.model().predict_proba(pre.transform(test.features()));
    int shown = 0;
    for (Index i = 0; i < test.size() && shown < 3; ++i) {
        if (ev.predictions[i] == ev.labels[i]) continue;
        std::printf("test image %lld: label %d, predicted %d with p = %.3f (p of the label: %.3f)\n",
                    static_cast<long long>(i), ev.labels[i], ev.predictions[i], p(i, ev.predictions[i]),
                    p(i, ev.labels[i]));
        print_digit(test.features(), i);
        ++shown;
    }
    // [mistakes]
    return ev.accuracy > 0.92 ? 0 : 1;
}
