// logreg/io/mnist.hpp - finds and loads the four MNIST files as uint8 datasets.
//
// Both file naming conventions in circulation are accepted (train-images-idx3-ubyte
// from the original site, train-images.idx3-ubyte from some re-distributions),
// gzip-compressed or not. Pixels stay uint8: the trainer converts one batch at a
// time with Preprocessor<Scalar>::unit(784), i.e. divides by 255.
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/idx.hpp>
#include <logreg/types.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace logreg::io {

/// MNIST has 28x28 pixel images.
inline constexpr Index mnist_num_features = 28 * 28;

/// MNIST has the ten digits 0-9 as classes.
inline constexpr int mnist_num_classes = 10;

/// The two MNIST splits: 60000 training and 10000 test images.
enum class MnistSplit { train, test };

/// "train" or "test".
inline const char* to_string(MnistSplit split) {
    return split == MnistSplit::train ? "train" : "test";
}

/// The folder with the MNIST files: $LOGREG_MNIST_DIR if set and non-empty, else "./data/mnist".
inline std::string default_mnist_dir() {
    const char* env = std::getenv("LOGREG_MNIST_DIR");
    return env && *env ? std::string(env) : std::string("./data/mnist");
}

/// Paths of the image and label file of one split.
struct MnistFiles {
    std::string images;  ///< the idx3 image file
    std::string labels;  ///< the idx1 label file
};

namespace detail {

/// The first existing file among the accepted names of `stem` ("train-images" + "idx3"), uncompressed first.
inline std::string find_mnist_file(const std::filesystem::path& dir, const std::string& stem, const std::string& idx) {
    const std::string names[] = {stem + "-" + idx + "-ubyte", stem + "." + idx + "-ubyte",
                                 stem + "-" + idx + "-ubyte.gz", stem + "." + idx + "-ubyte.gz"};
    for (const std::string& name : names) {
        std::error_code ec;
        const std::filesystem::path p = dir / name;
        if (std::filesystem::is_regular_file(p, ec)) return p.string();
    }
    return {};
}

inline std::string mnist_download_hint(const std::string& dir) {
    return logreg::detail::cat("To download MNIST (SHA-256 verified), run from the logreg source tree: cmake -DDIR=",
                               dir, " -P cmake/mnist_download.cmake  (or build the target mnist_data); or set ",
                               "LOGREG_MNIST_DIR to a folder that already holds the files.");
}

}  // namespace detail

/// Locates the image and label file of `split` in `dir`; throws IoError naming what is missing.
inline MnistFiles find_mnist_files(const std::string& dir, MnistSplit split) {
    using logreg::detail::cat;
    const std::string prefix = split == MnistSplit::train ? "train" : "t10k";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw IoError(cat("MNIST directory '", dir, "' does not exist (or is not a directory). ",
                          detail::mnist_download_hint(dir)));
    MnistFiles files;
    files.images = detail::find_mnist_file(dir, prefix + "-images", "idx3");
    files.labels = detail::find_mnist_file(dir, prefix + "-labels", "idx1");
    if (files.images.empty() || files.labels.empty()) {
        std::string missing;
        if (files.images.empty()) missing += prefix + "-images-idx3-ubyte[.gz]";
        if (files.labels.empty())
            missing += std::string(missing.empty() ? "" : " and ") + prefix + "-labels-idx1-ubyte[.gz]";
        throw IoError(cat("MNIST ", to_string(split), " files not found in '", dir, "': missing ", missing,
                          " (the names ", prefix, "-images.idx3-ubyte[.gz] / ", prefix,
                          "-labels.idx1-ubyte[.gz] are accepted too). ", detail::mnist_download_hint(dir)));
    }
    return files;
}

/// Loads one MNIST split from `dir`: 784 uint8 features (pixels 0-255) and 10 classes.
inline Dataset<std::uint8_t> load_mnist(const std::string& dir, MnistSplit split) {
    using logreg::detail::cat;
    const MnistFiles files = find_mnist_files(dir, split);
    RowMatrix<std::uint8_t> images = read_idx_images(files.images);
    if (images.cols() != mnist_num_features)
        throw FormatError(cat(files.images, ": images have ", images.cols(),
                              " pixels each; MNIST images are 28x28 = ", mnist_num_features));
    LabelVector labels = read_idx_labels(files.labels, mnist_num_classes);
    if (images.rows() != labels.size())
        throw FormatError(cat("MNIST ", to_string(split), ": ", files.images, " holds ", images.rows(), " images but ",
                              files.labels, " holds ", labels.size(), " labels"));
    return Dataset<std::uint8_t>(std::move(images), std::move(labels), mnist_num_classes);
}

}  // namespace logreg::io
