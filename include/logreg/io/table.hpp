// logreg/io/table.hpp - a labelled table read from a file, and the mapping of its labels to classes.
//
// The tabular readers (csv.hpp, npy.hpp) return a Table: a Dataset whose labels are 0..k-1, the
// class name of each index and, when the file names them, the feature names. Labels are text
// ("setosa", "3"): the classes are the sorted distinct labels - in numeric order when every label
// is a number, as scikit-learn's LabelEncoder orders them - or the classes the caller fixes, so
// that a test file maps its labels exactly as its training file did.
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace logreg::io {

/// A labelled table read from a file.
template <typename Feature>
struct Table {
    Dataset<Feature> data;                   ///< the feature columns in file order, labels 0..k-1
    std::vector<std::string> class_names;    ///< the label of each class, in index order
    std::vector<std::string> feature_names;  ///< from the file's column names; empty without them
};

namespace detail {

/// A decimal number as std::from_chars reads it, with an optional leading '+'; none for anything
/// else, trailing characters included. Underflow gives 0 (or a subnormal), overflow infinity.
inline std::optional<double> parse_decimal(std::string_view s) {
    if (!s.empty() && s.front() == '+') {
        s.remove_prefix(1);
        if (!s.empty() && s.front() == '-') return std::nullopt;
    }
    if (s.empty()) return std::nullopt;
    double v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ptr != s.data() + s.size()) return std::nullopt;
    if (ec == std::errc::result_out_of_range) {
        // from_chars reports underflow and overflow alike; strtod tells them apart (1e-400 is 0).
        const std::string copy(s);
        return std::strtod(copy.c_str(), nullptr);
    }
    if (ec != std::errc()) return std::nullopt;
    return v;
}

/// Maps label text to class indices while a file is read (see the file comment).
class ClassMapper {
public:
    /// `fixed`: the classes in index order (empty: learn them from the labels, at most `max_classes`).
    ClassMapper(std::vector<std::string> fixed, std::size_t max_classes)
        : fixed_(std::move(fixed)), max_classes_(max_classes) {
        for (std::size_t c = 0; c < fixed_.size(); ++c)
            if (!ids_.emplace(fixed_[c], static_cast<int>(c)).second)
                throw InvalidParameter("class '" + logreg::detail::excerpt(fixed_[c]) + "' is given twice");
        if (fixed_.size() == 1) throw InvalidParameter("one class is given; a classifier needs two");
        if (fixed_.empty() && max_classes_ < 2) throw InvalidParameter("max_classes must be >= 2");
    }

    /// Adds one row's label; returns what is wrong with it (the caller adds where it is), or nothing.
    std::optional<std::string> add(const std::string& label) {
        if (!fixed_.empty()) {
            const auto it = ids_.find(label);
            if (it == ids_.end()) {
                std::string known;
                for (std::size_t k = 0; k < fixed_.size() && k < 10; ++k)
                    known += (k ? ", '" : "'") + logreg::detail::excerpt(fixed_[k], 32) + "'";
                if (fixed_.size() > 10) known += ", ...";
                return logreg::detail::cat("label '", logreg::detail::excerpt(label), "' is not one of the ",
                                           fixed_.size(), " classes (", known, ")");
            }
            ids_of_rows_.push_back(it->second);
            return std::nullopt;
        }
        const auto [it, inserted] = ids_.emplace(label, static_cast<int>(seen_.size()));
        if (inserted) {
            if (seen_.size() == max_classes_) {
                ids_.erase(it);
                return logreg::detail::cat("more than ", max_classes_,
                                           " distinct labels (max_classes); is this the label column?");
            }
            seen_.push_back(label);
        }
        ids_of_rows_.push_back(it->second);
        return std::nullopt;
    }

    /// The class names and each row's class index. Throws FormatError("<where>: ...") when the
    /// labels name fewer than two classes and none were fixed.
    std::pair<std::vector<std::string>, LabelVector> finish(const std::string& where) && {
        LabelVector labels(static_cast<Index>(ids_of_rows_.size()));
        if (!fixed_.empty()) {
            for (std::size_t i = 0; i < ids_of_rows_.size(); ++i) labels[static_cast<Index>(i)] = ids_of_rows_[i];
            return {std::move(fixed_), std::move(labels)};
        }
        if (seen_.size() < 2)
            throw FormatError(logreg::detail::cat(
                where,
                seen_.empty() ? " holds no labels"
                              : " holds one class only ('" + logreg::detail::excerpt(seen_[0]) + "')",
                "; a classifier needs two"));
        std::vector<int> order(seen_.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
        sort(order);
        std::vector<int> rank(seen_.size());
        std::vector<std::string> names;
        for (std::size_t r = 0; r < order.size(); ++r) {
            rank[static_cast<std::size_t>(order[r])] = static_cast<int>(r);
            names.push_back(seen_[static_cast<std::size_t>(order[r])]);
        }
        for (std::size_t i = 0; i < ids_of_rows_.size(); ++i)
            labels[static_cast<Index>(i)] = rank[static_cast<std::size_t>(ids_of_rows_[i])];
        return {std::move(names), std::move(labels)};
    }

private:
    /// Numeric order when every label is a finite number (ties such as "1" and "1.0": by text), else byte order.
    void sort(std::vector<int>& order) const {
        std::vector<double> numbers;
        for (const std::string& s : seen_) {
            const std::optional<double> v = parse_decimal(s);
            if (!v || !std::isfinite(*v)) break;
            numbers.push_back(*v);
        }
        const bool numeric = numbers.size() == seen_.size();
        std::sort(order.begin(), order.end(), [&](int a, int b) {
            const auto ua = static_cast<std::size_t>(a), ub = static_cast<std::size_t>(b);
            if (numeric && numbers[ua] != numbers[ub]) return numbers[ua] < numbers[ub];
            return seen_[ua] < seen_[ub];
        });
    }

    std::vector<std::string> fixed_;
    std::size_t max_classes_;
    std::unordered_map<std::string, int> ids_;
    std::vector<std::string> seen_;  // distinct labels in order of appearance (classes not fixed)
    std::vector<int> ids_of_rows_;
};

}  // namespace detail
}  // namespace logreg::io
