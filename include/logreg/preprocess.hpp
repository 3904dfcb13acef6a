// logreg/preprocess.hpp - per-feature affine preprocessing, applied one batch at a time.
//
// Both supported normalisations are x' = (x - offset) * scale per feature:
//   unit:     offset 0, scale 1/max_value (pixels / 255)
//   standard: offset mean, scale 1/std, with statistics from the training part only
// Keeping the map this small lets the trainer fuse it with the uint8 -> float
// conversion of a gathered batch, and lets a model file store it exactly.
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/types.hpp>

#include <cmath>
#include <string>

namespace logreg {

/// The kind of normalisation a Preprocessor applies.
enum class Normalization { none, unit, standard };

inline const char* to_string(Normalization n) {
    switch (n) {
        case Normalization::none: return "none";
        case Normalization::unit: return "unit";
        case Normalization::standard: return "standard";
    }
    return "?";
}

inline Normalization parse_normalization(const std::string& s) {
    if (s == "none") return Normalization::none;
    if (s == "unit") return Normalization::unit;
    if (s == "standard") return Normalization::standard;
    throw InvalidParameter("normalization '" + s + "' is unknown; use none, unit or standard");
}

/// x' = (x - offset) * scale, per feature, in the scalar type of the model.
template <typename Scalar>
class Preprocessor {
public:
    /// The identity map on `num_features` features.
    static Preprocessor identity(Index num_features) {
        return Preprocessor(Normalization::none, Vector<Scalar>::Zero(num_features),
                            Vector<Scalar>::Ones(num_features));
    }

    /// Divides every feature by `max_value` (255 for pixels), mapping [0, max] to [0, 1].
    static Preprocessor unit(Index num_features, double max_value = 255.0) {
        if (!(max_value > 0) || !std::isfinite(max_value))
            throw InvalidParameter(detail::cat("unit normalization: max_value is ", max_value, "; it must be > 0"));
        return Preprocessor(Normalization::unit, Vector<Scalar>::Zero(num_features),
                            Vector<Scalar>::Constant(num_features, static_cast<Scalar>(1.0 / max_value)));
    }

    /// Mean and standard deviation of each feature over the selected rows (the training part only),
    /// computed in double. A constant feature gets scale 1, so it maps to 0 rather than NaN.
    template <typename Feature>
    static Preprocessor standard(const Dataset<Feature>& data, const IndexVector& rows) {
        if (rows.size() == 0) throw DataError("standard normalization: no rows to compute statistics on");
        const Index d = data.num_features();
        Vector<double> mean = Vector<double>::Zero(d), m2 = Vector<double>::Zero(d);
        // Welford's update: one pass, stable for large counts.
        for (Index k = 0; k < rows.size(); ++k) {
            const auto row = data.features().row(rows[k]).template cast<double>();
            const double n = static_cast<double>(k + 1);
            const Vector<double> delta = row.transpose() - mean;
            mean += delta / n;
            m2.array() += delta.array() * (row.transpose() - mean).array();
        }
        Vector<double> inv_std(d);
        for (Index j = 0; j < d; ++j) {
            const double sd = std::sqrt(m2[j] / static_cast<double>(rows.size()));
            inv_std[j] = sd > 1e-12 ? 1.0 / sd : 1.0;
        }
        return Preprocessor(Normalization::standard, mean.cast<Scalar>(), inv_std.cast<Scalar>());
    }

    /// Rebuilds a preprocessor from stored statistics (a model file).
    Preprocessor(Normalization kind, Vector<Scalar> offset, Vector<Scalar> scale)
        : kind_(kind), offset_(std::move(offset)), scale_(std::move(scale)) {
        if (offset_.size() != scale_.size())
            throw ShapeError(detail::cat("Preprocessor: ", offset_.size(), " offsets but ", scale_.size(), " scales"));
        if (!offset_.allFinite() || !scale_.allFinite())
            throw NumericalError("Preprocessor: offset and scale must be finite");
        has_offsets_ = (offset_.array() != Scalar(0)).any();
    }

    Normalization kind() const { return kind_; }
    Index num_features() const { return offset_.size(); }
    const Vector<Scalar>& offset() const { return offset_; }
    const Vector<Scalar>& scale() const { return scale_; }
    /// False if every offset is 0 (none, unit): the training kernels then leave the subtraction
    /// out, which changes no bit.
    bool has_offsets() const { return has_offsets_; }

    /// Writes the preprocessed rows `rows[0..count)` of `data` into the first `count` rows of `out`.
    /// This is the gather of a shuffled mini-batch and its type conversion in one pass.
    template <typename Feature, typename OutDerived>
    void gather(const RowMatrix<Feature>& data, const Index* rows, Index count,
                Eigen::DenseBase<OutDerived>& out) const {
        for (Index i = 0; i < count; ++i)
            out.row(i) = (data.row(rows[i]).template cast<Scalar>() - offset_.transpose()).cwiseProduct(scale_.transpose());
    }

    /// Preprocesses a whole matrix (or block) and returns the result.
    template <typename Derived>
    RowMatrix<Scalar> transform(const Eigen::MatrixBase<Derived>& x) const {
        check_features(x.cols());
        RowMatrix<Scalar> out(x.rows(), x.cols());
        for (Index i = 0; i < x.rows(); ++i)
            out.row(i) = (x.row(i).template cast<Scalar>() - offset_.transpose()).cwiseProduct(scale_.transpose());
        return out;
    }

    void check_features(Index cols) const {
        if (cols != num_features())
            throw ShapeError(detail::cat("Preprocessor: data has ", cols, " features, the preprocessor expects ",
                                         num_features()));
    }

private:
    Normalization kind_ = Normalization::none;
    Vector<Scalar> offset_;
    Vector<Scalar> scale_;
    bool has_offsets_ = true;
};

}  // namespace logreg
