// logreg/io/mnist.hpp - finds and loads the four MNIST files as uint8 datasets.
//
// Both file naming conventions in circulation are accepted (train-images-idx3-ubyte
// from the original site, train-images.idx3-ubyte from some re-distributions),
// gzip-compressed or not. Pixels stay uint8: the trainer converts one batch at a
// time with Preprocessor<Scalar>::unit(784), i.e. divides by 255.
// Both headers are read and checked (28x28 images, as many labels as images, a byte limit)
// before either body is decompressed or allocated: a small file whose header claims a huge
// image is refused after 16 bytes of reading.
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/detail/input_file.hpp>
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

/// load_mnist's default limit on an image file's pixels: 1 GiB, 1.37 million 28x28 images - 22 times
/// MNIST's training set and above every MNIST-format set in use (EMNIST ByClass: 0.55 GB).
inline constexpr std::uint64_t mnist_max_image_bytes = std::uint64_t{1} << 30;

/// What an MNIST image file must hold: 28x28 images (`count` of them, if not 0), at most `max_bytes` of pixels.
inline IdxExpect mnist_image_expect(std::uint32_t count = 0, std::uint64_t max_bytes = mnist_max_image_bytes) {
    IdxExpect e;
    e.count = count;
    e.rows = 28;
    e.cols = 28;
    e.max_bytes = max_bytes;
    return e;
}

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

/// The first regular file among the accepted names of `stem` ("train-images" + "idx3"), uncompressed
/// first; if none is one, the first name that exists at all (a directory, a FIFO, a dangling link),
/// so that the reader says what it is rather than "not found".
inline std::string find_mnist_file(const std::filesystem::path& dir, const std::string& stem, const std::string& idx) {
    const std::string names[] = {stem + "-" + idx + "-ubyte", stem + "." + idx + "-ubyte",
                                 stem + "-" + idx + "-ubyte.gz", stem + "." + idx + "-ubyte.gz"};
    std::string other;
    for (const std::string& name : names) {
        std::error_code ec;
        const std::filesystem::path p = dir / name;
        if (std::filesystem::is_regular_file(p, ec)) return p.string();
        if (other.empty() && std::filesystem::exists(std::filesystem::symlink_status(p, ec))) other = p.string();
    }
    return other;
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
    const std::filesystem::file_status status = std::filesystem::status(dir, ec);
    if (!std::filesystem::exists(status)) {
        if (ec && ec != std::errc::no_such_file_or_directory)  // e.g. a folder on the way may not be searched
            throw IoError(cat("MNIST directory '", dir, "': cannot access it: ", ec.message()));
        throw IoError(cat("MNIST directory '", dir, "' does not exist. ", detail::mnist_download_hint(dir)));
    }
    if (!std::filesystem::is_directory(status))
        throw IoError(cat("MNIST directory '", dir, "' is ", detail::file_type_text(status.type()),
                          ", not a directory: give the folder that holds the four MNIST files"));
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

/// Loads one MNIST split from `dir`: 784 uint8 features (pixels 0-255) and 10 classes. An image
/// file of more than `max_image_bytes` pixels is refused (see mnist_max_image_bytes).
inline Dataset<std::uint8_t> load_mnist(const std::string& dir, MnistSplit split,
                                        std::uint64_t max_image_bytes = mnist_max_image_bytes) {
    using logreg::detail::cat;
    const MnistFiles files = find_mnist_files(dir, split);
    // Both headers first: every check that needs no data runs before a body is touched.
    const IdxInfo images_info = read_idx_images_info(files.images, mnist_image_expect(0, max_image_bytes));
    const IdxInfo labels_info = read_idx_labels_info(files.labels);
    if (images_info.count != labels_info.count)
        throw FormatError(cat("MNIST ", to_string(split), ": ", files.images, " holds ", images_info.count,
                              " images but ", files.labels, " holds ", labels_info.count, " labels"));
    // The bodies with the same expectations: a file replaced since its header was read is checked again.
    const auto count = static_cast<std::uint32_t>(images_info.count);
    RowMatrix<std::uint8_t> images = read_idx_images(files.images, mnist_image_expect(count, max_image_bytes));
    IdxExpect labels_expect;
    labels_expect.count = count;
    LabelVector labels = read_idx_labels(files.labels, mnist_num_classes, labels_expect);
    return Dataset<std::uint8_t>(std::move(images), std::move(labels), mnist_num_classes);
}

}  // namespace logreg::io
