// logreg/detail/format.hpp - small helpers to build error messages.
#pragma once

#include <sstream>
#include <string>
#include <utility>

namespace logreg::detail {

/// Concatenates any streamable values into one string: cat("lr = ", 0.1).
template <typename... Parts>
std::string cat(Parts&&... parts) {
    std::ostringstream out;
    out.precision(17);
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}

}  // namespace logreg::detail
