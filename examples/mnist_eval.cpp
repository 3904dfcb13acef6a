// mnist_eval: loads a saved model and evaluates it on the MNIST test set, or
// classifies one 28x28 image (PGM or PNG).
#include "common/command_line.hpp"
#include "common/console.hpp"
#include "common/output_paths.hpp"

#include <logreg/io/image.hpp>
#include <logreg/io/mnist.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/logreg.hpp>

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

namespace {

using Scalar = float;

int classify_image(const logreg::io::LoadedModel<Scalar>& m, const std::string& path) {
    using namespace logreg;
    const io::GrayImage img =
        io::read_gray_image(path, io::ImageLimits::for_pixels(static_cast<std::uint64_t>(m.model.num_features())));
    if (img.width * img.height != m.model.num_features())
        throw ShapeError(detail::cat(path, ": image is ", img.width, "x", img.height, " = ", img.width * img.height,
                                     " pixels but the model takes ", m.model.num_features(),
                                     " features (MNIST: 28x28)"));
    const RowMatrix<std::uint8_t> row =
        Eigen::Map<const RowMatrix<std::uint8_t>>(img.pixels.data(), 1, m.model.num_features());
    const RowMatrix<Scalar> p = m.model.predict_proba(m.preprocessor.transform(row));
    if (!p.allFinite())
        throw NumericalError(path +
                             ": the model's probabilities for this image are not finite: its weights are "
                             "too large");
    Index best = 0;
    p.row(0).maxCoeff(&best);
    const std::vector<std::string> names = examples::printable(m.metadata.class_names);
    std::printf("%s: predicted class %s (probability %.4f)\n", path.c_str(),
                names[static_cast<std::size_t>(best)].c_str(), static_cast<double>(p(0, best)));
    for (Index c = 0; c < p.cols(); ++c)
        std::printf("  %-3s %.4f\n", names[static_cast<std::size_t>(c)].c_str(), static_cast<double>(p(0, c)));
    return 0;
}

/// Writes the test inputs, labels and the C++ predictions and probabilities (safetensors), so an
/// independent reader (tests/safetensors/read_with_numpy.py) can check them against the model file.
void write_predictions(const std::string& path, const logreg::io::LoadedModel<Scalar>& m,
                       const logreg::Dataset<std::uint8_t>& test, const logreg::Evaluation& ev) {
    using namespace logreg;
    io::SafetensorsWriter w;
    w.add("inputs", test.features());
    w.add("labels", ev.labels);
    w.add("predictions", ev.predictions);
    const RowMatrix<Scalar> p = m.model.predict_proba(m.preprocessor.transform(test.features()));
    w.add("probabilities", p);
    w.set_metadata("model", "mnist_eval predictions on the MNIST test set");
    w.save(path);
    std::cout << "predictions written to " << path << "\n";
}

int evaluate_test_set(const logreg::io::LoadedModel<Scalar>& m, const std::string& model_path, const std::string& dir,
                      const std::string& predictions_path) {
    using namespace logreg;
    const auto test = io::load_mnist(dir, io::MnistSplit::test);
    const Evaluation ev = evaluate(m.model, test, m.preprocessor);
    // Finite weights can still overflow the logits (a hand-made or corrupt model): say so, never "loss nan".
    if (!std::isfinite(ev.loss))
        throw NumericalError(detail::cat(model_path, ": the model's outputs on the test set are not finite (loss ",
                                         ev.loss, "): its weights are too large (largest |weight| ",
                                         m.model.weight().cwiseAbs().maxCoeff(), ")"));
    const ClassificationReport cls =
        classification_report(ev.predictions, ev.labels, static_cast<int>(m.model.num_classes()));
    std::printf("test accuracy %.4f  test loss %.4f  (%lld images)\n", ev.accuracy, ev.loss,
                static_cast<long long>(test.size()));
    examples::print_classification(std::cout, cls, m.metadata.class_names);
    if (!predictions_path.empty()) write_predictions(predictions_path, m, test, ev);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_path, image, predictions, data = logreg::io::default_mnist_dir();
    CLI::App app{"Evaluate a logreg model on the MNIST test set, or classify one 28x28 image"};
    app.add_option("--model", model_path, "model file written by mnist_train --save")->required();
    app.add_option("--data", data, "MNIST folder (default: $LOGREG_MNIST_DIR, then ./data/mnist)");
    app.add_option("--image", image, "classify this 28x28 grayscale PGM or PNG instead of the test set");
    app.add_option("--predictions", predictions,
                   "also write test inputs, labels, predictions and probabilities to FILE (safetensors)");
    if (const int rc = examples::parse_command_line(app, argc, argv); rc >= 0) return rc;
    try {
        std::vector<examples::NamedPath> inputs = examples::mnist_inputs(data);
        inputs.push_back({"--model", model_path});
        inputs.push_back({"--image", image});
        examples::check_output_paths({{"--predictions", predictions}}, inputs);
        examples::print_build_info(std::cout, 1);
        const auto m = logreg::io::load_model<Scalar>(model_path);
        std::cout << "model: " << model_path << " (" << m.model.num_features() << " features, " << m.model.num_classes()
                  << " classes, normalization " << logreg::to_string(m.preprocessor.kind()) << ")\n";
        return image.empty() ? evaluate_test_set(m, model_path, data, predictions) : classify_image(m, image);
    } catch (const logreg::Error& e) {
        std::cerr << "mnist_eval: error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "mnist_eval: unexpected error: " << e.what() << "\n";
        return 2;
    }
}
