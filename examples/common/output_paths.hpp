// examples/common/output_paths.hpp - the programs check every output path before any work starts:
// writable (io::check_output_path), not shared by two outputs, and not one of the inputs. A typo in
// --report, or --save pointing at the training data, then costs a second instead of a training run
// and a lost file.
#pragma once

#include <logreg/error.hpp>
#include <logreg/io/atomic_file.hpp>
#include <logreg/io/mnist.hpp>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/stat.h>

namespace examples {

/// A path given to the program, with the option that named it ("--save", "--data").
struct NamedPath {
    std::string option;
    std::string path;
};

/// True when `a` and `b` name one file: by stat() if either exists (hard links, "./x" and "x",
/// symlinked folders), else by normalized absolute path. (Not in a `detail` namespace, which would
/// hide logreg::detail in the programs' `using namespace logreg` code.)
inline bool same_file(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    const bool a_exists = ::stat(a.c_str(), &sa) == 0, b_exists = ::stat(b.c_str(), &sb) == 0;
    if (a_exists || b_exists) return a_exists && b_exists && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    std::error_code ec1, ec2;
    const auto ca = std::filesystem::weakly_canonical(a, ec1), cb = std::filesystem::weakly_canonical(b, ec2);
    return !ec1 && !ec2 && ca == cb;
}

/// The MNIST files that `dir` holds (both splits), as inputs named by `option`; none if it holds none.
inline std::vector<NamedPath> mnist_inputs(const std::string& dir, const std::string& option = "--data") {
    std::vector<NamedPath> inputs;
    for (const char* stem : {"train-images", "train-labels", "t10k-images", "t10k-labels"}) {
        const std::string idx = std::string(stem).find("images") != std::string::npos ? "idx3" : "idx1";
        const std::string found = logreg::io::detail::find_mnist_file(dir, stem, idx);
        if (!found.empty()) inputs.push_back({option, found});
    }
    return inputs;
}

/// Throws logreg::IoError naming the option and the path unless every output can be written, no two
/// outputs name the same file and no output names an input. `may_share` lists (output option, input
/// option) pairs that may name one file on purpose (--checkpoint and --resume continue one file).
inline void check_output_paths(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs,
                               const std::vector<std::pair<std::string, std::string>>& may_share = {}) {
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const NamedPath& out = outputs[i];
        if (out.path.empty()) continue;
        for (std::size_t j = 0; j < i; ++j)
            if (!outputs[j].path.empty() && same_file(outputs[j].path, out.path))
                throw logreg::IoError(outputs[j].option + " and " + out.option + " name the same file (" + out.path +
                                      "); one output would overwrite the other");
        for (const NamedPath& in : inputs) {
            if (in.path.empty() || !same_file(in.path, out.path)) continue;
            bool allowed = false;
            for (const auto& [o, i_opt] : may_share) allowed = allowed || (o == out.option && i_opt == in.option);
            if (!allowed)
                throw logreg::IoError(out.option + " " + out.path + " is also an input (" + in.option + " " + in.path +
                                      "); writing it would destroy the input");
        }
        try {
            logreg::io::check_output_path(out.path);
        } catch (const logreg::IoError& e) {
            throw logreg::IoError(out.option + " " + out.path + ": " + e.what());
        }
    }
}

}  // namespace examples
