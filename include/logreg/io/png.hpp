// logreg/io/png.hpp - 8-bit images to PNG bytes (stb_image_write) and base64 for data: URIs.
//
// Needs stb_image_write.h (Debian: libstb-dev), which the logreg::io target puts on the
// include path. stb is compiled here as static functions, so every translation unit that
// includes this header gets its own private copy and no symbol clashes at link time.
// Consequence: do not include <stb_image_write.h> yourself in the same translation unit.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/gray_image.hpp>  // png_signature

#include <climits>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#if defined(__has_include)
#if !__has_include(<stb_image_write.h>)
#error "logreg/io/png.hpp needs stb_image_write.h: install libstb-dev and link the logreg::io target"
#endif
#endif

#ifdef INCLUDE_STB_IMAGE_WRITE_H
#error "logreg/io/png.hpp compiles its own static copy of stb_image_write; include it instead of <stb_image_write.h>"
#endif

// stb is C-style code that does not pass -Wconversion and friends; its warnings are not ours.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#if defined(__clang__)
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#endif
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wuseless-cast"
#pragma GCC diagnostic ignored "-Wzero-as-null-pointer-constant"
#pragma GCC diagnostic ignored "-Wmissing-declarations"
#pragma GCC diagnostic ignored "-Wduplicated-branches"
#pragma GCC diagnostic ignored "-Wcomma"
#pragma GCC diagnostic ignored "-Wextra-semi-stmt"
#pragma GCC diagnostic ignored "-Wreserved-identifier"
#pragma GCC diagnostic ignored "-Wunused-macros"
#elif defined(_MSC_VER)
#pragma warning(push, 0)
#endif

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO  // only the in-memory writer is used
#include <stb_image_write.h>
#undef STB_IMAGE_WRITE_IMPLEMENTATION

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#elif defined(_MSC_VER)
#pragma warning(pop)
#endif

namespace logreg::io {

namespace detail {

inline std::size_t checked_image_size(int width, int height, int channels, const char* what) {
    if (width < 1 || height < 1)
        throw InvalidParameter(
            logreg::detail::cat(what, ": the image is ", width, " x ", height, "; both sides must be >= 1"));
    if (channels < 1 || channels > 4)
        throw InvalidParameter(logreg::detail::cat(what, ": 'channels' is ", channels,
                                                   "; it must be 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)"));
    // stb indexes with int: keep the whole buffer below INT_MAX bytes.
    const long long bytes = static_cast<long long>(width) * height * channels;
    if (bytes > INT_MAX)
        throw InvalidParameter(logreg::detail::cat(what, ": a ", width, " x ", height, " x ", channels,
                                                   " image is too large (more than ", INT_MAX, " bytes)"));
    return static_cast<std::size_t>(bytes);
}

struct PngSink {
    std::vector<std::uint8_t>* out;
    bool failed;
};

// Called by stb from C-style code: must not throw through it.
inline void append_png_bytes(void* context, void* data, int size) {
    auto* sink = static_cast<PngSink*>(context);
    if (sink->failed || size <= 0) return;
    try {
        const auto* bytes = static_cast<const std::uint8_t*>(data);
        sink->out->insert(sink->out->end(), bytes, bytes + size);
    } catch (...) {
        sink->failed = true;
    }
}

}  // namespace detail

/// Encodes an 8-bit image as PNG bytes. `pixels` holds `height` rows of `width` pixels, each of
/// `channels` interleaved bytes (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), with no row padding.
inline std::vector<std::uint8_t> encode_png(const std::uint8_t* pixels, int width, int height, int channels) {
    detail::checked_image_size(width, height, channels, "encode_png");
    if (pixels == nullptr) throw InvalidParameter("encode_png: 'pixels' is null");
    std::vector<std::uint8_t> out;
    detail::PngSink sink{&out, false};
    const int ok =
        stbi_write_png_to_func(&detail::append_png_bytes, &sink, width, height, channels, pixels, width * channels);
    if (sink.failed) throw std::bad_alloc();
    if (ok == 0 || out.empty())
        throw Error(logreg::detail::cat("encode_png: stb_image_write failed on a ", width, " x ", height, " x ",
                                        channels, " image"));
    return out;
}

/// encode_png() of a whole buffer, which must hold exactly width * height * channels bytes.
inline std::vector<std::uint8_t> encode_png(const std::vector<std::uint8_t>& pixels, int width, int height,
                                            int channels) {
    const std::size_t expected = detail::checked_image_size(width, height, channels, "encode_png");
    if (pixels.size() != expected)
        throw ShapeError(logreg::detail::cat("encode_png: ", pixels.size(), " bytes for a ", width, " x ", height,
                                             " x ", channels, " image (", expected, " expected)"));
    return encode_png(pixels.data(), width, height, channels);
}

/// Enlarges an image `factor` times in each direction by repeating pixels (nearest neighbour),
/// so that small images such as MNIST digits stay crisp in a browser.
inline std::vector<std::uint8_t> upscale_nearest(const std::vector<std::uint8_t>& pixels, int width, int height,
                                                 int channels, int factor) {
    const std::size_t expected = detail::checked_image_size(width, height, channels, "upscale_nearest");
    if (pixels.size() != expected)
        throw ShapeError(logreg::detail::cat("upscale_nearest: ", pixels.size(), " bytes for a ", width, " x ", height,
                                             " x ", channels, " image (", expected, " expected)"));
    if (factor < 1 || factor > 64)
        throw InvalidParameter(logreg::detail::cat("upscale_nearest: 'factor' is ", factor, "; it must be in [1, 64]"));
    const auto w = static_cast<std::size_t>(width), h = static_cast<std::size_t>(height);
    const auto c = static_cast<std::size_t>(channels), f = static_cast<std::size_t>(factor);
    std::vector<std::uint8_t> out(expected * f * f);
    const std::size_t out_row = w * f * c;
    for (std::size_t y = 0; y < h * f; ++y) {
        const std::uint8_t* src = pixels.data() + (y / f) * w * c;
        std::uint8_t* dst = out.data() + y * out_row;
        for (std::size_t x = 0; x < w * f; ++x)
            for (std::size_t k = 0; k < c; ++k) dst[x * c + k] = src[(x / f) * c + k];
    }
    return out;
}

/// Standard base64 (RFC 4648, section 4: '+', '/', '=' padding, no line breaks).
inline std::string base64_encode(const std::uint8_t* data, std::size_t size) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (const std::size_t rest = size - i; rest > 0) {
        std::uint32_t v = std::uint32_t{data[i]} << 16;
        if (rest == 2) v |= std::uint32_t{data[i + 1]} << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

/// base64 of a byte buffer.
inline std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
    return base64_encode(bytes.data(), bytes.size());
}

/// base64 of the bytes of a string.
inline std::string base64_encode(const std::string& bytes) {
    return base64_encode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

/// "data:image/png;base64,..." for PNG bytes, ready for an <img src>.
inline std::string png_data_uri(const std::vector<std::uint8_t>& png) {
    return "data:image/png;base64," + base64_encode(png);
}

}  // namespace logreg::io
