// logreg/io/gray_image.hpp - an 8-bit grayscale image, the limits a reader enforces before it
// allocates or decodes anything (image files come from users and may be hostile), and the PNG
// signature the reader and the writer share.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace logreg::io {

/// The 8 bytes every PNG file starts with (the reader tells formats by them; the writer, png.hpp,
/// writes them).
inline constexpr std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

/// An 8-bit grayscale image, row-major, no padding.
struct GrayImage {
    std::vector<std::uint8_t> pixels;
    int width = 0;
    int height = 0;
};

/// What an image reader accepts. Every check happens on the header, before pixel data is
/// allocated or decompressed, so a small file that declares a huge image costs nothing.
struct ImageLimits {
    int max_width = 8192;
    int max_height = 8192;
    /// width * height at most this (a caller that needs 784 pixels says so and refuses 784x784).
    std::uint64_t max_pixels = std::uint64_t{8192} * 8192;
    /// Files larger than this are refused before they are read.
    std::uint64_t max_file_bytes = std::uint64_t{256} << 20;

    /// Limits for a caller that needs exactly `pixels` pixels in any shape (e.g. 784 for MNIST).
    static ImageLimits for_pixels(std::uint64_t pixels) {
        ImageLimits l;
        const std::uint64_t side = pixels < 8192 ? pixels : 8192;
        l.max_width = l.max_height = static_cast<int>(side);
        l.max_pixels = pixels;
        // The largest honest file: a 16-bit plain (ASCII) PGM, 6 bytes a pixel, plus a generous header.
        l.max_file_bytes = pixels * 6 + (std::uint64_t{1} << 16);
        return l;
    }
};

namespace detail {

/// Throws FormatError naming `name` unless width x height is within `limits`.
inline void check_image_size(const std::string& name, std::uint64_t width, std::uint64_t height,
                             const ImageLimits& limits) {
    using logreg::detail::cat;
    if (width < 1 || height < 1) throw FormatError(cat(name, ": the image is ", width, "x", height, "; it is empty"));
    if (width > static_cast<std::uint64_t>(limits.max_width) || height > static_cast<std::uint64_t>(limits.max_height))
        throw FormatError(cat(name, ": the image is ", width, "x", height, ", larger than the limit of ",
                              limits.max_width, "x", limits.max_height));
    if (width * height > limits.max_pixels)
        throw FormatError(cat(name, ": the image is ", width, "x", height, " = ", width * height,
                              " pixels, more than the limit of ", limits.max_pixels));
}

}  // namespace detail

}  // namespace logreg::io
