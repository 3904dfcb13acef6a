// tests/report/make_synthetic_report.cpp - writes a training report from synthetic data, for the
// browser test (browser_check.sh) and the screenshot in docs/images/.
//
//   report_synthetic REPORT.html [PROBE.html]
//
// The digits are drawn as slanted seven-segment figures, the curves are smooth decays with noise,
// and the "model" makes the confusions a real MNIST model makes (4/9, 3/5, 7/1, ...). PROBE.html
// is the same page plus a small script that records in <body> attributes whether every image
// decoded and how the plots were laid out, for `chromium --dump-dom` to read back. The report
// itself has no script. Prints "images=N svgs=M" for the checker.
#include <logreg/io/report.hpp>

#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <random>
#include <string>

namespace {

constexpr int side = 28;
constexpr std::size_t pixels_per_image = std::size_t{side} * side;

// Segments as line pieces in a 0..1 box: a (top), b (top right), c (bottom right), d (bottom),
// e (bottom left), f (top left), g (middle).
struct Segment {
    double x0, y0, x1, y1;
};
constexpr Segment segments[7] = {{0, 0, 1, 0},   {1, 0, 1, 0.5}, {1, 0.5, 1, 1},  {0, 1, 1, 1},
                                 {0, 0.5, 0, 1}, {0, 0, 0, 0.5}, {0, 0.5, 1, 0.5}};
constexpr const char* digit_segments[10] = {"abcdef", "bc",     "abdeg", "abcdg",   "bcfg",
                                            "acdfg",  "acdefg", "abc",   "abcdefg", "abcdfg"};

double distance_to_segment(double px, double py, double x0, double y0, double x1, double y1) {
    const double dx = x1 - x0, dy = y1 - y0;
    const double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0.0;
    t = std::fmax(0.0, std::fmin(1.0, t));
    return std::hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}

/// A white digit on black, like MNIST, with a random position, size, slant and stroke width.
std::vector<std::uint8_t> draw_digit(int digit, std::mt19937& gen) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const double w = 10.0 + 1.5 * u(gen), h = 17.0 + 1.5 * u(gen);
    const double left = (side - w) / 2 + 1.5 * u(gen), top = (side - h) / 2 + 1.0 * u(gen);
    const double slant = 0.18 + 0.1 * u(gen), radius = 1.3 + 0.35 * u(gen);
    std::vector<std::uint8_t> img(pixels_per_image);
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
            double best = 1e9;
            for (const char* s = digit_segments[digit]; *s; ++s) {
                const Segment& g = segments[*s - 'a'];
                // Slant: the top of the digit leans right, as handwriting does.
                auto sx = [&](double sxv, double syv) { return left + sxv * w + slant * (1 - syv) * h * 0.5; };
                best = std::fmin(best, distance_to_segment(x + 0.5, y + 0.5, sx(g.x0, g.y0), top + g.y0 * h,
                                                           sx(g.x1, g.y1), top + g.y1 * h));
            }
            const double ink = std::fmax(0.0, std::fmin(1.0, radius + 0.5 - best));
            img[static_cast<std::size_t>(y) * side + static_cast<std::size_t>(x)] =
                static_cast<std::uint8_t>(std::lround(255.0 * ink));
        }
    return img;
}

constexpr const char* probe_script = R"js(<script>
window.addEventListener('load', function () {
  var imgs = document.images, loaded = 0, broken = 0;
  for (var i = 0; i < imgs.length; ++i) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) ++loaded; else ++broken;
  }
  var svgs = document.querySelectorAll('svg.plot'), svgOk = 0;
  for (var j = 0; j < svgs.length; ++j) {
    var r = svgs[j].getBoundingClientRect();
    if (r.width > 300 && r.height > 150 && svgs[j].querySelectorAll('text').length > 8) ++svgOk;
  }
  var b = document.body;
  b.setAttribute('data-images-loaded', String(loaded));
  b.setAttribute('data-images-broken', String(broken));
  b.setAttribute('data-svgs-laid-out', String(svgOk));
  b.setAttribute('data-horizontal-overflow', String(document.documentElement.scrollWidth > window.innerWidth));
  b.setAttribute('data-probe', 'done');
});
</script>
)js";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: %s REPORT.html [PROBE.html]\n", argv[0]);
        return 2;
    }
    try {
        std::mt19937 gen(2024);
        std::normal_distribution<double> noise(0.0, 1.0);
        logreg::io::ReportData d;
        d.title = "Synthetic digits \xE2\x80\x94 softmax regression";

        // Training curves: 12 epochs of 120 batches, validation after each epoch.
        const int epochs = 12, batches = 120;
        for (int e = 1; e <= epochs; ++e) {
            double sum = 0;
            for (int b = 0; b < batches; ++b) {
                const double t = (e - 1) + (b + 0.5) / batches;
                const double mean = 0.27 + 2.03 * std::exp(-3.2 * t) + 0.09 * std::exp(-0.35 * t);
                const double loss = mean * std::exp(0.16 * noise(gen));
                d.batch_losses.push_back(loss);
                sum += loss;
            }
            logreg::EpochRecord r;
            r.epoch = e;
            r.train_loss = sum / batches;
            r.val_loss = 0.295 + 0.5 * std::exp(-0.9 * e) + 0.004 * e;
            r.val_accuracy = 0.918 - 0.09 * std::exp(-0.8 * e) + 0.002 * noise(gen);
            r.lr = 0.1 * std::pow(0.5, (e - 1) / 4);
            r.seconds = 0.84 + 0.05 * noise(gen);
            d.epochs.push_back(r);
        }

        // A test set of 1000 digits and a fake model with MNIST-like confusions.
        const int n = 1000, classes = 10;
        const int confused_with[classes] = {6, 7, 8, 5, 9, 3, 0, 1, 3, 4};
        logreg::RowMatrix<std::uint8_t> images(n, side * side);
        logreg::LabelVector truth(n), predicted(n);
        logreg::RowMatrix<double> proba = logreg::RowMatrix<double>::Constant(n, classes, 0.01);
        std::uniform_real_distribution<double> u01(0.0, 1.0);
        for (int i = 0; i < n; ++i) {
            truth[i] = static_cast<int>(gen() % classes);
            const std::vector<std::uint8_t> img = draw_digit(truth[i], gen);
            for (int p = 0; p < side * side; ++p) images(i, p) = img[static_cast<std::size_t>(p)];
            const double r = u01(gen);
            predicted[i] =
                r < 0.055 ? confused_with[truth[i]] : (r < 0.08 ? static_cast<int>(gen() % classes) : truth[i]);
            const double conf = predicted[i] == truth[i] ? 0.75 + 0.25 * u01(gen) : 0.35 + 0.35 * u01(gen);
            proba(i, predicted[i]) = conf;
        }
        d.confusion = logreg::confusion_matrix(predicted, truth, classes);
        d.test_accuracy = logreg::accuracy(predicted, truth);
        d.test_loss = 0.2987;
        d.samples = logreg::io::pick_samples(images, side, side, truth, predicted, proba, 24, 24);
        d.settings = {{"data", "synthetic seven-segment digits, 28 x 28"},
                      {"train / validation / test", "54000 / 6000 / 1000"},
                      {"batch size", "64"},
                      {"epochs", "12"},
                      {"learning rate", "0.1, halved every 4 epochs"},
                      {"momentum", "0.9 (Nesterov)"},
                      {"weight decay", "0.0001"},
                      {"threads", "4"},
                      {"seed", "2024"},
                      {"stop reason", "max_epochs"}};

        logreg::io::write_html_report(argv[1], d);
        if (argc == 3) {
            std::string html = logreg::io::render_html_report(d);
            html.insert(html.rfind("</body>"), probe_script);
            std::ofstream out(argv[2], std::ios::binary);
            out << html;
            if (!out.flush()) throw logreg::IoError(std::string("cannot write '") + argv[2] + "'");
        }
        std::printf("images=%zu svgs=2\n", d.samples.size());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "report_synthetic: %s\n", e.what());
        return 1;
    }
}
