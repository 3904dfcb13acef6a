// logreg/detail/format.hpp - small helpers to build error messages.
#pragma once

#include <algorithm>
#include <cstddef>
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

/// A string from a file, made fit for an error message: control bytes as \xNN, and past `max`
/// bytes cut (at a UTF-8 character boundary) and followed by "... (N bytes)". A hostile file must
/// not turn an error message into megabytes of its own text.
inline std::string excerpt(const std::string& s, std::size_t max = 64) {
    std::size_t n = std::min(s.size(), max);
    if (n < s.size())
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0u) == 0x80u) --n;  // not inside a character
    std::string out;
    out.reserve(n + 16);
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20u || c == 0x7Fu) {
            const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xFu];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
    return out;
}

}  // namespace logreg::detail
