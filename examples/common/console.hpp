// examples/common/console.hpp - what both MNIST programs print: the build line, the
// evaluation summary, and the error path. Only printing lives here; the work is the library's.
#pragma once

#include <logreg/logreg.hpp>

#include <Eigen/Core>

#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace examples {

/// Compiler, the kernel set chosen at run time, the SIMD level Eigen was compiled for, threads and
/// NDEBUG, in one line; warns loudly when unoptimised. Throws InvalidParameter for a bad LOGREG_ISA.
inline void print_build_info(std::ostream& out, int threads) {
#if defined(__clang__)
    const std::string compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    const std::string compiler = std::string("g++ ") + __VERSION__;
#else
    const std::string compiler = "unknown compiler";
#endif
#ifdef NDEBUG
    const char* ndebug = "NDEBUG on";
#else
    const char* ndebug = "NDEBUG off (assertions enabled)";
#endif
    // The kernels are chosen when the program runs (logreg/kernel_isa.hpp); Eigen's own code,
    // outside the hot path, uses what the compile flags allow.
    const logreg::Isa isa = logreg::kernel_isa();
    out << "logreg " << logreg::version << " | " << compiler << " | kernels: " << logreg::isa_name(isa) << " ("
        << logreg::isa_description(isa) << ") | Eigen: " << Eigen::SimdInstructionSetsInUse()
        << " | threads: " << threads << " | " << ndebug << "\n";
#ifndef __OPTIMIZE__
    out << "WARNING: this program was built WITHOUT optimisation; training will be 10-100x slower.\n"
           "         Rebuild with -DCMAKE_BUILD_TYPE=Release.\n";
#endif
}

/// `text` safe for a terminal: control characters (C0, DEL, and C1 as UTF-8, which includes the
/// one-byte CSI) become \xNN, so a class name from a model file cannot move the cursor, recolour
/// or retitle the terminal. Other UTF-8 passes through.
inline std::string printable(const std::string& text) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(text[i + 1]) <= 0x9F;
        if (c < 0x20 || c == 0x7F || c1) {
            const unsigned char shown = c1 ? static_cast<unsigned char>(text[++i]) : c;
            out += "\\x";
            out += hex[shown >> 4];
            out += hex[shown & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

/// printable() of each name.
inline std::vector<std::string> printable(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const std::string& n : names) out.push_back(printable(n));
    return out;
}

/// Accuracy, confusion matrix and per-class precision / recall / F1 as plain text.
inline void print_classification(std::ostream& out, const logreg::ClassificationReport& r,
                                 const std::vector<std::string>& raw_names) {
    const std::vector<std::string> names = printable(raw_names);
    const auto k = static_cast<logreg::Index>(r.classes.size());
    out << "confusion matrix (rows: true class, columns: predicted class)\n      ";
    for (logreg::Index c = 0; c < k; ++c) out << std::setw(6) << names[static_cast<std::size_t>(c)];
    out << "\n";
    for (logreg::Index t = 0; t < k; ++t) {
        out << std::setw(6) << names[static_cast<std::size_t>(t)];
        for (logreg::Index p = 0; p < k; ++p) out << std::setw(6) << r.confusion(t, p);
        out << "\n";
    }
    out << "class  precision  recall     f1  support\n";
    for (logreg::Index c = 0; c < k; ++c) {
        const auto& s = r.classes[static_cast<std::size_t>(c)];
        out << std::setw(5) << names[static_cast<std::size_t>(c)] << std::fixed << std::setprecision(4) << std::setw(11)
            << s.precision << std::setw(8) << s.recall << std::setw(7) << s.f1 << std::setw(9) << s.support << "\n";
    }
    out << "macro  " << std::setw(9) << r.macro_precision << std::setw(8) << r.macro_recall << std::setw(7)
        << r.macro_f1 << "\n"
        << std::defaultfloat;
}

inline std::vector<std::string> digit_names() {
    std::vector<std::string> names;
    for (int c = 0; c < 10; ++c) names.push_back(std::to_string(c));
    return names;
}

}  // namespace examples
