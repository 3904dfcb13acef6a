// Guide, section 2: the data (docs/guide.md shows the marked regions). Needs LOGREG_MNIST_DIR.
#include "mnist_or_skip.hpp"

#include <logreg/io/mnist.hpp>
#include <logreg/logreg.hpp>

#include <cstdint>
#include <iostream>

int main() {
    using namespace logreg;
    const auto mnist = guide::mnist_dir_or_skip();
    if (!mnist) return 0;
    const std::string dir = *mnist;
    // [load]
    const Dataset<std::uint8_t> train = io::load_mnist(dir, io::MnistSplit::train);
    const Dataset<std::uint8_t> test = io::load_mnist(dir, io::MnistSplit::test);
    std::cout << "train: " << train.size() << " images of " << train.num_features() << " pixels, "
              << train.num_classes() << " classes; test: " << test.size() << " images\n";
    std::cout << "first label " << train.labels()[0] << ", its pixels " << int{train.features().row(0).minCoeff()}
              << ".." << int{train.features().row(0).maxCoeff()} << "\n";
    // [load]

    // [split]
    const Split split = train_validation_split(train.size(), /*validation_fraction=*/0.1, /*seed=*/0);
    std::cout << "split: " << split.train.size() << " rows to train on, " << split.validation.size()
              << " to validate on\n";
    // [split]

    // [normalize]
    const auto unit = Preprocessor<float>::unit(784);                         // ToTensor(): pixels / 255
    const auto standard = Preprocessor<float>::standard(train, split.train);  // per-pixel (x - mean) / std
    const RowMatrix<float> x_unit = unit.transform(train.batch(0, 1000));     // the first 1000 images, as float
    const RowMatrix<float> x_std = standard.transform(train.batch(0, 1000));
    std::cout << "unit:     range " << x_unit.minCoeff() << ".." << x_unit.maxCoeff() << ", mean " << x_unit.mean()
              << ", mean squared row norm " << x_unit.rowwise().squaredNorm().mean() << "\n";
    std::cout << "standard: range " << x_std.minCoeff() << ".." << x_std.maxCoeff() << ", mean " << x_std.mean()
              << ", mean squared row norm " << x_std.rowwise().squaredNorm().mean() << "\n";
    // [normalize]
    return split.train.size() == 54000 ? 0 : 1;
}
