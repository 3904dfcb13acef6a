// logreg/io/report.hpp - a training run as one self-contained HTML page: loss and accuracy
// plots (inline SVG drawn here), sample predictions (PNG data: URIs) and the confusion matrix.
//
// The page loads nothing: no scripts, fonts, style sheets or images from anywhere, so it can be
// mailed, archived or opened offline. The output depends only on the data (no time stamps), so
// two runs with the same results give the same file.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/atomic_file.hpp>
#include <logreg/io/png.hpp>
#include <logreg/metrics.hpp>
#include <logreg/solver_report.hpp>
#include <logreg/train_report.hpp>
#include <logreg/types.hpp>
#include <logreg/version.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <locale>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logreg::io {

/// One image of the evaluated set with the model's verdict on it.
struct SampleImage {
    std::vector<std::uint8_t> pixels;  ///< `height` rows of `width` pixels of `channels` bytes, no padding
    int width = 0;                     ///< pixels per row
    int height = 0;                    ///< rows
    int channels = 1;                  ///< 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    int predicted = 0;                 ///< the model's class
    int truth = 0;                     ///< the label
    double confidence = std::numeric_limits<double>::quiet_NaN();  ///< probability of `predicted` (NaN: unknown)
    long long index = -1;                                          ///< row in the evaluated set (-1: unknown)

    /// True when the prediction matches the label.
    bool correct() const { return predicted == truth; }
};

/// Everything write_html_report() shows. Empty parts (no batches, no validation, no confusion
/// matrix, no samples) leave their section with a short note instead of a plot.
struct ReportData {
    std::string title = "Training report";  ///< page title and heading
    std::vector<double> batch_losses;       ///< every batch's mean loss, in order (TrainReport::batch_losses)
    std::vector<EpochRecord> epochs;        ///< one record per epoch (TrainReport::history)
    /// A full-batch solver's run (SolverReport::history): when given, the page shows the objective
    /// and the gradient per iteration instead of the loss and accuracy per epoch.
    std::vector<SolverIteration> iterations;
    ConfusionMatrix confusion;             ///< rows: true class, columns: predicted class (may be empty)
    std::vector<std::string> class_names;  ///< empty: the class numbers; else one name per class
    double test_accuracy = std::numeric_limits<double>::quiet_NaN();  ///< in [0, 1]; NaN: not measured
    double test_loss = std::numeric_limits<double>::quiet_NaN();      ///< NaN: not measured
    std::vector<SampleImage> samples;             ///< shown correct ones first, then misclassified ones
    std::map<std::string, std::string> settings;  ///< shown as a table (options, data set, timings, ...)
    int image_scale = 3;                          ///< sample images are enlarged this many times, in [1, 16]
};

namespace detail::report {

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// Text for HTML element content and attribute values (double- or single-quoted).
inline std::string escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

/// A stream that writes numbers the same way whatever the global locale (SVG needs '.').
inline std::ostringstream classic_stream() {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    return out;
}

/// Fixed-point with `decimals` digits; "-0.0" becomes "0.0".
inline std::string fixed(double v, int decimals) {
    if (!std::isfinite(v)) return "n/a";
    if (std::fabs(v) < 0.5 * std::pow(10.0, -decimals)) v = 0.0;
    auto out = classic_stream();
    out.setf(std::ios::fixed);
    out.precision(decimals);
    out << v;
    return out.str();
}

/// `digits` significant digits ("0.2857", "2.303", "1e-05").
inline std::string general(double v, int digits) {
    if (!std::isfinite(v)) return "n/a";
    auto out = classic_stream();
    out.precision(digits);
    out << v;
    return out.str();
}

/// A loss with 4 significant digits, trailing zeros kept so that a column lines up ("0.3480").
inline std::string loss_text(double v) {
    if (!std::isfinite(v)) return "n/a";
    auto out = classic_stream();
    out.setf(std::ios::showpoint);
    out.precision(4);
    out << v;
    return out.str();
}

/// A fraction as a percentage: 0.9234 -> "92.34%".
inline std::string percent(double fraction, int decimals = 2) {
    return std::isfinite(fraction) ? fixed(100.0 * fraction, decimals) + "%" : "n/a";
}

/// An SVG coordinate.
inline std::string coord(double v) {
    return fixed(v, 1);
}

inline std::string class_name(const ReportData& d, long long c) {
    if (c >= 0 && static_cast<std::size_t>(c) < d.class_names.size()) return d.class_names[static_cast<std::size_t>(c)];
    return std::to_string(c);
}

// ---- plots ----------------------------------------------------------------------------------

/// One axis: its range, linear or log10, and where the labelled ticks go.
struct Axis {
    double lo = 0, hi = 1;
    bool log = false;
    std::vector<double> ticks;
    int decimals = 0;  ///< of the tick labels of a linear axis
};

/// 1, 2 or 5 times a power of ten, at least span / target.
inline double nice_step(double span, int target, bool integer) {
    const double raw = span / std::max(1, target);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = 10.0 * mag;
    for (const double m : {1.0, 2.0, 5.0})
        if (m * mag >= raw * (1 - 1e-9)) {
            step = m * mag;
            break;
        }
    return integer ? std::max(1.0, std::round(step)) : step;
}

/// A linear axis over [lo, hi] (hi > lo) with about `target` ticks at round values.
inline Axis linear_axis(double lo, double hi, int target, bool integer = false) {
    if (!std::isfinite(lo)) lo = 0;
    if (!(hi > lo) || !std::isfinite(hi)) hi = lo + 1;  // a degenerate range would give a zero step
    Axis a;
    a.lo = lo;
    a.hi = hi;
    const double step = nice_step(hi - lo, target, integer);
    const auto first = static_cast<long long>(std::ceil(lo / step - 1e-9));
    const auto last = static_cast<long long>(std::floor(hi / step + 1e-9));
    for (long long k = first; k <= last; ++k) a.ticks.push_back(static_cast<double>(k) * step);
    a.decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    return a;
}

/// A log10 axis over [lo, hi] (0 < lo < hi) with ticks at 1, 2, 5 (or 1..9) times powers of ten.
inline Axis log_axis(double lo, double hi) {
    Axis a;
    a.lo = lo;
    a.hi = hi;
    a.log = true;
    const int d0 = static_cast<int>(std::floor(std::log10(lo)));
    const int d1 = static_cast<int>(std::ceil(std::log10(hi)));
    const std::vector<std::vector<double>> mantissas = {{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
    for (std::size_t level = d1 - d0 >= 4 ? 0 : 1; level < mantissas.size() && a.ticks.size() < 3; ++level) {
        a.ticks.clear();
        for (int d = d0; d <= d1; ++d)
            for (const double m : mantissas[level]) {
                const double t = m * std::pow(10.0, d);
                if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) a.ticks.push_back(t);
            }
    }
    if (a.ticks.size() < 2) a.ticks = linear_axis(lo, hi, 4).ticks;  // less than a decade: round linear values
    return a;
}

inline std::string tick_label(const Axis& a, double v) {
    return a.log ? general(v, 3) : fixed(v, a.decimals);
}

/// Position of `v` along the axis in [0, 1], clamped: clipped values sit on the edge.
inline double axis_fraction(const Axis& a, double v) {
    double f = 0;
    if (a.log) {
        f = v > 0 ? (std::log10(v) - std::log10(a.lo)) / (std::log10(a.hi) - std::log10(a.lo)) : 0.0;
    } else {
        f = (v - a.lo) / (a.hi - a.lo);
    }
    return std::clamp(f, 0.0, 1.0);
}

/// A plot area inside an SVG of width x height (viewBox units = CSS pixels at full size).
struct Frame {
    double width = 1000, height = 360;
    double left = 72, right = 24, top = 18, bottom = 58;
    Axis x, y;

    double px(double v) const { return left + axis_fraction(x, v) * (width - left - right); }
    double py(double v) const { return height - bottom - axis_fraction(y, v) * (height - top - bottom); }
};

/// How a legend entry is drawn.
enum class Mark { thin_line, line_with_dots, dots, dashed };

struct Series {
    std::string label;
    std::string color;
    Mark mark = Mark::line_with_dots;
    std::vector<std::pair<double, double>> points;  ///< (x, y); a non-finite y breaks the line
};

inline void svg_open(std::ostream& o, const Frame& f, const std::string& label) {
    o << "<svg class=\"plot\" viewBox=\"0 0 " << coord(f.width) << ' ' << coord(f.height)
      << "\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-label=\"" << escape(label)
      << "\" style=\"max-width:" << coord(f.width) << "px\">\n";
}

inline void svg_axes(std::ostream& o, const Frame& f, const std::string& x_label, const std::string& y_label) {
    const double x0 = f.left, x1 = f.width - f.right, y0 = f.height - f.bottom, y1 = f.top;
    o << "<rect x=\"" << coord(x0) << "\" y=\"" << coord(y1) << "\" width=\"" << coord(x1 - x0) << "\" height=\""
      << coord(y0 - y1) << "\" fill=\"#fbfcfd\"/>\n<g class=\"grid\">\n";
    for (const double t : f.y.ticks)
        o << "<line x1=\"" << coord(x0) << "\" x2=\"" << coord(x1) << "\" y1=\"" << coord(f.py(t)) << "\" y2=\""
          << coord(f.py(t)) << "\"/>\n";
    for (const double t : f.x.ticks)
        o << "<line class=\"v\" x1=\"" << coord(f.px(t)) << "\" x2=\"" << coord(f.px(t)) << "\" y1=\"" << coord(y0)
          << "\" y2=\"" << coord(y1) << "\"/>\n";
    o << "</g>\n<g class=\"axis\">\n<path d=\"M" << coord(x0) << ' ' << coord(y1) << "V" << coord(y0) << "H"
      << coord(x1) << "\"/>\n";
    for (const double t : f.y.ticks)
        o << "<line x1=\"" << coord(x0 - 5) << "\" x2=\"" << coord(x0) << "\" y1=\"" << coord(f.py(t)) << "\" y2=\""
          << coord(f.py(t)) << "\"/><text x=\"" << coord(x0 - 9) << "\" y=\"" << coord(f.py(t))
          << "\" dy=\"0.32em\" text-anchor=\"end\">" << tick_label(f.y, t) << "</text>\n";
    for (const double t : f.x.ticks)
        o << "<line x1=\"" << coord(f.px(t)) << "\" x2=\"" << coord(f.px(t)) << "\" y1=\"" << coord(y0) << "\" y2=\""
          << coord(y0 + 5) << "\"/><text x=\"" << coord(f.px(t)) << "\" y=\"" << coord(y0 + 20)
          << "\" text-anchor=\"middle\">" << tick_label(f.x, t) << "</text>\n";
    o << "<text class=\"title\" x=\"" << coord((x0 + x1) / 2) << "\" y=\"" << coord(f.height - 12)
      << "\" text-anchor=\"middle\">" << escape(x_label) << "</text>\n<text class=\"title\" transform=\"translate("
      << coord(18) << ' ' << coord((y0 + y1) / 2) << ") rotate(-90)\" text-anchor=\"middle\">" << escape(y_label)
      << "</text>\n</g>\n";
}

/// SVG path data through the points, starting a new piece after every non-finite value.
inline std::string path_data(const Frame& f, const std::vector<std::pair<double, double>>& points) {
    std::string d;
    bool pen_down = false;
    for (const auto& [x, y] : points) {
        if (!std::isfinite(x) || !std::isfinite(y)) {
            pen_down = false;
            continue;
        }
        d += pen_down ? "L" : "M";
        d += coord(f.px(x));
        d += ' ';
        d += coord(f.py(y));
        pen_down = true;
    }
    return d;
}

inline void svg_series(std::ostream& o, const Frame& f, const Series& s) {
    const std::string d = path_data(f, s.points);
    if (s.mark != Mark::dots && !d.empty()) {
        o << "<path d=\"" << d << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-linejoin=\"round\"";
        if (s.mark == Mark::thin_line) o << " stroke-width=\"1\" stroke-opacity=\"0.55\"";
        if (s.mark == Mark::line_with_dots) o << " stroke-width=\"2.25\"";
        if (s.mark == Mark::dashed) o << " stroke-width=\"1.75\" stroke-dasharray=\"7 5\"";
        o << "/>\n";
    }
    if (s.mark == Mark::line_with_dots || s.mark == Mark::dots) {
        // Dots would hide the line when there are many epochs.
        const double r = s.points.size() > 60 ? 2.0 : 4.0;
        for (const auto& [x, y] : s.points)
            if (std::isfinite(x) && std::isfinite(y))
                o << "<circle cx=\"" << coord(f.px(x)) << "\" cy=\"" << coord(f.py(y)) << "\" r=\"" << coord(r)
                  << "\" fill=\"" << s.color << "\" stroke=\"#fff\" stroke-width=\"1.5\"/>\n";
    }
}

/// A boxed legend in the top-right (or bottom-right) corner of the plot area.
inline void svg_legend(std::ostream& o, const Frame& f, const std::vector<Series>& series, bool bottom) {
    std::size_t longest = 0;
    for (const Series& s : series) longest = std::max(longest, s.label.size());
    const double row = 22, w = 52 + 7.4 * static_cast<double>(longest),
                 h = 12 + row * static_cast<double>(series.size());
    const double x = f.width - f.right - w - 12, y = bottom ? f.height - f.bottom - h - 12 : f.top + 12;
    o << "<g class=\"legend\"><rect x=\"" << coord(x) << "\" y=\"" << coord(y) << "\" width=\"" << coord(w)
      << "\" height=\"" << coord(h) << "\" rx=\"6\"/>\n";
    for (std::size_t i = 0; i < series.size(); ++i) {
        const Series& s = series[i];
        const double cy = y + 6 + row * (static_cast<double>(i) + 0.5), lx = x + 12;
        o << "<line x1=\"" << coord(lx) << "\" x2=\"" << coord(lx + 26) << "\" y1=\"" << coord(cy) << "\" y2=\""
          << coord(cy) << "\" stroke=\"" << s.color << "\"";
        if (s.mark == Mark::thin_line) o << " stroke-width=\"1.5\" stroke-opacity=\"0.6\"";
        if (s.mark == Mark::line_with_dots) o << " stroke-width=\"2.25\"";
        if (s.mark == Mark::dashed) o << " stroke-width=\"1.75\" stroke-dasharray=\"7 5\"";
        if (s.mark == Mark::dots) o << " stroke-width=\"0\"";
        o << "/>";
        if (s.mark == Mark::line_with_dots || s.mark == Mark::dots)
            o << "<circle cx=\"" << coord(lx + 13) << "\" cy=\"" << coord(cy) << "\" r=\"4\" fill=\"" << s.color
              << "\" stroke=\"#fff\" stroke-width=\"1.5\"/>";
        o << "<text x=\"" << coord(lx + 36) << "\" y=\"" << coord(cy) << "\" dy=\"0.32em\">" << escape(s.label)
          << "</text>\n";
    }
    o << "</g>\n";
}

/// The batch losses reduced to at most ~2 points per pixel column: each bucket keeps its minimum
/// and maximum (in order), so spikes survive and the page stays small for long runs.
inline std::vector<std::pair<double, double>> decimate(const std::vector<std::pair<double, double>>& points,
                                                       std::size_t buckets) {
    if (points.size() <= 2 * buckets) return points;
    const std::size_t per = (points.size() + buckets - 1) / buckets;
    std::vector<std::pair<double, double>> out;
    for (std::size_t begin = 0; begin < points.size(); begin += per) {
        const std::size_t end = std::min(points.size(), begin + per);
        std::size_t lo = end, hi = end;
        bool broken = false;
        for (std::size_t i = begin; i < end; ++i) {
            if (!std::isfinite(points[i].second)) {
                broken = true;
                continue;
            }
            if (lo == end || points[i].second < points[lo].second) lo = i;
            if (hi == end || points[i].second > points[hi].second) hi = i;
        }
        if (lo != end) out.push_back(points[std::min(lo, hi)]);
        if (hi != end && hi != lo) out.push_back(points[std::max(lo, hi)]);
        if (broken) out.emplace_back(points[end - 1].first, nan);
    }
    return out;
}

/// The y range of loss values: from the smallest to the largest epoch-level value or the 99.5th
/// percentile of the batch losses, whichever is larger (a few early spikes do not flatten the rest).
inline std::pair<double, double> loss_range(const std::vector<double>& batches, const std::vector<double>& others) {
    std::vector<double> b;
    for (const double v : batches)
        if (std::isfinite(v)) b.push_back(v);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const double v : b) lo = std::min(lo, v);
    for (const double v : others)
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    if (!b.empty()) {
        std::sort(b.begin(), b.end());
        hi = std::max(hi, b[static_cast<std::size_t>(0.995 * static_cast<double>(b.size() - 1))]);
    }
    return {lo, hi};
}

inline void no_data(std::ostream& o, const std::string& text) {
    o << "<p class=\"empty\">" << escape(text) << "</p>\n";
}

/// Epoch e spans x in [e - 1, e] on the loss plot; batch i of the run sits in the middle of its slot.
inline void loss_plot(std::ostream& o, const ReportData& d) {
    std::vector<double> epoch_values;
    for (const EpochRecord& e : d.epochs) {
        epoch_values.push_back(e.train_loss);
        epoch_values.push_back(e.val_loss);
    }
    const auto [lo, hi] = loss_range(d.batch_losses, epoch_values);
    if (!(lo <= hi)) return no_data(o, "No finite training loss was recorded.");

    const std::size_t n_batches = d.batch_losses.size(), n_epochs = d.epochs.size();
    // Whole epochs have equal batch counts; a run stopped mid-epoch has a few extra batches.
    const bool in_epochs = n_epochs > 0 && n_batches >= n_epochs;
    const double per_epoch =
        in_epochs ? std::floor(static_cast<double>(n_batches) / static_cast<double>(n_epochs)) : 1.0;
    const double origin = n_epochs > 0 ? d.epochs.front().epoch - 1.0 : 0.0;

    Series batches{"loss per batch", "#4e8fd1", Mark::thin_line, {}};
    for (std::size_t i = 0; i < n_batches; ++i) {
        const double x = in_epochs ? origin + (static_cast<double>(i) + 0.5) / per_epoch : static_cast<double>(i + 1);
        batches.points.emplace_back(x, d.batch_losses[i]);
    }
    Series means{"epoch mean (train)", "#1a4f8b", Mark::line_with_dots, {}};
    Series val{"validation loss", "#e8710a", Mark::line_with_dots, {}};
    bool any_val = false;
    for (const EpochRecord& e : d.epochs) {
        if (in_epochs || n_batches == 0) means.points.emplace_back(e.epoch - 0.5, e.train_loss);
        val.points.emplace_back(static_cast<double>(e.epoch), e.val_loss);
        any_val = any_val || std::isfinite(e.val_loss);
    }
    if (!in_epochs && n_batches > 0) val.points.clear();  // no common x axis for batches and epochs

    Frame f;
    f.width = 1100;
    f.height = 380;
    double x_lo = 0, x_hi = 1;
    if (in_epochs || n_batches == 0) {
        x_lo = origin;
        x_hi =
            std::max(static_cast<double>(d.epochs.back().epoch), origin + static_cast<double>(n_batches) / per_epoch);
    } else {
        x_lo = 0;
        x_hi = std::max(2.0, static_cast<double>(n_batches));
    }
    f.x = linear_axis(x_lo, x_hi, 10, true);
    const bool log = lo > 0;
    if (log) {
        const double l0 = std::log10(lo), l1 = std::log10(hi), pad = std::max(0.05 * (l1 - l0), 0.04);
        f.y = log_axis(std::pow(10.0, l0 - pad), std::pow(10.0, l1 + pad));
    } else {
        f.y = linear_axis(std::min(0.0, lo), hi > lo ? hi + 0.05 * (hi - lo) : lo + 1, 6);
    }

    std::vector<Series> all;
    if (n_batches > 0) {
        batches.points = decimate(batches.points, 1000);
        all.push_back(std::move(batches));
    }
    if (!means.points.empty()) all.push_back(std::move(means));
    if (any_val && !val.points.empty()) all.push_back(std::move(val));

    svg_open(o, f, "Training loss per batch and per epoch");
    svg_axes(o, f, in_epochs || n_batches == 0 ? "epoch" : "batch",
             log ? "cross-entropy loss (log scale)" : "cross-entropy loss");
    for (const Series& s : all) svg_series(o, f, s);
    svg_legend(o, f, all, false);
    o << "</svg>\n";
}

inline void accuracy_plot(std::ostream& o, const ReportData& d) {
    Series val{"validation accuracy", "#2a9d55", Mark::line_with_dots, {}};
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const EpochRecord& e : d.epochs) {
        val.points.emplace_back(static_cast<double>(e.epoch), 100.0 * e.val_accuracy);
        if (std::isfinite(e.val_accuracy)) {
            lo = std::min(lo, 100.0 * e.val_accuracy);
            hi = std::max(hi, 100.0 * e.val_accuracy);
        }
    }
    if (!(lo <= hi)) return no_data(o, "No validation data was used, so there is no accuracy per epoch.");
    const bool has_test = std::isfinite(d.test_accuracy);
    if (has_test) {
        lo = std::min(lo, 100.0 * d.test_accuracy);
        hi = std::max(hi, 100.0 * d.test_accuracy);
    }
    const double pad = std::max(0.12 * (hi - lo), 0.5);
    Frame f;
    f.width = 620;
    f.height = 340;
    f.left = 64;
    const double first = d.epochs.front().epoch, last = d.epochs.back().epoch;
    f.x = linear_axis(first - 0.5, std::max(last, first) + 0.5, 8, true);
    f.y = linear_axis(std::max(0.0, lo - pad), std::min(100.0, hi + pad), 6);
    std::vector<Series> all{val};
    if (has_test) {
        all.push_back(Series{"test accuracy (final model)",
                             "#6b4fbb",
                             Mark::dashed,
                             {{f.x.lo, 100.0 * d.test_accuracy}, {f.x.hi, 100.0 * d.test_accuracy}}});
    }
    svg_open(o, f, "Validation accuracy per epoch");
    svg_axes(o, f, "epoch", "accuracy (%)");
    for (const Series& s : all) svg_series(o, f, s);
    svg_legend(o, f, all, true);
    o << "</svg>\n";
}

/// One quantity of the solver's history per iteration, on a log axis when it stays positive.
inline void solver_plot(std::ostream& o, const ReportData& d, bool gradient) {
    Series s{
        gradient ? "gradient max |entry|" : "objective", gradient ? "#e8710a" : "#1a4f8b", Mark::line_with_dots, {}};
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const SolverIteration& it : d.iterations) {
        const double v = gradient ? it.gradient_norm : it.objective;
        s.points.emplace_back(static_cast<double>(it.iteration), v);
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    if (!(lo <= hi)) return no_data(o, "No finite value was recorded.");
    Frame f;
    f.width = 560;
    f.height = 340;
    f.left = 78;
    f.x = linear_axis(d.iterations.front().iteration, std::max<double>(d.iterations.back().iteration, 1), 8, true);
    if (lo > 0) {
        const double l0 = std::log10(lo), l1 = std::log10(hi), pad = std::max(0.05 * (l1 - l0), 0.02);
        f.y = log_axis(std::pow(10.0, l0 - pad), std::pow(10.0, l1 + pad));
    } else {
        f.y = linear_axis(lo, hi > lo ? hi + 0.05 * (hi - lo) : lo + 1, 6);
    }
    const std::string what = gradient ? "gradient max |entry|" : "objective";
    svg_open(o, f, what + " per iteration");
    svg_axes(o, f, "iteration", what + (lo > 0 ? " (log scale)" : ""));
    svg_series(o, f, s);
    o << "</svg>\n";
}

inline void iteration_table(std::ostream& o, const ReportData& d) {
    o << "<div class=\"scroll\"><table class=\"data\">\n<thead><tr><th>iteration</th><th>objective</th>"
         "<th>gradient max |entry|</th><th>step</th><th title=\"loss-and-gradient evaluations\">evaluations</th>"
         "<th>time (s)</th></tr></thead>\n<tbody>\n";
    for (const SolverIteration& it : d.iterations)
        o << "<tr><td>" << it.iteration << "</td><td>" << general(it.objective, 10) << "</td><td>"
          << general(it.gradient_norm, 4) << "</td><td>" << general(it.step, 4) << "</td><td>" << it.evaluations
          << "</td><td>" << fixed(it.elapsed_seconds, 3) << "</td></tr>\n";
    o << "</tbody></table></div>\n";
}

// ---- tables and images ----------------------------------------------------------------------

inline void epoch_table(std::ostream& o, const ReportData& d) {
    o << "<div class=\"scroll\"><table class=\"data\">\n<thead><tr><th>epoch</th><th>train loss</th>"
         "<th>val loss</th><th>val accuracy</th><th title=\"learning rate\">lr</th><th>time (s)</th></tr></thead>\n"
         "<tbody>\n";
    for (const EpochRecord& e : d.epochs)
        o << "<tr><td>" << e.epoch << "</td><td>" << loss_text(e.train_loss) << "</td><td>" << loss_text(e.val_loss)
          << "</td><td>" << percent(e.val_accuracy) << "</td><td>" << general(e.lr, 4) << "</td><td>"
          << fixed(e.seconds, 2) << "</td></tr>\n";
    o << "</tbody></table></div>\n";
}

/// "#rrggbb" between two colours.
inline std::string mix(const int (&a)[3], const int (&b)[3], double t) {
    static constexpr char hex[] = "0123456789abcdef";
    t = std::clamp(t, 0.0, 1.0);
    std::string s = "#";
    for (int k = 0; k < 3; ++k) {
        const auto v = static_cast<int>(std::lround(a[k] + (b[k] - a[k]) * t));
        s += hex[v / 16];
        s += hex[v % 16];
    }
    return s;
}

inline void confusion_section(std::ostream& o, const ReportData& d) {
    const ConfusionMatrix& cm = d.confusion;
    if (cm.size() == 0) return no_data(o, "No confusion matrix was given.");
    static constexpr int white_blue[3] = {247, 251, 255}, blue[3] = {8, 81, 156};
    static constexpr int white_red[3] = {255, 245, 240}, red[3] = {203, 24, 29};
    const Index k = cm.rows();
    o << "<div class=\"cm-layout\">\n<div class=\"scroll-x\"><table class=\"cm\">\n<thead><tr><th class=\"corner\">"
         "true &#8595; / predicted &#8594;</th>";
    for (Index c = 0; c < k; ++c) o << "<th scope=\"col\">" << escape(class_name(d, c)) << "</th>";
    o << "</tr></thead>\n<tbody>\n";
    for (Index t = 0; t < k; ++t) {
        const long long row_sum = cm.row(t).sum();
        o << "<tr><th scope=\"row\">" << escape(class_name(d, t)) << "</th>";
        for (Index p = 0; p < k; ++p) {
            const long long n = cm(t, p);
            const double share = row_sum > 0 ? static_cast<double>(n) / static_cast<double>(row_sum) : 0.0;
            // Off-diagonal shares are small: a square-root scale makes a 1% confusion visible.
            const double shade = t == p ? share : std::sqrt(share);
            std::string style;
            if (n == 0) {
                style = "color:#b6bec8";
            } else {
                style = "background:" + (t == p ? mix(white_blue, blue, shade) : mix(white_red, red, shade));
                if (shade > 0.55) style += ";color:#fff";
            }
            o << "<td style=\"" << style << "\" title=\"true " << escape(class_name(d, t)) << ", predicted "
              << escape(class_name(d, p)) << ": " << n << " (" << percent(share, 1) << " of the class)\">" << n
              << "</td>";
        }
        o << "</tr>\n";
    }
    o << "</tbody></table></div>\n";

    const ClassificationReport r = classification_report(cm);
    o << "<table class=\"data scores\">\n<thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
         "<th>support</th></tr></thead>\n<tbody>\n";
    for (std::size_t c = 0; c < r.classes.size(); ++c) {
        const ClassScores& s = r.classes[c];
        o << "<tr><th scope=\"row\">" << escape(class_name(d, static_cast<long long>(c))) << "</th><td>"
          << percent(s.precision, 1) << "</td><td>" << percent(s.recall, 1) << "</td><td>" << percent(s.f1, 1)
          << "</td><td>" << s.support << "</td></tr>\n";
    }
    o << "</tbody>\n<tfoot><tr><th scope=\"row\">macro avg</th><td>" << percent(r.macro_precision, 1) << "</td><td>"
      << percent(r.macro_recall, 1) << "</td><td>" << percent(r.macro_f1, 1) << "</td><td>" << cm.sum()
      << "</td></tr></tfoot>\n</table>\n</div>\n<p class=\"note\">Rows are true classes, columns predicted "
         "classes. Colour shows the share of the row: blue for correct predictions, red for confusions (square-root "
         "scale, so that small confusions show). Precision: share of a column that is correct; recall: share of a "
         "row that is correct.</p>\n";
}

inline void sample_figure(std::ostream& o, const ReportData& d, const SampleImage& s) {
    const std::vector<std::uint8_t> big = upscale_nearest(s.pixels, s.width, s.height, s.channels, d.image_scale);
    const std::string png =
        png_data_uri(encode_png(big, s.width * d.image_scale, s.height * d.image_scale, s.channels));
    const std::string pred = escape(class_name(d, s.predicted)), truth = escape(class_name(d, s.truth));
    const std::string conf = std::isfinite(s.confidence) ? percent(s.confidence, 1) : std::string();
    const std::string id = s.index >= 0 ? "#" + std::to_string(s.index) : std::string("sample");
    const bool ok = s.correct();
    o << "<figure class=\"sample " << (ok ? "right" : "wrong") << "\" title=\"" << escape(id) << ": predicted " << pred
      << ", true " << truth << (conf.empty() ? "" : ", confidence " + conf) << "\"><img src=\"" << png << "\" width=\""
      << s.width * d.image_scale << "\" height=\"" << s.height * d.image_scale << "\" alt=\"" << escape(id)
      << ": predicted " << pred << ", true " << truth << "\"><figcaption>";
    if (ok)
        o << "<span class=\"pred\">" << pred << "</span>";
    else
        o << "<span class=\"pred\">&#10007; " << pred << "</span><span class=\"truth\">true " << truth << "</span>";
    if (!conf.empty()) o << "<span class=\"conf\">" << conf << "</span>";
    o << "</figcaption></figure>\n";
}

inline void samples_section(std::ostream& o, const ReportData& d) {
    if (d.samples.empty()) return no_data(o, "No sample images were given.");
    std::size_t right = 0;
    for (const SampleImage& s : d.samples) right += s.correct() ? 1u : 0u;
    const std::size_t wrong = d.samples.size() - right;
    int widest = 0;
    for (const SampleImage& s : d.samples) widest = std::max(widest, s.width * d.image_scale);
    const int column = std::max(96, widest + 16);  // image plus frame and padding
    for (const bool correct : {true, false}) {
        const std::size_t count = correct ? right : wrong;
        if (count == 0) continue;
        o << "<h3>" << (correct ? "Correctly classified" : "Misclassified") << " <span class=\"count\">(" << count
          << ")</span></h3>\n<div class=\"grid\" style=\"grid-template-columns:repeat(auto-fill,minmax(" << column
          << "px,1fr))\">\n";
        for (const SampleImage& s : d.samples)
            if (s.correct() == correct) sample_figure(o, d, s);
        o << "</div>\n";
    }
    o << "<p class=\"note\">Under each image: the predicted class and the model's probability for it; "
         "misclassified images have a red frame and show the true class.</p>\n";
}

inline void check(const ReportData& d) {
    if (d.image_scale < 1 || d.image_scale > 16)
        throw InvalidParameter(
            logreg::detail::cat("ReportData: 'image_scale' is ", d.image_scale, "; it must be in [1, 16]"));
    if (d.confusion.rows() != d.confusion.cols())
        throw ShapeError(logreg::detail::cat("ReportData: the confusion matrix is ", d.confusion.rows(), " x ",
                                             d.confusion.cols(), "; it must be square"));
    if (d.confusion.size() != 0 && !d.class_names.empty() &&
        d.class_names.size() != static_cast<std::size_t>(d.confusion.rows()))
        throw ShapeError(logreg::detail::cat("ReportData: ", d.class_names.size(), " class names for a ",
                                             d.confusion.rows(), "-class confusion matrix"));
    for (std::size_t i = 0; i < d.samples.size(); ++i) {
        const SampleImage& s = d.samples[i];
        if (s.width < 1 || s.height < 1 || s.channels < 1 || s.channels > 4 ||
            s.pixels.size() != static_cast<std::size_t>(s.width) * static_cast<std::size_t>(s.height) *
                                   static_cast<std::size_t>(s.channels))
            throw ShapeError(logreg::detail::cat("ReportData: sample ", i, " has ", s.pixels.size(), " bytes for a ",
                                                 s.width, " x ", s.height, " image with ", s.channels, " channels"));
    }
}

// Plain CSS; the fonts are ones a system already has (nothing is downloaded).
inline constexpr const char* style_sheet = R"css(
:root { --fg: #1f2933; --muted: #5f6b7a; --line: #e3e8ee; --bg: #f4f6f9; --bad: #c62828; --good: #2a9d55; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 28px 48px; }
header h1 { font-size: 28px; line-height: 1.2; margin: 0 0 4px; font-weight: 650; letter-spacing: -0.01em; }
.subtitle { color: var(--muted); margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 14px; margin: 20px 0 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 18px; min-width: 160px; }
.card .label { font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card.main .value { color: var(--good); }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px 22px;
  margin: 20px 0 0; }
h2 { font-size: 19px; margin: 0 0 4px; font-weight: 650; }
h3 { font-size: 15px; margin: 16px 0 8px; font-weight: 600; }
h3 .count { color: var(--muted); font-weight: 400; }
.lead { color: var(--muted); margin: 0 0 14px; font-size: 14px; }
.note { color: var(--muted); font-size: 13px; margin: 12px 0 0; max-width: 880px; }
.empty { color: var(--muted); font-style: italic; margin: 8px 0; }
svg.plot { display: block; width: 100%; height: auto; }
svg.plot text { font-size: 12.5px; fill: #3e4c59; }
svg.plot .title { font-size: 13.5px; fill: var(--fg); font-weight: 600; }
svg.plot .grid line { stroke: #e6eaef; stroke-width: 1; }
svg.plot .grid line.v { stroke: #eef1f4; }
svg.plot .axis path, svg.plot .axis line { stroke: #8a96a3; stroke-width: 1; fill: none; }
svg.plot .legend rect { fill: #fff; fill-opacity: 0.92; stroke: #d5dbe2; }
svg.plot .legend text { font-size: 12.5px; fill: var(--fg); }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.row > .plot-box { flex: 1 1 500px; min-width: 0; }
.row > .table-box { flex: 0 1 auto; min-width: 0; max-width: 100%; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.data { font-size: 13.5px; width: 100%; }
table.data th, table.data td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: right;
  white-space: nowrap; }
table.data thead th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase;
  letter-spacing: 0.04em; position: sticky; top: 0; background: #fff; }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data tfoot th, table.data tfoot td { font-weight: 600; border-bottom: none; border-top: 2px solid var(--line); }
.scroll { max-height: 330px; overflow: auto; }
.scroll-x { overflow-x: auto; }
table.settings { font-size: 14px; }
table.settings th, table.settings td { text-align: left; padding: 4px 18px 4px 0; border-bottom: 1px solid var(--line);
  vertical-align: top; }
table.settings th { width: 34%; font-weight: 600; color: var(--muted); white-space: nowrap; }
table.settings td { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 13px;
  overflow-wrap: anywhere; }
.settings-grid { display: flex; flex-wrap: wrap; gap: 0 40px; align-items: flex-start; }
.settings-grid table { flex: 1 1 420px; }
.grid { display: grid; gap: 12px; }
figure.sample { margin: 0; padding: 6px 6px 4px; border: 2px solid var(--line); border-radius: 8px; background: #fff;
  text-align: center; }
figure.sample img { display: block; margin: 0 auto; image-rendering: pixelated; border-radius: 3px; }
figure.sample figcaption { font-size: 12.5px; line-height: 1.35; margin-top: 4px; display: flex;
  flex-direction: column; }
figure.sample .pred { font-weight: 650; }
figure.sample .conf { color: var(--muted); font-size: 11.5px; font-variant-numeric: tabular-nums; }
figure.sample.wrong { border: 3px solid var(--bad); background: #fff5f5; padding: 5px 5px 3px; }
figure.sample.wrong .pred, figure.sample.wrong .truth { color: var(--bad); }
figure.sample.wrong .truth { font-size: 12px; }
.cm-layout { display: flex; flex-wrap: wrap; gap: 32px; align-items: flex-start; }
table.cm { font-size: 13.5px; }
table.cm th { font-weight: 600; color: var(--muted); padding: 4px 8px; }
table.cm thead th { text-align: center; }
table.cm tbody th { text-align: right; }
table.cm th.corner { font-size: 11.5px; font-weight: 500; text-align: left; white-space: nowrap; }
table.cm td { min-width: 50px; height: 38px; text-align: center; border: 1px solid #fff; padding: 2px 6px; }
table.scores { width: auto; min-width: 360px; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 22px; text-align: center; }
)css";

}  // namespace detail::report

/// The report page as a string (see write_html_report()).
inline std::string render_html_report(const ReportData& d) {
    namespace r = detail::report;
    r::check(d);
    std::ostringstream o;
    o.imbue(std::locale::classic());
    const bool has_val = std::any_of(d.epochs.begin(), d.epochs.end(),
                                     [](const EpochRecord& e) { return std::isfinite(e.val_accuracy); });

    o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"generator\" content=\"logreg "
      << logreg::version << "\">\n<title>" << r::escape(d.title) << "</title>\n<style>" << r::style_sheet
      << "</style>\n</head>\n<body>\n<main>\n";

    // (1) summary: headline numbers and the settings
    o << "<header id=\"summary\">\n<h1>" << r::escape(d.title) << "</h1>\n<p class=\"subtitle\">Multinomial "
      << "logistic regression &middot; report written by logreg " << logreg::version << "</p>\n<div class=\"cards\">\n";
    auto card = [&o](const std::string& label, const std::string& value, bool main_card) {
        o << "<div class=\"card" << (main_card ? " main" : "") << "\"><div class=\"label\">" << r::escape(label)
          << "</div><div class=\"value\">" << r::escape(value) << "</div></div>\n";
    };
    card("test accuracy", r::percent(d.test_accuracy), true);
    if (std::isfinite(d.test_loss)) card("test loss", r::loss_text(d.test_loss), false);
    if (!d.iterations.empty()) {
        card("iterations", std::to_string(d.iterations.back().iteration), false);
        card("final objective", r::general(d.iterations.back().objective, 8), false);
        card("gradient max |entry|", r::general(d.iterations.back().gradient_norm, 3), false);
        card("training time", r::fixed(d.iterations.back().elapsed_seconds, 2) + " s", false);
    }
    if (!d.epochs.empty()) {
        card("epochs", std::to_string(d.epochs.size()), false);
        card("final train loss", r::loss_text(d.epochs.back().train_loss), false);
        if (has_val) {
            double best = -1;
            for (const EpochRecord& e : d.epochs)
                if (std::isfinite(e.val_accuracy)) best = std::max(best, e.val_accuracy);
            card("best val accuracy", r::percent(best), false);
        }
        double seconds = 0;
        for (const EpochRecord& e : d.epochs) seconds += e.seconds;
        card("training time", r::fixed(seconds, 1) + " s", false);
    }
    o << "</div>\n</header>\n";
    if (!d.settings.empty()) {
        // Two tables side by side (top to bottom, then the second column) unless there are only a few.
        const std::size_t half = d.settings.size() <= 4 ? d.settings.size() : (d.settings.size() + 1) / 2;
        o << "<section id=\"settings\">\n<h2>Settings</h2>\n<div class=\"settings-grid\">\n";
        std::size_t i = 0;
        for (const auto& [key, value] : d.settings) {
            if (i == 0 || i == half) o << "<table class=\"settings\"><tbody>\n";
            o << "<tr><th scope=\"row\">" << r::escape(key) << "</th><td>" << r::escape(value) << "</td></tr>\n";
            if (++i == half || i == d.settings.size()) o << "</tbody></table>\n";
        }
        o << "</div>\n</section>\n";
    }

    if (!d.iterations.empty()) {
        // (2) a full-batch solver: objective and gradient per iteration
        o << "<section id=\"solver\">\n<h2>Solver progress</h2>\n<p class=\"lead\">The regularized objective "
             "(mean cross-entropy + penalty) and the largest entry of its gradient after each iteration; "
             "iteration 0 is the starting point.</p>\n<div class=\"row\"><div class=\"plot-box\">\n";
        r::solver_plot(o, d, false);
        o << "</div>\n<div class=\"plot-box\">\n";
        r::solver_plot(o, d, true);
        o << "</div></div>\n";
        r::iteration_table(o, d);
        o << "</section>\n";
    } else {
        // (2) loss
        o << "<section id=\"loss\">\n<h2>Training loss</h2>\n<p class=\"lead\">Mean cross-entropy of every mini-batch "
             "(thin line), its mean over each epoch"
          << (has_val ? " and the validation loss after each epoch" : "") << ".</p>\n";
        r::loss_plot(o, d);
        o << "</section>\n";

        // (3) accuracy per epoch, with the numbers beside it
        o << "<section id=\"accuracy\">\n<h2>Validation accuracy per epoch</h2>\n<p class=\"lead\">Measured on the "
             "held-out validation set after each epoch"
          << (std::isfinite(d.test_accuracy) ? "; the dashed line is the final model's test accuracy" : "")
          << ".</p>\n<div class=\"row\"><div class=\"plot-box\">\n";
        r::accuracy_plot(o, d);
        o << "</div>\n<div class=\"table-box\">\n";
        if (d.epochs.empty())
            r::no_data(o, "No epochs were recorded.");
        else
            r::epoch_table(o, d);
        o << "</div></div>\n</section>\n";
    }

    // (4) samples
    o << "<section id=\"samples\">\n<h2>Sample predictions</h2>\n";
    r::samples_section(o, d);
    o << "</section>\n";

    // (5) confusion matrix and per-class scores
    o << "<section id=\"confusion\">\n<h2>Confusion matrix</h2>\n";
    if (d.confusion.size() != 0)
        o << "<p class=\"lead\">" << d.confusion.sum() << " test samples; accuracy "
          << r::percent(classification_report(d.confusion).accuracy) << ".</p>\n";
    r::confusion_section(o, d);
    o << "</section>\n<footer>logreg " << logreg::version
      << " &middot; this page is self-contained: it loads no scripts, fonts or images from elsewhere.</footer>\n"
         "</main>\n</body>\n</html>\n";
    return o.str();
}

/// Writes the report as one self-contained HTML file at `path`, atomically (a reader never sees a
/// partial page; on failure a previous file is left as it was). Throws IoError naming `path` if
/// the file cannot be written, InvalidParameter / ShapeError if `data` is inconsistent.
inline void write_html_report(const std::string& path, const ReportData& data) {
    const std::string html = render_html_report(data);  // before touching the file system
    write_file_atomically(
        path, [&html](std::ostream& out) { out.write(html.data(), static_cast<std::streamsize>(html.size())); });
}

/// The report's loss plot (every batch's loss, the epoch means and the validation loss) as a
/// standalone SVG document, for a figure of its own (a notebook's `plt.savefig`). Throws
/// InvalidParameter when `data` holds no finite training loss.
inline std::string loss_curve_svg(const ReportData& data) {
    detail::report::check(data);
    std::ostringstream plot;
    detail::report::loss_plot(plot, data);
    std::string svg = plot.str();
    if (svg.rfind("<svg", 0) != 0)
        throw InvalidParameter("loss_curve_svg: the report data hold no finite training loss to plot");
    // Standalone: the SVG namespace, a white background and the plot styles the page would give.
    svg.insert(4, " xmlns=\"http://www.w3.org/2000/svg\"");
    const std::size_t end_of_open_tag = svg.find('>') + 1;
    svg.insert(end_of_open_tag,
               "\n<style>text { font: 12.5px \"DejaVu Sans\", Arial, sans-serif; fill: #3e4c59; } "
               ".grid line { stroke: #e6eaef; stroke-width: 1; } .grid line.v { stroke: #eef1f4; } "
               ".axis path, .axis line { stroke: #8a96a3; stroke-width: 1; fill: none; } "
               ".legend rect { fill: #fff; fill-opacity: 0.92; stroke: #d5dbe2; } .legend text { fill: #1f2933; }"
               "</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>");
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg;
}

/// Writes loss_curve_svg(data) to `path`, atomically. Throws IoError naming `path` if the file
/// cannot be written.
inline void write_loss_curve_svg(const std::string& path, const ReportData& data) {
    const std::string svg = loss_curve_svg(data);  // before touching the file system
    write_file_atomically(
        path, [&svg](std::ostream& out) { out.write(svg.data(), static_cast<std::streamsize>(svg.size())); });
}

/// Picks sample images for a report, deterministically: the first `max_correct` correctly
/// classified rows and the first `max_wrong` misclassified rows of `images`, in row order.
/// `images` holds one width x height gray image per row; `probabilities` (one row per image,
/// one column per class, as LinearSoftmax::predict_proba returns) gives each sample's confidence
/// and may be empty (0 rows), which leaves the confidences NaN.
template <typename Derived>
std::vector<SampleImage> pick_samples(const RowMatrix<std::uint8_t>& images, int width, int height,
                                      const LabelVector& truth, const LabelVector& predicted,
                                      const Eigen::MatrixBase<Derived>& probabilities, std::size_t max_correct = 24,
                                      std::size_t max_wrong = 24) {
    if (width < 1 || height < 1 || static_cast<Index>(width) * height != images.cols())
        throw ShapeError(logreg::detail::cat("pick_samples: images have ", images.cols(), " pixels per row, not ",
                                             width, " x ", height));
    if (truth.size() != images.rows() || predicted.size() != images.rows())
        throw ShapeError(logreg::detail::cat("pick_samples: ", images.rows(), " images but ", truth.size(),
                                             " labels and ", predicted.size(), " predictions"));
    const bool has_p = probabilities.rows() != 0;
    if (has_p && probabilities.rows() != images.rows())
        throw ShapeError(logreg::detail::cat("pick_samples: ", images.rows(), " images but ", probabilities.rows(),
                                             " rows of probabilities"));
    std::vector<SampleImage> out;
    std::size_t n_correct = 0, n_wrong = 0;
    for (Index i = 0; i < images.rows() && (n_correct < max_correct || n_wrong < max_wrong); ++i) {
        const bool ok = predicted[i] == truth[i];
        if (ok ? n_correct >= max_correct : n_wrong >= max_wrong) continue;
        ++(ok ? n_correct : n_wrong);
        SampleImage s;
        s.pixels.assign(images.row(i).data(), images.row(i).data() + images.cols());
        s.width = width;
        s.height = height;
        s.predicted = predicted[i];
        s.truth = truth[i];
        s.index = static_cast<long long>(i);
        if (has_p && predicted[i] >= 0 && predicted[i] < probabilities.cols())
            s.confidence = static_cast<double>(probabilities(i, predicted[i]));
        out.push_back(std::move(s));
    }
    return out;
}

/// pick_samples() without probabilities: the confidences stay NaN.
inline std::vector<SampleImage> pick_samples(const RowMatrix<std::uint8_t>& images, int width, int height,
                                             const LabelVector& truth, const LabelVector& predicted,
                                             std::size_t max_correct = 24, std::size_t max_wrong = 24) {
    return pick_samples(images, width, height, truth, predicted, RowMatrix<double>(), max_correct, max_wrong);
}

}  // namespace logreg::io
