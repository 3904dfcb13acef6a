// logreg/train_report.hpp - what training reports: why fit() returned, one record per epoch and
// per batch, and the whole report. Plain values, so that code which only shows or stores them
// (io/report.hpp, a user's logging) needs neither the trainer nor its engine.
#pragma once

#include <logreg/types.hpp>

#include <limits>
#include <string>
#include <vector>

namespace logreg {

/// Why fit() returned.
enum class StopReason { max_epochs, early_stop, callback, diverged, interrupted };

inline const char* to_string(StopReason r) {
    switch (r) {
        case StopReason::max_epochs:
            return "max_epochs";
        case StopReason::early_stop:
            return "early_stop";
        case StopReason::callback:
            return "callback";
        case StopReason::diverged:
            return "diverged";
        case StopReason::interrupted:
            return "interrupted";
    }
    return "?";
}

/// One line of the training history.
struct EpochRecord {
    int epoch = 0;  ///< 1-based, counting across fit() calls
    double train_loss = 0;
    double val_loss = std::numeric_limits<double>::quiet_NaN();      ///< NaN without validation data
    double val_accuracy = std::numeric_limits<double>::quiet_NaN();  ///< NaN without validation data
    double lr = 0;                                                   ///< learning rate of the epoch's first step
    double seconds = 0;                                              ///< wall time of the epoch (training only)
};

/// Passed to the per-batch callback.
struct BatchRecord {
    int epoch = 0;
    Index batch = 0;  ///< 0-based within the epoch
    Index batches_in_epoch = 0;
    Index samples = 0;       ///< rows in this batch
    Index samples_done = 0;  ///< rows processed so far in this epoch
    double loss = 0;         ///< mean loss of the batch before the update
    double lr = 0;
};

/// What fit() returns.
struct TrainReport {
    StopReason reason = StopReason::max_epochs;
    std::string message;
    std::vector<EpochRecord> history;  ///< epochs run in this call
    std::vector<double> batch_losses;  ///< every batch's mean loss, in order
    int best_epoch = 0;                ///< epoch with the lowest validation loss (0 without validation)
    double best_val_loss = std::numeric_limits<double>::quiet_NaN();
    int diverged_epoch = 0;  ///< set when reason == diverged
    Index diverged_batch = -1;
    int interrupted_epoch = 0;     ///< set when reason == interrupted
    Index interrupted_batch = -1;  ///< the last batch applied before stopping (0-based)
    double seconds = 0;
};

}  // namespace logreg
