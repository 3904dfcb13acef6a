// tests/report/png_check.cpp - checks a browser screenshot: a PNG of the expected size that is not
// blank (enough ink, colours and contrast), with some of the report's red "misclassified" frames.
//
//   report_png_check SCREENSHOT.png WIDTH HEIGHT
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s SCREENSHOT.png WIDTH HEIGHT\n", argv[0]);
        return 2;
    }
    const int want_w = std::atoi(argv[2]), want_h = std::atoi(argv[3]);
    int w = 0, h = 0, channels = 0;
    // Read the signature ourselves: stb would also accept other formats.
    if (FILE* f = std::fopen(argv[1], "rb")) {
        unsigned char sig[8] = {};
        const std::size_t got = std::fread(sig, 1, 8, f);
        std::fclose(f);
        const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
        for (std::size_t i = 0; i < 8; ++i)
            if (got != 8 || sig[i] != png[i]) {
                std::fprintf(stderr, "png_check: %s is not a PNG file\n", argv[1]);
                return 1;
            }
    } else {
        std::fprintf(stderr, "png_check: cannot open %s\n", argv[1]);
        return 1;
    }
    unsigned char* px = stbi_load(argv[1], &w, &h, &channels, 3);
    if (px == nullptr) {
        std::fprintf(stderr, "png_check: cannot decode %s: %s\n", argv[1], stbi_failure_reason());
        return 1;
    }
    const long long n = static_cast<long long>(w) * h;
    long long ink = 0, red = 0;
    double sum = 0, sum2 = 0;
    std::set<int> colours;
    for (long long i = 0; i < n; ++i) {
        const int r = px[3 * i], g = px[3 * i + 1], b = px[3 * i + 2];
        const double lum = 0.299 * r + 0.587 * g + 0.114 * b;
        sum += lum;
        sum2 += lum * lum;
        if (lum < 200) ++ink;
        if (r > 170 && g < 90 && b < 90) ++red;
        colours.insert(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
    }
    stbi_image_free(px);
    const double mean = sum / static_cast<double>(n);
    const double sd = std::sqrt(std::fmax(0.0, sum2 / static_cast<double>(n) - mean * mean));
    const double ink_share = static_cast<double>(ink) / static_cast<double>(n);
    std::printf("png_check: %d x %d, %zu colours, ink %.1f%%, luminance sd %.1f, red pixels %lld\n", w, h,
                colours.size(), 100.0 * ink_share, sd, red);
    int failures = 0;
    if (w != want_w || h != want_h) {
        std::fprintf(stderr, "png_check: size %d x %d, expected %d x %d\n", w, h, want_w, want_h);
        ++failures;
    }
    if (colours.size() < 64 || ink_share < 0.03 || sd < 8) {
        std::fprintf(stderr, "png_check: the screenshot looks blank\n");
        ++failures;
    }
    if (red < 500) {
        std::fprintf(stderr, "png_check: no red frames of misclassified samples visible\n");
        ++failures;
    }
    return failures == 0 ? 0 : 1;
}
