// Guide, section 7: the notebook's pictures from C++ — the report page filled from a TrainReport,
// the loss curve as a figure of its own, and the ten learned weight templates as images
// (docs/guide.md shows the marked regions). Needs MNIST.
#include "mnist_or_skip.hpp"

#include <logreg/io/mnist.hpp>
#include <logreg/io/png.hpp>
#include <logreg/io/report.hpp>
#include <logreg/logreg.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <vector>

int main() {
    using namespace logreg;
    const auto mnist = guide::mnist_dir_or_skip();
    if (!mnist) return 0;
    const auto train = io::load_mnist(*mnist, io::MnistSplit::train);
    const auto test = io::load_mnist(*mnist, io::MnistSplit::test);
    TrainOptions options;  // the defaults of mnist_train, as in section 5
    options.sgd.lr = 0.5;
    options.schedule = Schedule::cosine(/*t_max=*/10);
    options.validation_fraction = 0.1;
    Trainer<float> trainer(LinearSoftmax<float>(784, 10, Init::uniform, /*seed=*/0), options);
    const auto pre = Preprocessor<float>::unit(784);
    const TrainReport report = trainer.fit(train, pre);

    // [report]
    const Evaluation ev = evaluate(trainer.model(), test, pre);
    const RowMatrix<float> proba = trainer.model().predict_proba(pre.transform(test.features()));
    io::ReportData page;
    page.title = "MNIST, softmax regression";
    page.batch_losses = report.batch_losses;  // the loss of every batch: plt.plot(losses)
    page.epochs = report.history;             // train/validation loss and accuracy per epoch
    page.confusion = classification_report(ev.predictions, ev.labels, 10).confusion;
    page.test_accuracy = ev.accuracy;
    page.test_loss = ev.loss;
    // 24 correct and 24 wrong test digits with predicted and true labels, as the notebook's grid
    page.samples = io::pick_samples(test.features(), 28, 28, ev.labels, ev.predictions, proba);
    page.settings = {{"epochs", "10"}, {"batch size", "64"}, {"lr", "0.5, cosine"}};
    io::write_html_report("guide-report.html", page);
    // [report]

    // [loss-curve]
    io::write_loss_curve_svg("guide-loss-curve.svg", page);  // plt.savefig("loss.svg")
    // [loss-curve]

    // [weights]
    // Row c of W, as a 28 x 28 image, is the template that class c's score matches against the
    // pixels: red where ink raises the score, blue where it lowers it (plt.imshow(W[c].reshape(28, 28),
    // cmap="bwr")). Ten templates side by side, each enlarged 4x, 8 pixels apart.
    const RowMatrix<float>& w = trainer.model().weight();
    const int scale = 4, gap = 8, side = 28 * scale, width = 10 * side + 9 * gap;
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(3 * width * side), 255);
    for (int c = 0; c < 10; ++c) {
        const float limit = w.row(c).cwiseAbs().maxCoeff();  // each template on its own scale
        for (int y = 0; y < side; ++y)
            for (int x = 0; x < side; ++x) {
                const float v = w(c, (y / scale) * 28 + x / scale) / limit;  // in [-1, 1]
                const auto fade = static_cast<std::uint8_t>(std::lround(255 * (1 - std::abs(v))));
                const int column = c * (side + gap) + x;  // of the whole strip
                std::uint8_t* px = &rgb[static_cast<std::size_t>(3 * (y * width + column))];
                px[0] = v > 0 ? 255 : fade;  // white at 0, red for +1, blue for -1
                px[1] = fade;
                px[2] = v < 0 ? 255 : fade;
            }
    }
    const std::vector<std::uint8_t> png = io::encode_png(rgb.data(), width, side, /*channels=*/3);
    std::ofstream("guide-weights.png", std::ios::binary)
        .write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    // [weights]

    std::cout << "test accuracy " << ev.accuracy << "; wrote guide-report.html, guide-loss-curve.svg, "
              << "guide-weights.png (" << png.size() << " bytes)\n";
    return 0;
}
