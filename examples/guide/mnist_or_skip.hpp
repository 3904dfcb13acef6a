// examples/guide/mnist_or_skip.hpp - how the guide's MNIST snippets find the data, or skip.
#pragma once

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

namespace guide {

/// $LOGREG_MNIST_DIR, or nothing after printing the skip message CTest looks for.
inline std::optional<std::string> mnist_dir_or_skip() {
    const char* dir = std::getenv("LOGREG_MNIST_DIR");
    if (dir && *dir) return std::string(dir);
    std::cout << "skipped: no MNIST data: LOGREG_MNIST_DIR is not set; set it to a folder with the MNIST files "
                 "(`cmake --build build --target mnist_data` downloads them into data/mnist) to run this snippet\n";
    return std::nullopt;
}

}  // namespace guide
