// safetensors_interop_writer - writes a random model and what C++ predicts with it, for
// read_with_numpy.py to check independently.
//
//   safetensors_interop_writer OUT_DIR float|double [SEED]
//
// OUT_DIR/model.safetensors  a LinearSoftmax (uniform init) with standard preprocessing
// OUT_DIR/data.safetensors   inputs [n, features] (F32, raw: not preprocessed),
//                            predictions [n] (I64), probabilities [n, classes] (model dtype)
// Nothing is trained: the point is that another reader maps the same inputs to the same outputs.
#include <logreg/io/safetensors.hpp>
#include <logreg/logreg.hpp>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>

namespace {

template <typename Scalar>
void run(const std::filesystem::path& dir, std::uint64_t seed) {
    using namespace logreg;
    constexpr Index features = 37, classes = 10, train_rows = 500, test_rows = 1000;
    detail::Rng rng(seed);
    // Features with different offsets and spreads, so the standardisation matters.
    auto draw = [&](Index rows) {
        RowMatrix<float> x(rows, features);
        for (Index i = 0; i < rows; ++i)
            for (Index j = 0; j < features; ++j)
                x(i, j) = static_cast<float>(static_cast<double>(j % 7) * 20.0 +
                                             (detail::uniform01(rng) - 0.5) * static_cast<double>(1 + j % 5) * 30.0);
        return x;
    };
    const Dataset<float> train(draw(train_rows), LabelVector::Zero(train_rows), static_cast<int>(classes));
    const auto pre = Preprocessor<Scalar>::standard(train, iota(train_rows));
    // Uniform init is small; scale it up so the classes are not near-ties everywhere.
    LinearSoftmax<Scalar> model(features, classes, Init::uniform, seed + 1);
    model.weight() *= Scalar(4);
    model.bias() *= Scalar(4);

    const RowMatrix<float> inputs = draw(test_rows);
    const RowMatrix<Scalar> x = pre.transform(inputs);
    const LabelVector predicted = model.predict(x);
    const RowMatrix<Scalar> proba = model.predict_proba(x);

    io::ModelMetadata meta;
    meta.extra["seed"] = std::to_string(seed);
    meta.extra["purpose"] = "interoperability test";
    io::save_model((dir / "model.safetensors").string(), model, pre, meta);

    io::SafetensorsWriter data;
    data.add("inputs", inputs);
    data.add("predictions", Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>(predicted.cast<std::int64_t>()));
    data.add("probabilities", proba);
    data.set_metadata("scalar", io::dtype_of<Scalar>());
    data.save((dir / "data.safetensors").string());
    std::cout << "wrote " << (dir / "model.safetensors").string() << " and " << (dir / "data.safetensors").string()
              << " (" << io::dtype_of<Scalar>() << ", seed " << seed << ")\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4 || (std::string(argv[2]) != "float" && std::string(argv[2]) != "double")) {
        std::cerr << "usage: " << argv[0] << " OUT_DIR float|double [SEED]\n";
        return 2;
    }
    try {
        const std::filesystem::path dir = argv[1];
        std::filesystem::create_directories(dir);
        std::uint64_t seed = 20261129u;
        const char* env = std::getenv("LOGREG_TEST_SEED");
        if (argc == 4) seed = std::strtoull(argv[3], nullptr, 10);
        else if (env && *env) seed = std::strtoull(env, nullptr, 10);
        if (std::string(argv[2]) == "float") run<float>(dir, seed);
        else run<double>(dir, seed);
    } catch (const std::exception& e) {
        std::cerr << "safetensors_interop_writer: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
