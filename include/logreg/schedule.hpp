// logreg/schedule.hpp - learning-rate schedules as pure functions of the epoch (or step).
//
// Each matches its PyTorch counterpart evaluated in closed form:
//   constant:    lr
//   step:        lr * gamma^floor(t / step_size)                    (StepLR)
//   exponential: lr * gamma^t                                       (ExponentialLR)
//   cosine:      eta_min + (lr - eta_min) * (1 + cos(pi * t / T)) / 2  (CosineAnnealingLR; like PyTorch,
//                past T the rate rises again along the cosine: t = 2T is back at lr)
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>

#include <cmath>
#include <string>

namespace logreg {

/// A learning-rate schedule; `t` counts epochs, or steps when the trainer is told so.
struct Schedule {
    enum class Kind { constant, step, exponential, cosine };

    Kind kind = Kind::constant;
    long long step_size = 1;  ///< step: decay every step_size units of t
    double gamma = 0.1;       ///< step and exponential: decay factor in (0, 1]
    long long t_max = 10;     ///< cosine: units of t until eta_min is reached
    double eta_min = 0.0;     ///< cosine: final learning rate, >= 0

    static Schedule constant() { return {}; }
    static Schedule step(long long step_size, double gamma) { return {Kind::step, step_size, gamma, 10, 0.0}; }
    static Schedule exponential(double gamma) { return {Kind::exponential, 1, gamma, 10, 0.0}; }
    static Schedule cosine(long long t_max, double eta_min = 0.0) { return {Kind::cosine, 1, 0.1, t_max, eta_min}; }

    void validate() const {
        if ((kind == Kind::step || kind == Kind::exponential) && !(gamma > 0 && gamma <= 1))
            throw InvalidParameter(detail::cat("Schedule: 'gamma' is ", gamma, "; it must satisfy 0 < gamma <= 1"));
        if (kind == Kind::step && step_size < 1)
            throw InvalidParameter(detail::cat("Schedule: 'step_size' is ", step_size, "; it must be >= 1"));
        if (kind == Kind::cosine && t_max < 1)
            throw InvalidParameter(detail::cat("Schedule: 't_max' is ", t_max, "; it must be >= 1"));
        if (kind == Kind::cosine && !(eta_min >= 0 && std::isfinite(eta_min)))
            throw InvalidParameter(detail::cat("Schedule: 'eta_min' is ", eta_min, "; it must be finite and >= 0"));
    }

    /// The learning rate at time t >= 0 for the base rate `base_lr`.
    double operator()(double base_lr, long long t) const {
        switch (kind) {
            case Kind::constant: return base_lr;
            case Kind::step: return base_lr * std::pow(gamma, static_cast<double>(t / step_size));
            case Kind::exponential: return base_lr * std::pow(gamma, static_cast<double>(t));
            case Kind::cosine: {
                const double pi = 3.14159265358979323846;
                const double frac = static_cast<double>(t) / static_cast<double>(t_max);
                return eta_min + (base_lr - eta_min) * (1 + std::cos(pi * frac)) / 2;
            }
        }
        return base_lr;
    }
};

inline const char* to_string(Schedule::Kind k) {
    switch (k) {
        case Schedule::Kind::constant: return "constant";
        case Schedule::Kind::step: return "step";
        case Schedule::Kind::exponential: return "exp";
        case Schedule::Kind::cosine: return "cosine";
    }
    return "?";
}

inline Schedule::Kind parse_schedule_kind(const std::string& s) {
    if (s == "constant") return Schedule::Kind::constant;
    if (s == "step") return Schedule::Kind::step;
    if (s == "exp" || s == "exponential") return Schedule::Kind::exponential;
    if (s == "cosine") return Schedule::Kind::cosine;
    throw InvalidParameter("schedule '" + s + "' is unknown; use constant, step, exp or cosine");
}

}  // namespace logreg
