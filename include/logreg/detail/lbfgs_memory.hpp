// logreg/detail/lbfgs_memory.hpp - the limited-memory inverse-Hessian approximation of L-BFGS:
// the last m steps s_k = x_{k+1} - x_k and gradient changes y_k = g_{k+1} - g_k, and the
// two-loop recursion that applies the approximation to a vector (Nocedal and Wright, Numerical
// Optimization, 2nd ed., algorithm 7.4) with the initial matrix H0 = (s'y / y'y) I of the newest
// pair. Dot products are summed in double, so a float solver's directions do not lose digits.
// Buffers are sized by reset(); add() and apply() never allocate.
#pragma once

#include <logreg/types.hpp>

#include <algorithm>
#include <limits>
#include <vector>

namespace logreg::detail {

template <typename Scalar>
class LBFGSMemory {
public:
    using Vec = Vector<Scalar>;
    using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  // one pair per column

    /// Room for `m` pairs of vectors of size `n`; forgets every pair.
    void reset(Index n, int m) {
        s_.resize(n, m);
        y_.resize(n, m);
        rho_.assign(static_cast<std::size_t>(m), 0.0);
        alpha_.assign(static_cast<std::size_t>(m), 0.0);
        count_ = 0;
        newest_ = -1;
    }

    /// Forgets every pair, keeping the buffers.
    void clear() {
        count_ = 0;
        newest_ = -1;
    }

    Index size() const { return s_.rows(); }
    int capacity() const { return static_cast<int>(s_.cols()); }
    int count() const { return count_; }

    /// Adds the pair (s, y), dropping the oldest when full. Returns false and keeps the memory
    /// unchanged if s'y is not safely positive (the update would not stay positive definite).
    template <typename S, typename Y>
    bool add(const Eigen::MatrixBase<S>& s, const Eigen::MatrixBase<Y>& y) {
        const double sy = dot(s, y), yy = dot(y, y);
        if (!(sy > std::numeric_limits<double>::epsilon() * yy) || !(yy > 0)) return false;
        newest_ = (newest_ + 1) % capacity();
        s_.col(newest_) = s;
        y_.col(newest_) = y;
        rho_[static_cast<std::size_t>(newest_)] = 1.0 / sy;
        count_ = std::min(count_ + 1, capacity());
        return true;
    }

    /// The i-th stored pair, oldest first (i < count()).
    auto s(int i) const { return s_.col(slot(i)); }
    auto y(int i) const { return y_.col(slot(i)); }

    /// out = -H g: the L-BFGS search direction (steepest descent while the memory is empty).
    template <typename G>
    void direction(const Eigen::MatrixBase<G>& g, Vec& out) {
        out = g;
        for (int i = count_ - 1; i >= 0; --i) {  // newest to oldest
            const int k = slot(i);
            const double a = rho_[static_cast<std::size_t>(k)] * dot(s_.col(k), out);
            alpha_[static_cast<std::size_t>(k)] = a;
            out -= static_cast<Scalar>(a) * y_.col(k);
        }
        if (count_ > 0) {
            const int k = newest_;
            out *= static_cast<Scalar>(1.0 / (rho_[static_cast<std::size_t>(k)] * dot(y_.col(k), y_.col(k))));
        }
        for (int i = 0; i < count_; ++i) {  // oldest to newest
            const int k = slot(i);
            const double b = rho_[static_cast<std::size_t>(k)] * dot(y_.col(k), out);
            out += static_cast<Scalar>(alpha_[static_cast<std::size_t>(k)] - b) * s_.col(k);
        }
        out = -out;
    }

private:
    int slot(int i) const { return (newest_ - count_ + 1 + i + capacity()) % capacity(); }

    template <typename A, typename B>
    static double dot(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
        return a.template cast<double>().dot(b.template cast<double>());
    }

    Mat s_, y_;
    std::vector<double> rho_, alpha_;  // rho_k = 1 / (s_k' y_k); alpha_k: scratch of the first loop
    int count_ = 0;
    int newest_ = -1;  // column of the newest pair
};

}  // namespace logreg::detail
