// logreg/io/pgm.hpp - a strict reader for PGM (Netpbm graymap) images: binary "P5" and plain
// (ASCII) "P2", maxval 1..65535, one image per file.
//
// Hand-written on purpose: PGM is a few lines of header and a raster, and the libraries that read
// it (Netpbm's libnetpbm) exit the process on bad input. What this reader checks, in order: the
// magic, the header fields (decimal, no sign, no overflow), maxval in 1..65535, the size against
// the caller's ImageLimits (before anything is allocated), the exact raster length (a truncated
// file and trailing data are both errors), and every sample <= maxval. Samples are scaled to
// 0..255 with rounding (v * 255 / maxval).
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/gray_image.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace logreg::io {

namespace detail {

class PgmParser {
public:
    PgmParser(const std::uint8_t* data, std::size_t size, const std::string& name)
        : data_(data), size_(size), name_(name) {}

    GrayImage parse(const ImageLimits& limits) {
        using logreg::detail::cat;
        if (size_ < 2 || data_[0] != 'P' || (data_[1] != '5' && data_[1] != '2'))
            throw error("not a PGM file (it must start with P5 or P2)");
        const bool plain = data_[1] == '2';
        pos_ = 2;
        const std::uint64_t width = header_number("width");
        const std::uint64_t height = header_number("height");
        const std::uint64_t maxval = header_number("maxval");
        if (maxval < 1 || maxval > 65535) throw error(cat("maxval is ", maxval, "; it must be in 1..65535"));
        check_image_size(name_, width, height, limits);
        // Exactly one whitespace character separates the header from a binary raster.
        if (pos_ >= size_ || !is_space(data_[pos_])) throw error("no whitespace after maxval");
        ++pos_;

        GrayImage img;
        img.width = static_cast<int>(width);
        img.height = static_cast<int>(height);
        const std::uint64_t count = width * height;
        const auto scale = [maxval](std::uint64_t v) {
            return static_cast<std::uint8_t>((v * 255 + maxval / 2) / maxval);
        };
        if (!plain) {
            const std::uint64_t bytes_per_sample = maxval < 256 ? 1 : 2;
            const std::uint64_t expected = count * bytes_per_sample, available = size_ - pos_;
            if (available < expected)
                throw error(cat("the pixel data is truncated: ", available, " bytes for a ", width, "x", height,
                                " image of ", bytes_per_sample, "-byte samples (", expected, " expected)"));
            if (available > expected)
                throw error(cat(available - expected, " bytes after the pixel data (one image per file)"));
            img.pixels.resize(static_cast<std::size_t>(count));
            for (std::uint64_t i = 0; i < count; ++i) {
                const std::uint8_t* p = data_ + pos_ + i * bytes_per_sample;
                const std::uint64_t v = bytes_per_sample == 1 ? p[0] : (std::uint64_t{p[0]} << 8 | p[1]);
                if (v > maxval) throw sample_error(i, width, v, maxval);
                img.pixels[static_cast<std::size_t>(i)] = scale(v);
            }
            return img;
        }
        // Plain PGM: at least one character per sample plus a separator, so a file too short
        // for the declared size is refused before the pixels are allocated.
        if ((size_ - pos_) / 2 + 1 < count)
            throw error(cat("the pixel data is truncated: ", size_ - pos_, " bytes cannot hold ", count,
                            " plain (ASCII) samples"));
        img.pixels.resize(static_cast<std::size_t>(count));
        for (std::uint64_t i = 0; i < count; ++i) {
            skip_space(false);
            if (pos_ >= size_) throw error(cat("the pixel data is truncated: ", i, " of ", count, " samples"));
            const std::uint64_t v = number("a sample");
            if (v > maxval) throw sample_error(i, width, v, maxval);
            img.pixels[static_cast<std::size_t>(i)] = scale(v);
        }
        skip_space(false);
        if (pos_ != size_) throw error(cat(size_ - pos_, " bytes after the pixel data (one image per file)"));
        return img;
    }

private:
    static bool is_space(std::uint8_t c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    }

    FormatError error(const std::string& problem) const { return FormatError(name_ + ": PGM: " + problem); }

    FormatError sample_error(std::uint64_t i, std::uint64_t width, std::uint64_t v, std::uint64_t maxval) const {
        return error(logreg::detail::cat("pixel (", i % width, ", ", i / width, ") is ", v, ", above maxval ", maxval));
    }

    // Whitespace, and in the header '#' comments up to the end of the line.
    void skip_space(bool comments) {
        while (pos_ < size_) {
            if (is_space(data_[pos_])) {
                ++pos_;
            } else if (comments && data_[pos_] == '#') {
                while (pos_ < size_ && data_[pos_] != '\n' && data_[pos_] != '\r') ++pos_;
            } else {
                break;
            }
        }
    }

    std::uint64_t header_number(const char* field) {
        const std::size_t before = pos_;
        skip_space(true);
        if (pos_ >= size_) throw error(std::string("the header ends before ") + field);
        if (pos_ == before) throw error(std::string("no whitespace before ") + field);
        return number(field);
    }

    // A decimal number of at most 9 digits (no sign): anything longer is no valid PGM field.
    std::uint64_t number(const char* field) {
        std::uint64_t v = 0;
        std::size_t digits = 0;
        while (pos_ < size_ && data_[pos_] >= '0' && data_[pos_] <= '9') {
            if (++digits > 9) throw error(std::string(field) + " has too many digits");
            v = v * 10 + static_cast<std::uint64_t>(data_[pos_] - '0');
            ++pos_;
        }
        if (digits == 0) {
            if (pos_ >= size_) throw error(std::string("the header ends before ") + field);
            throw error(logreg::detail::cat(field, " is not a non-negative decimal number (byte ", pos_, ")"));
        }
        if (pos_ < size_ && !is_space(data_[pos_]) && data_[pos_] != '#')
            throw error(logreg::detail::cat(field, " is not a non-negative decimal number (byte ", pos_, ")"));
        return v;
    }

    const std::uint8_t* data_;
    std::size_t size_;
    const std::string& name_;
    std::size_t pos_ = 0;
};

}  // namespace detail

/// Decodes a PGM file's bytes (P5 or P2) to 8-bit grayscale; `name` stands for the file in messages.
/// Throws FormatError naming the problem, before allocating when the header is at fault.
inline GrayImage decode_pgm(const std::uint8_t* data, std::size_t size, const std::string& name,
                            const ImageLimits& limits = {}) {
    return detail::PgmParser(data, size, name).parse(limits);
}

}  // namespace logreg::io
