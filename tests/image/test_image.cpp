// tests/image/test_image.cpp - reading PNG and PGM images: every PNG colour type, PGM maxval scaling,
// and one hostile file per rejection (bad CRCs, truncation, huge declared sizes, other formats).
#include "test_support.hpp"

#include <logreg/io/image.hpp>
#include <logreg/io/png.hpp>  // encode_png: PNG files to read back

#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace image_reader_test {

using logreg::FormatError;
using logreg::IoError;
using logreg::io::GrayImage;
using logreg::io::ImageLimits;
using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

namespace {

void put_u32(Bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// One PNG chunk: length, type, data, CRC over type and data.
void put_chunk(Bytes& out, const char* type, const Bytes& data) {
    put_u32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t type_at = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    const uLong crc = crc32(0L, out.data() + type_at, static_cast<uInt>(4 + data.size()));
    put_u32(out, static_cast<std::uint32_t>(crc));
}

struct PngParts {
    std::uint32_t width = 0, height = 0;
    std::uint8_t bit_depth = 8, color_type = 0;
    Bytes palette;                  // PLTE data (colour type 3)
    Bytes scanlines;                // raw rows, each with its filter byte
    bool text_before_idat = false;  // a tEXt chunk before the image data
    bool text_after_idat = false;   // and one after it
};

// A PNG file written chunk by chunk, so that tests can corrupt any byte of it.
Bytes make_png(const PngParts& p) {
    Bytes out(logreg::io::png_signature, logreg::io::png_signature + 8);
    Bytes ihdr;
    put_u32(ihdr, p.width);
    put_u32(ihdr, p.height);
    ihdr.insert(ihdr.end(), {p.bit_depth, p.color_type, 0, 0, 0});
    put_chunk(out, "IHDR", ihdr);
    if (!p.palette.empty()) put_chunk(out, "PLTE", p.palette);
    const Bytes text = {'C', 'o', 'm', 'm', 'e', 'n', 't', 0, 'h', 'i'};
    if (p.text_before_idat) put_chunk(out, "tEXt", text);
    uLongf packed_size = compressBound(static_cast<uLong>(p.scanlines.size()));
    Bytes packed(packed_size);
    REQUIRE(compress2(packed.data(), &packed_size, p.scanlines.data(), static_cast<uLong>(p.scanlines.size()), 9) ==
            Z_OK);
    packed.resize(packed_size);
    put_chunk(out, "IDAT", packed);
    if (p.text_after_idat) put_chunk(out, "tEXt", text);
    put_chunk(out, "IEND", {});
    return out;
}

// Rows of `width` samples of `bytes_per_pixel` bytes, filter type 0 (none).
Bytes unfiltered(const Bytes& pixels, std::size_t row_bytes) {
    Bytes out;
    for (std::size_t at = 0; at < pixels.size(); at += row_bytes) {
        out.push_back(0);
        out.insert(out.end(), pixels.begin() + static_cast<std::ptrdiff_t>(at),
                   pixels.begin() + static_cast<std::ptrdiff_t>(at + row_bytes));
    }
    return out;
}

Bytes random_bytes(std::size_t n, std::mt19937_64& gen) {
    std::uniform_int_distribution<int> byte(0, 255);
    Bytes out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(byte(gen));
    return out;
}

GrayImage decode(const Bytes& file, const ImageLimits& limits = {}) {
    return logreg::io::decode_gray_image(file.data(), file.size(), "test.img", limits);
}

std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    return static_cast<std::uint8_t>((77 * r + 150 * g + 29 * b) >> 8);
}

Bytes text_bytes(const std::string& s) {
    return Bytes(s.begin(), s.end());
}

// The PGM reader's scaling, computed independently in double precision.
std::uint8_t scaled(unsigned v, unsigned maxval) {
    return static_cast<std::uint8_t>(std::floor(v * 255.0 / maxval + 0.5));
}

std::string write_file(const logreg_test::TempDir& dir, const std::string& name, const Bytes& bytes) {
    const std::string p = dir / name;
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
}

}  // namespace

TEST_CASE("PNG gray, RGB and RGBA images written by encode_png decode to their pixels or luma", "[image][png]") {
    auto gen = logreg_test::rng(301);
    const int w = 13, h = 7;
    const Bytes gray = random_bytes(w * h, gen);
    const GrayImage g = decode(logreg::io::encode_png(gray, w, h, 1));
    CHECK(g.width == w);
    CHECK(g.height == h);
    CHECK(g.pixels == gray);

    for (int channels : {3, 4}) {
        CAPTURE(channels);
        const Bytes colour = random_bytes(static_cast<std::size_t>(w * h * channels), gen);
        const GrayImage c = decode(logreg::io::encode_png(colour, w, h, channels));
        REQUIRE(c.pixels.size() == static_cast<std::size_t>(w * h));
        for (std::size_t i = 0; i < c.pixels.size(); ++i) {
            const std::uint8_t* p = colour.data() + i * static_cast<std::size_t>(channels);
            REQUIRE(c.pixels[i] == luma(p[0], p[1], p[2]));  // alpha ignored
            REQUIRE(std::abs(c.pixels[i] - (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])) < 1.5);
        }
    }
}

TEST_CASE("PNG 16-bit gray keeps the high byte and a palette image maps through its palette", "[image][png]") {
    auto gen = logreg_test::rng(302);
    PngParts p16;
    p16.width = 5;
    p16.height = 3;
    p16.bit_depth = 16;
    const Bytes samples = random_bytes(5 * 3 * 2, gen);
    p16.scanlines = unfiltered(samples, 10);
    const GrayImage g = decode(make_png(p16));
    REQUIRE(g.pixels.size() == 15u);
    for (std::size_t i = 0; i < 15; ++i) CHECK(g.pixels[i] == samples[2 * i]);

    PngParts pal;
    pal.width = 4;
    pal.height = 2;
    pal.color_type = 3;
    pal.palette = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
    const Bytes indices = {0, 1, 2, 3, 3, 2, 1, 0};
    pal.scanlines = unfiltered(indices, 4);
    const GrayImage c = decode(make_png(pal));
    for (std::size_t i = 0; i < indices.size(); ++i) {
        const std::uint8_t* rgb = pal.palette.data() + 3 * indices[i];
        CHECK(c.pixels[i] == luma(rgb[0], rgb[1], rgb[2]));
    }
}

TEST_CASE("PNG with a bad CRC in any chunk, before or after the image data, is refused", "[image][png]") {
    PngParts p;
    p.width = 3;
    p.height = 2;
    p.scanlines = unfiltered(Bytes{1, 2, 3, 4, 5, 6}, 3);
    p.text_before_idat = p.text_after_idat = true;
    const Bytes good = make_png(p);
    REQUIRE(decode(good).pixels == Bytes({1, 2, 3, 4, 5, 6}));
    // Every chunk's last byte is its CRC's: flip each in turn (IHDR, tEXt, IDAT, tEXt, IEND).
    std::size_t at = 8, chunks = 0;
    while (at < good.size()) {
        const std::size_t length = std::size_t{good[at]} << 24 | std::size_t{good[at + 1]} << 16 |
                                   std::size_t{good[at + 2]} << 8 | good[at + 3];
        const std::string type(good.begin() + static_cast<std::ptrdiff_t>(at + 4),
                               good.begin() + static_cast<std::ptrdiff_t>(at + 8));
        Bytes bad = good;
        bad[at + 8 + length + 3] ^= 0x01;
        CAPTURE(type);
        CHECK_THROWS_WITH(decode(bad), logreg_test::contains("test.img: not a valid PNG file"));
        at += 12 + length;
        ++chunks;
    }
    CHECK(chunks == 5);
}

TEST_CASE("PNG truncated or with corrupt image data is refused naming the file", "[image][png]") {
    PngParts p;
    p.width = 8;
    p.height = 8;
    auto gen = logreg_test::rng(303);
    p.scanlines = unfiltered(random_bytes(64, gen), 8);
    const Bytes good = make_png(p);
    for (std::size_t keep : {std::size_t{8}, std::size_t{20}, std::size_t{40}, good.size() - 12, good.size() - 1}) {
        CAPTURE(keep);
        const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(keep));
        CHECK_THROWS_AS(decode(cut), FormatError);
    }
    Bytes trailing = good;
    trailing.push_back(0);
    CHECK_THROWS_WITH(decode(trailing), logreg_test::contains("does not end with the IEND chunk"));
    // A bad filter type byte in the first row (inside valid zlib data, CRC recomputed).
    p.scanlines[0] = 9;
    CHECK_THROWS_WITH(decode(make_png(p)), logreg_test::contains("not a valid PNG file"));
}

TEST_CASE("PNG and PGM headers that declare a huge image are refused before any pixel is allocated", "[image]") {
    PngParts p;
    p.width = 46000;
    p.height = 46000;
    p.scanlines = Bytes(100, 0);  // far too little data: only the header is ever looked at
    CHECK_THROWS_WITH(decode(make_png(p)), logreg_test::contains("46000x46000, larger than the limit of 8192x8192"));
    CHECK_THROWS_WITH(decode(text_bytes("P5\n46000 46000\n255\n\1\2\3")),
                      logreg_test::contains("46000x46000, larger than the limit"));
    p.width = p.height = 4000;  // within the limits, but 100 bytes of deflate cannot hold 16 MB of rows
    CHECK_THROWS_WITH(decode(make_png(p)),
                      logreg_test::contains("declares a 4000x4000 image (16004000 bytes of rows)"));
    // A caller that needs 784 pixels refuses 56x56 and 784x2 before decoding.
    const ImageLimits mnist = ImageLimits::for_pixels(784);
    p.width = p.height = 56;
    CHECK_THROWS_WITH(decode(make_png(p), mnist), logreg_test::contains("3136 pixels, more than the limit of 784"));
    CHECK_THROWS_WITH(decode(text_bytes("P5 784 2 255\n"), mnist), logreg_test::contains("more than the limit"));
    p.width = 0;
    CHECK_THROWS_AS(decode(make_png(p)), FormatError);
    CHECK_THROWS_WITH(decode(text_bytes("P5 0 3 255\n")), logreg_test::contains("0x3; it is empty"));
}

TEST_CASE("PGM binary images scale every maxval to 0..255 and plain PGM reads the same pixels", "[image][pgm]") {
    auto gen = logreg_test::rng(304);
    for (unsigned maxval : {255u, 1u, 100u, 256u, 1000u, 65535u}) {
        CAPTURE(maxval);
        const int w = 6, h = 4;
        std::uniform_int_distribution<unsigned> sample(0, maxval);
        std::vector<unsigned> v(w * h);
        for (auto& x : v) x = sample(gen);
        v[0] = maxval;
        v[1] = 0;
        const std::string header =
            "P5\n# a comment\n" + std::to_string(w) + " " + std::to_string(h) + "\n" + std::to_string(maxval) + "\n";
        Bytes p5 = text_bytes(header);
        std::string p2 = "P2 " + std::to_string(w) + "\t" + std::to_string(h) + " #c\n" + std::to_string(maxval) + "\n";
        for (unsigned x : v) {
            if (maxval > 255) p5.push_back(static_cast<std::uint8_t>(x >> 8));
            p5.push_back(static_cast<std::uint8_t>(x & 0xFF));
            p2 += std::to_string(x) + (p2.size() % 7 == 0 ? "\n" : " ");
        }
        const GrayImage a = decode(p5), b = decode(text_bytes(p2));
        REQUIRE(a.width == w);
        REQUIRE(a.height == h);
        REQUIRE(a.pixels.size() == v.size());
        for (std::size_t i = 0; i < v.size(); ++i) REQUIRE(a.pixels[i] == scaled(v[i], maxval));
        CHECK(a.pixels[0] == 255);
        CHECK(a.pixels[1] == 0);
        CHECK(b.pixels == a.pixels);
    }
}

TEST_CASE("PGM with a bad maxval, field, length or sample is refused naming what is wrong", "[image][pgm]") {
    const auto refused = [](const std::string& file, const std::string& why) {
        CAPTURE(file);
        CHECK_THROWS_WITH(decode(text_bytes(file)), logreg_test::contains("test.img: PGM: " + why));
    };
    refused("P5 2 2 0\n\1\1\1\1", "maxval is 0; it must be in 1..65535");
    refused("P5 2 2 65536\n\1\1\1\1\1\1\1\1", "maxval is 65536");
    refused("P5 2 2 -5\n\1\1\1\1", "maxval is not a non-negative decimal number");
    refused("P5 2 2 1e3\n\1\1\1\1", "maxval is not a non-negative decimal number");
    refused("P5 2 2", "the header ends before maxval");
    refused("P5 2 2 255", "no whitespace after maxval");
    refused("P5 99999999999 2 255\n", "width has too many digits");
    refused("P5 2 x 255\n", "height is not a non-negative decimal number");
    refused("P52 2 255\n", "no whitespace before width");
    refused(std::string("P5 2 2 255\n\1\2\3"), "the pixel data is truncated: 3 bytes for a 2x2 image");
    refused(std::string("P5 2 2 1000\n\0\1\0\1\0\1", 18), "the pixel data is truncated: 6 bytes");
    refused(std::string("P5 2 2 255\n\1\2\3\4\5"), "1 bytes after the pixel data (one image per file)");
    refused(std::string("P5 2 1 100\n\1\145", 13), "pixel (1, 0) is 101, above maxval 100");
    refused(std::string("P5 1 2 300\n\0\1\1\55", 15), "pixel (0, 1) is 301, above maxval 300");
    refused("P2 2 2 255\n1 2 3", "the pixel data is truncated");
    refused("P2 2 2 255\n1 2 3 4 5", "1 bytes after the pixel data");
    refused("P2 2 2 255\n1 2 3 256", "pixel (1, 1) is 256, above maxval 255");
    refused("P2 2 2 255\n1 2 -3 4", "a sample is not a non-negative decimal number");
}

TEST_CASE("Files that are not PNG or PGM never reach a decoder", "[image]") {
    // The inputs that crashed or hung stb_image: a 16-bit PPM header, a JPEG start, a Radiance HDR start.
    for (const std::string& file : {std::string("P6\n1 1\n65535\n\1"), std::string("\xFF\xD8\xFF\xC4\x01\x00", 6),
                                    std::string("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n"), std::string("BM"),
                                    std::string("GIF89a"), std::string(), std::string("P")}) {
        CAPTURE(file);
        CHECK_THROWS_WITH(decode(text_bytes(file)), logreg_test::contains("test.img: not a PNG or PGM image"));
    }
}

TEST_CASE("read_gray_image refuses a missing file, a folder, a FIFO and an oversized file by name", "[image]") {
    const logreg_test::TempDir dir("logreg_test_image");
    CHECK_THROWS_WITH(logreg::io::read_gray_image(dir / "missing.png"),
                      logreg_test::contains("missing.png: cannot open: No such file or directory"));
    fs::create_directories(dir / "folder.png");
    CHECK_THROWS_WITH(logreg::io::read_gray_image(dir / "folder.png"),
                      logreg_test::contains("folder.png: cannot open: it is a directory"));
    REQUIRE(::mkfifo((dir / "fifo.pgm").c_str(), 0600) == 0);
    CHECK_THROWS_WITH(logreg::io::read_gray_image(dir / "fifo.pgm"),
                      logreg_test::contains("fifo.pgm: cannot open: it is a FIFO"));
    const std::string pgm = write_file(dir, "digit.pgm", text_bytes("P5 28 28 255\n" + std::string(784, '\x7f')));
    CHECK(logreg::io::read_gray_image(pgm, ImageLimits::for_pixels(784)).pixels == Bytes(784, 0x7f));
    ImageLimits small;
    small.max_file_bytes = 100;
    CHECK_THROWS_WITH(logreg::io::read_gray_image(pgm, small),
                      logreg_test::contains("digit.pgm: the file is 797 bytes, more than"));
}

}  // namespace image_reader_test
