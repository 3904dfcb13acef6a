// logreg/io/png_decode.hpp - PNG files to 8-bit grayscale, through libspng (Debian: libspng-dev).
//
// libspng is written for untrusted input (fuzzed in OSS-Fuzz): it checks every chunk's CRC and the
// zlib stream's Adler-32, and takes limits that are enforced on the header, before the image is
// allocated. Colour images are converted with the ITU-R BT.601 luma weights (77, 150, 29)/256, the
// formula stb_image used before; alpha is ignored; 16-bit samples keep their high byte.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/gray_image.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#ifndef LOGREG_HAVE_SPNG
#error "logreg/io/png_decode.hpp needs libspng (Debian: libspng-dev); link logreg::io"
#endif
#include <spng.h>

namespace logreg::io {

namespace detail {

struct SpngContextDeleter {
    void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};

/// Memory libspng may keep for ancillary chunks (text, ICC profiles); none of them is used here.
inline constexpr std::size_t png_chunk_cache_bytes = std::size_t{4} << 20;

/// Largest ratio of image rows to file size accepted; deflate cannot exceed about 1032:1.
inline constexpr std::uint64_t png_max_deflate_ratio = 1100;

}  // namespace detail

/// Decodes a PNG file's bytes to 8-bit grayscale; `name` stands for the file in messages.
/// Throws FormatError naming the problem (bad signature or CRC, corrupt data, size over `limits`).
inline GrayImage decode_png_gray(const std::uint8_t* data, std::size_t size, const std::string& name,
                                 const ImageLimits& limits = {}) {
    using logreg::detail::cat;
    const std::unique_ptr<spng_ctx, detail::SpngContextDeleter> ctx(spng_ctx_new(0));
    if (!ctx) throw std::bad_alloc();
    const auto fail = [&name](const char* step, int rc) {
        return FormatError(cat(name, ": not a valid PNG file (", step, ": ", spng_strerror(rc), ")"));
    };
    int rc = spng_set_crc_action(ctx.get(), SPNG_CRC_ERROR, SPNG_CRC_ERROR);
    if (rc == 0) rc = spng_set_chunk_limits(ctx.get(), size, detail::png_chunk_cache_bytes);
    if (rc == 0) rc = spng_set_png_buffer(ctx.get(), data, size);
    if (rc != 0) throw fail("set-up", rc);

    spng_ihdr ihdr{};
    if ((rc = spng_get_ihdr(ctx.get(), &ihdr)) != 0) throw fail("header", rc);
    detail::check_image_size(name, ihdr.width, ihdr.height, limits);
    // The filtered rows are deflate-compressed, which cannot shrink data more than about 1032:1: a
    // small file that declares a large image is refused before the image buffer is allocated.
    const std::uint64_t channels = ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR         ? 3
                                   : ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ? 2
                                   : ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ? 4
                                                                                        : 1;
    const std::uint64_t row_bits = std::uint64_t{ihdr.width} * channels * ihdr.bit_depth;
    const std::uint64_t filtered_bytes = std::uint64_t{ihdr.height} * (1 + (row_bits + 7) / 8);
    if (filtered_bytes / detail::png_max_deflate_ratio > size)
        throw FormatError(cat(name, ": the PNG header declares a ", ihdr.width, "x", ihdr.height, " image (",
                              filtered_bytes, " bytes of rows), more than a ", size, "-byte file can hold"));

    std::size_t rgba_bytes = 0;
    if ((rc = spng_decoded_image_size(ctx.get(), SPNG_FMT_RGBA8, &rgba_bytes)) != 0) throw fail("size", rc);
    const std::size_t pixels = std::size_t{ihdr.width} * ihdr.height;
    if (rgba_bytes != pixels * 4)
        throw FormatError(cat(name, ": PNG: libspng reports ", rgba_bytes, " bytes for a ", ihdr.width, "x",
                              ihdr.height, " RGBA image"));
    std::vector<std::uint8_t> rgba(rgba_bytes);
    if ((rc = spng_decode_image(ctx.get(), rgba.data(), rgba.size(), SPNG_FMT_RGBA8, 0)) != 0)
        throw fail("image data", rc);
    // The chunks after the image data, up to IEND, are checked too (CRCs, order).
    if ((rc = spng_decode_chunks(ctx.get())) != 0) throw fail("chunks after the image data", rc);
    // libspng stops at the end of the buffer as at IEND; a file that lacks it is truncated, and bytes
    // after it are no part of the image. IEND is empty, so its 12 bytes never change.
    static constexpr std::uint8_t iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    if (size < sizeof(iend) || std::memcmp(data + size - sizeof(iend), iend, sizeof(iend)) != 0)
        throw FormatError(cat(name,
                              ": not a valid PNG file (it does not end with the IEND chunk: truncated, or "
                              "followed by other data)"));

    GrayImage img;
    img.width = static_cast<int>(ihdr.width);
    img.height = static_cast<int>(ihdr.height);
    img.pixels.resize(pixels);
    for (std::size_t i = 0; i < pixels; ++i) {
        const std::uint8_t* p = rgba.data() + 4 * i;
        img.pixels[i] = static_cast<std::uint8_t>((77u * p[0] + 150u * p[1] + 29u * p[2]) >> 8);
    }
    return img;
}

}  // namespace logreg::io
