// logreg/io/csv.hpp - a labelled table from a CSV file (raw or gzip-compressed) into a Dataset.
//
// The text is split into fields by libcsv (Debian libcsv-dev) in strict mode: RFC 4180 quoting
// ("a ""quoted"", field"), fields that hold the delimiter or line breaks, LF or CRLF line ends,
// blank lines skipped. What this header adds is what a data set needs of it:
//   - optional leading lines skipped before the table (scikit-learn's wine_data.csv opens with a
//     count line), then an optional header row naming the columns;
//   - the label column chosen by name or index; its values are class labels of any text, mapped
//     to 0..k-1 in sorted order (numeric order when every label is a number, as scikit-learn's
//     LabelEncoder does), or to the classes the caller fixes (a test file read with the classes of
//     its training file);
//   - every other column numeric: a missing, non-numeric or non-finite value is a FormatError
//     naming the file, the line, the column (number and name) and the value.
// The reader is streamed: the file is read in 64 KiB pieces and fed to the parser a line at a
// time, so memory is the table (up to about twice while it grows) plus one row; limits on the text size, the row length
// and the number of classes (CsvOptions) bound what a hostile file can make it do.
//
// Needs libcsv (LOGREG_HAVE_CSV, the CMake target logreg::io links it when found) and, for .gz
// files, zlib.
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/detail/byte_source.hpp>
#include <logreg/io/table.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef LOGREG_HAVE_CSV
#error \
    "logreg/io/csv.hpp needs libcsv: link the CMake target logreg::io (built with libcsv) or define LOGREG_HAVE_CSV and link -lcsv"
#endif
#include <csv.h>

namespace logreg::io {

/// A column of a table: by name (the file needs a header row) or by 0-based index, where a
/// negative index counts from the end (-1: the last column), as in Python.
class CsvColumn {
public:
    /// The column at `index` (-1: the last one).
    CsvColumn(int index = -1) : index_(index) {}  // NOLINT(google-explicit-constructor): label = 0
    /// The column named `name` in the header row.
    CsvColumn(std::string name) : name_(std::move(name)) {}  // NOLINT(google-explicit-constructor)
    CsvColumn(const char* name) : name_(name) {}             // NOLINT(google-explicit-constructor)

    /// A column as a command line names it: the header's column of that name if there is one,
    /// otherwise, when `text` is an integer, the column at that index.
    static CsvColumn parse(const std::string& text) {
        CsvColumn c(text);
        int value = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (!text.empty() && ec == std::errc() && ptr == end) c.index_ = value;
        return c;
    }

    const std::optional<std::string>& name() const { return name_; }
    const std::optional<int>& index() const { return index_; }

    /// How a message names the request: "'class'" or "index -1".
    std::string describe() const {
        if (name_) return "'" + logreg::detail::excerpt(*name_) + "'";
        return "index " + std::to_string(*index_);
    }

private:
    std::optional<std::string> name_;
    std::optional<int> index_;
};

/// How to read a CSV file. The defaults read a comma-separated file with a header row whose
/// last column holds the labels.
struct CsvOptions {
    char delimiter = ',';        ///< ',' or ';' or '\t' (quote character: ")
    std::size_t skip_lines = 0;  ///< lines dropped before the table (counted by line feeds)
    bool header = true;          ///< the first row of the table names the columns
    CsvColumn label = -1;        ///< the column holding the class labels
    /// The classes, in index order; a label outside them is an error. Empty: the sorted distinct
    /// labels of the file (give a test file its training file's classes).
    std::vector<std::string> classes;
    std::uint64_t max_bytes = std::uint64_t{1} << 32;  ///< largest (decompressed) text read: 4 GiB
    std::size_t max_row_bytes = std::size_t{1} << 24;  ///< longest row, quoted line breaks included: 16 MiB
    std::size_t max_classes = 10000;                   ///< most distinct labels when `classes` is empty
};

namespace detail {

/// The state of one read: what the parser's callbacks build and the first error they met. The
/// callbacks never throw (libcsv is C: an exception must not cross it); read_csv checks error()
/// after each line it feeds and throws there.
template <typename Feature>
class CsvBuilder {
public:
    /// What the label column is: labels mapped to classes, a column left out (its text unread), or
    /// absent (every column is a feature; options.label and options.classes unused).
    enum class Labels { read, skip, none };

    CsvBuilder(const std::string& path, const CsvOptions& options, Labels labels)
        : path_(path), options_(options), labels_(labels), classes_(mapper(path, options)) {}

    // libcsv is C: no exception may unwind through it, so one (std::bad_alloc) is kept and rethrown
    // by check() after csv_parse returns.
    static void on_field(void* text, std::size_t size, void* self) noexcept {
        auto* b = static_cast<CsvBuilder*>(self);
        try {
            b->field(static_cast<const char*>(text), size);
        } catch (...) {
            if (!b->exception_) b->exception_ = std::current_exception();
        }
    }
    static void on_row_end(int, void* self) noexcept {
        auto* b = static_cast<CsvBuilder*>(self);
        try {
            b->row_end();
        } catch (...) {
            if (!b->exception_) b->exception_ = std::current_exception();
        }
    }

    /// Rethrows what a callback met: an exception, or the first error as a FormatError.
    void check() const {
        if (exception_) std::rethrow_exception(exception_);
        if (error_) throw FormatError(*error_);
    }

    void set_line(std::uint64_t line) { line_ = line; }
    const std::optional<std::string>& error() const { return error_; }

    Table<Feature> finish() {
        RowMatrix<Feature> x = features();
        auto [names, labels] =
            std::move(classes_).finish(logreg::detail::cat("CSV file '", path_, "': the label column ", label_name()));
        const auto k = static_cast<int>(names.size());
        return Table<Feature>{Dataset<Feature>(std::move(x), std::move(labels), k), std::move(names),
                              std::move(feature_names_)};
    }

    /// The feature columns (all columns without labels), row-major.
    RowMatrix<Feature> features() {
        if (rows_ == 0)
            throw FormatError(logreg::detail::cat("CSV file '", path_, "': no data rows",
                                                  options_.header ? " after the header row" : "",
                                                  options_.skip_lines > 0 ? " (after the skipped lines)" : ""));
        const auto d = static_cast<Index>(columns_ - (labels_ != Labels::none ? 1 : 0));
        RowMatrix<Feature> x = Eigen::Map<const RowMatrix<Feature>>(values_.data(), static_cast<Index>(rows_), d);
        values_ = {};
        return x;
    }

    std::vector<std::string>& feature_names() { return feature_names_; }

private:
    static ClassMapper mapper(const std::string& path, const CsvOptions& options) {
        try {
            return ClassMapper(options.classes, options.max_classes);
        } catch (const InvalidParameter& e) {
            throw InvalidParameter("read_csv '" + path + "': CsvOptions::classes: " + e.what());
        }
    }

    void fail(std::string message) {
        if (!error_) error_ = std::move(message);
    }

    std::string where() const { return logreg::detail::cat("CSV file '", path_, "', line ", line_); }

    std::string column_text(std::size_t c) const {
        std::string s = logreg::detail::cat("column ", c + 1);
        if (c < header_.size()) s += " ('" + logreg::detail::excerpt(header_[c]) + "')";
        return s;
    }

    std::string label_name() const { return column_text(label_); }

    void field(const char* text, std::size_t size) {
        if (error_ || exception_) return;
        const std::size_t c = field_++;
        if (columns_ == 0) {  // the first row: kept as text until its length is known
            first_row_.emplace_back(text ? std::string(text, size) : std::string());
            return;
        }
        if (c >= columns_) {
            if (c == columns_)
                fail(logreg::detail::cat(where(), ": more than the ", columns_, " fields of the first row"));
            return;
        }
        value(c, text, size);
    }

    void row_end() {
        if (error_ || exception_) return;
        if (columns_ == 0) {
            start_table();
            if (error_ || header_row_pending_) {
                header_row_pending_ = false;
                field_ = 0;
                return;
            }
        } else if (field_ < columns_) {
            fail(logreg::detail::cat(where(), ": ", field_, " fields, but the first row has ", columns_));
            return;
        }
        field_ = 0;
        ++rows_;
    }

    /// The first row ends: the number of columns and the label column are now known.
    void start_table() {
        std::vector<std::string> row = std::move(first_row_);
        first_row_.clear();
        if (labels_ != Labels::none && row.size() < 2) {
            fail(logreg::detail::cat(where(), ": the first row has ", row.size(),
                                     " field; a table needs a label column and at least one feature column",
                                     options_.delimiter != ',' ? "" : " (is the delimiter ',' right?)"));
            return;
        }
        columns_ = row.size();
        if (options_.header) header_ = row;
        label_ = columns_;  // no label column
        if (labels_ != Labels::none && !resolve_label()) return;
        if (options_.header) {
            for (std::size_t c = 0; c < columns_; ++c)
                if (c != label_) feature_names_.push_back(header_[c]);
            header_row_pending_ = true;
            return;
        }
        for (std::size_t c = 0; c < columns_; ++c) value(c, row[c].data(), row[c].size());
    }

    bool resolve_label() {
        const CsvColumn& want = options_.label;
        if (want.name() && options_.header) {
            const auto it = std::find(header_.begin(), header_.end(), *want.name());
            if (it != header_.end()) {
                label_ = static_cast<std::size_t>(it - header_.begin());
                return true;
            }
        }
        if (want.index()) {
            const long n = static_cast<long>(columns_), i = *want.index();  // long: no overflow in n + i
            if (i >= n || i < -n) {
                fail(logreg::detail::cat(where(), ": the label column index ", i, " is outside the ", n,
                                         " columns of the first row"));
                return false;
            }
            label_ = static_cast<std::size_t>(i < 0 ? n + i : i);
            return true;
        }
        std::string columns;
        for (std::size_t c = 0; c < header_.size() && c < 20; ++c)
            columns += (c ? ", '" : "'") + logreg::detail::excerpt(header_[c], 32) + "'";
        if (header_.size() > 20) columns += ", ...";
        fail(options_.header ? logreg::detail::cat(where(), ": no column named ", want.describe(),
                                                   " in the header row (", columns, ")")
                             : logreg::detail::cat("read_csv '", path_, "': the label column ", want.describe(),
                                                   " is a name, but the file has no header row (name it by index)"));
        return false;
    }

    void value(std::size_t c, const char* text, std::size_t size) {
        std::string_view s = text ? std::string_view(text, size) : std::string_view();
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
        if (c == label_) {
            if (labels_ == Labels::read) label(c, s);
            return;
        }
        if (s.empty()) {
            fail(logreg::detail::cat(where(), ", ", column_text(c), ": missing value"));
            return;
        }
        const std::optional<double> v = parse_decimal(s);
        if (!v) {
            fail(logreg::detail::cat(where(), ", ", column_text(c), ": '", logreg::detail::excerpt(std::string(s)),
                                     "' is not a number"));
            return;
        }
        const auto f = static_cast<Feature>(*v);
        if (!std::isfinite(*v) || !std::isfinite(f)) {
            fail(logreg::detail::cat(where(), ", ", column_text(c), ": '", logreg::detail::excerpt(std::string(s)),
                                     std::isfinite(*v) ? "' is out of range for " : "' is not a finite number",
                                     std::isfinite(*v) ? (sizeof(Feature) == 4 ? "float" : "double") : ""));
            return;
        }
        values_.push_back(f);
    }

    void label(std::size_t c, std::string_view s) {
        if (s.empty()) {
            fail(logreg::detail::cat(where(), ", ", column_text(c), ": missing label"));
            return;
        }
        if (const std::optional<std::string> wrong = classes_.add(std::string(s)))
            fail(logreg::detail::cat(where(), ", ", column_text(c), ": ", *wrong));
    }

    const std::string& path_;
    const CsvOptions& options_;
    std::uint64_t line_ = 1;
    std::optional<std::string> error_;
    std::exception_ptr exception_;
    std::vector<std::string> first_row_, header_, feature_names_;
    bool header_row_pending_ = false;
    Labels labels_;
    std::size_t columns_ = 0, label_ = 0, field_ = 0, rows_ = 0;
    std::vector<Feature> values_;
    ClassMapper classes_;
};

/// libcsv's parser, freed on every exit.
class CsvParser {
public:
    explicit CsvParser(char delimiter) {
        if (csv_init(&p_, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
            throw IoError("read_csv: cannot initialise libcsv");
        csv_set_delim(&p_, static_cast<unsigned char>(delimiter));
    }
    CsvParser(const CsvParser&) = delete;
    CsvParser& operator=(const CsvParser&) = delete;
    ~CsvParser() { csv_free(&p_); }
    csv_parser* get() { return &p_; }
    /// True inside a row (a quoted field may hold line breaks); false once a row has ended.
    bool in_row() const { return p_.pstate != 0; }  // libcsv's ROW_NOT_BEGUN

private:
    csv_parser p_{};
};

}  // namespace detail

namespace detail {

/// Feeds the file to libcsv a line at a time (so that every error knows its line) into `builder`.
template <typename Feature>
void parse_csv(const std::string& path, const CsvOptions& options, CsvBuilder<Feature>& builder) {
    static_assert(std::is_floating_point_v<Feature>, "logreg::io::read_csv: Feature must be float or double");
    using logreg::detail::cat;
    const char d = options.delimiter;
    if (d == '"' || d == '\n' || d == '\r' || d == '\0' || d == ' ')
        throw InvalidParameter(
            cat("read_csv '", path, "': the delimiter cannot be a quote, a space, a line break or NUL"));

    ByteSource src(path);
    CsvParser parser(options.delimiter);
    std::vector<std::uint8_t> chunk(std::size_t{1} << 16);
    std::uint64_t line = 1, total = 0, row_bytes = 0;
    std::size_t to_skip = options.skip_lines;

    auto feed = [&](const std::uint8_t* p, std::size_t n) {
        if (csv_parse(parser.get(), p, n, CsvBuilder<Feature>::on_field, CsvBuilder<Feature>::on_row_end, &builder) !=
            n) {
            builder.set_line(line);
            builder.check();  // an exception in a callback stops nothing in libcsv; this is libcsv's own error
            const int err = csv_error(parser.get());
            throw FormatError(cat("CSV file '", path, "', line ", line, ": ",
                                  err == CSV_EPARSE ? "malformed quoting (a quote inside an unquoted field, or text "
                                                      "after a closing quote)"
                                                    : csv_strerror(err)));
        }
        builder.check();
    };

    for (;;) {
        const std::size_t got = src.read(chunk.data(), chunk.size());
        if (got == 0) break;
        total += got;
        if (total > options.max_bytes)
            throw FormatError(
                cat("CSV file '", path, "': more than ", options.max_bytes, " bytes of text (CsvOptions::max_bytes)"));
        const std::uint8_t* p = chunk.data();
        const std::uint8_t* end = p + got;
        // A UTF-8 byte-order mark (spreadsheets write one) is not part of the first column's name.
        if (total == got && got >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3;
        while (p < end) {
            const auto* nl = static_cast<const std::uint8_t*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
            const std::uint8_t* stop = nl ? nl + 1 : end;
            const auto n = static_cast<std::size_t>(stop - p);
            if (to_skip > 0) {
                if (nl) {
                    --to_skip;
                    ++line;
                }
                p = stop;
                continue;
            }
            row_bytes += n;
            if (row_bytes > options.max_row_bytes)
                throw FormatError(cat("CSV file '", path, "', line ", line, ": a row longer than ",
                                      options.max_row_bytes, " bytes (CsvOptions::max_row_bytes)"));
            builder.set_line(line);
            feed(p, n);
            if (nl) ++line;
            if (!parser.in_row()) row_bytes = 0;
            p = stop;
        }
    }
    if (to_skip > 0)
        throw FormatError(
            cat("CSV file '", path, "': it has ", line - 1, " lines, fewer than the ", options.skip_lines, " to skip"));
    builder.set_line(line);
    if (csv_fini(parser.get(), CsvBuilder<Feature>::on_field, CsvBuilder<Feature>::on_row_end, &builder) != 0 ||
        csv_error(parser.get()) == CSV_EPARSE)
        throw FormatError(
            cat("CSV file '", path, "', line ", line, ": a quoted field is not closed at the end of the file"));
    builder.check();
}

}  // namespace detail

/// Reads a CSV file (raw or gzip-compressed) into a Dataset of `Feature` (float or double).
/// Throws IoError if the file cannot be read, FormatError naming the file, line and column for
/// anything the table does not allow (see the file comment), InvalidParameter for bad options.
template <typename Feature = float>
Table<Feature> read_csv(const std::string& path, const CsvOptions& options = {}) {
    detail::CsvBuilder<Feature> builder(path, options, detail::CsvBuilder<Feature>::Labels::read);
    detail::parse_csv(path, options, builder);
    return builder.finish();
}

/// Feature rows without labels (for prediction): every column of the file is a feature.
template <typename Feature>
struct CsvFeatures {
    RowMatrix<Feature> features;
    std::vector<std::string> names;  ///< from the header row; empty without one
};

/// Reads the feature columns of a CSV file: every column, or with `skip_label_column` all but
/// options.label, whose text is not read (options.classes unused).
template <typename Feature = float>
CsvFeatures<Feature> read_csv_features(const std::string& path, const CsvOptions& options = {},
                                       bool skip_label_column = false) {
    using Builder = detail::CsvBuilder<Feature>;
    Builder builder(path, options, skip_label_column ? Builder::Labels::skip : Builder::Labels::none);
    detail::parse_csv(path, options, builder);
    RowMatrix<Feature> x = builder.features();
    return CsvFeatures<Feature>{std::move(x), std::move(builder.feature_names())};
}

}  // namespace logreg::io
