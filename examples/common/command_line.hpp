// examples/common/command_line.hpp - the programs' command-line parsing with the exit codes that
// docs/robustness.md promises: 0 after --help, 2 for any bad option. (CLI11_PARSE would return
// CLI11's own codes, 104 to 114, which scripts cannot tell apart from the programs' other errors.)
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace examples {

/// Parses argv into `app`. Returns -1 when the program should go on, otherwise the exit code:
/// 0 after --help (printed by CLI11), 2 after a bad option (CLI11 printed what is wrong).
inline int parse_command_line(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
        return -1;
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
}

/// A validator for 64-bit unsigned options such as --seed: decimal digits only, at most 2^64-1.
/// (CLI11's own conversion lets "-1" wrap to 2^64-1 and reads "1e23" as a float.)
inline CLI::Validator unsigned_64() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            static const std::string max = "18446744073709551615";
            if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > max.size() ||
                (text.size() == max.size() && text > max))
                return "'" + text + "' is not a whole number from 0 to " + max;
            return {};
        },
        "UINT64");
}

}  // namespace examples
