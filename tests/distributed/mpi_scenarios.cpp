// The training scenarios of tests/robustness/training_scenarios.hpp through one MPI rank's shard
// (distributed::fit_sharded), run by CTest on 1 and 2 ranks: every rank must reach the same
// outcome as the in-memory and memory-mapped paths, and all ranks must stop together even when a
// stop is asked for on one rank only.
#include "training_scenarios.hpp"

#include <logreg/distributed/mpi.hpp>

#include <string>

namespace {

using namespace logreg;

/// Rows [r N / P, (r + 1) N / P) of the scenario data on rank r; checkpoints in the working
/// folder, written by rank 0 and read by every rank.
struct ShardPath {
    distributed::Communicator comm{MPI_COMM_WORLD, 120.0};
    Dataset<std::uint8_t> shard, shifted_shard;
    ShardPath() {
        const distributed::RowRange r = distributed::shard_range(scenarios::rows, comm.size(), comm.rank());
        const IndexVector mine = IndexVector::LinSpaced(r.count, r.begin, r.begin + r.count - 1);
        shard = scenarios::data().subset(mine);
        shifted_shard = scenarios::data(true).subset(mine);
    }
    TrainReport fit(Trainer<float>& t) { return distributed::fit_sharded(t, shard, scenarios::pre(), comm); }
    TrainReport fit_validated(Trainer<float>& t) {
        return distributed::fit_sharded(t, shard, scenarios::pre(), comm, &shifted_shard);
    }
    std::string checkpoint(const std::string& name) const {
        return "mpi-scenarios-np" + std::to_string(comm.size()) + "-" + name;
    }
    void save(const Trainer<float>& t, const std::string& name) {
        if (comm.is_root()) io::save_checkpoint(checkpoint(name), t);
        comm.barrier("checkpoint written");
    }
    void load(Trainer<float>& t, const std::string& name) {
        io::load_checkpoint(checkpoint(name), t);
        comm.barrier("checkpoint read");  // before rank 0 may write the next one
    }
};

}  // namespace

TEST_CASE("training scenarios: MPI shards", "[scenarios][mpi]") {
    const int threads = GENERATE(1, 2);
    const bool per_step = GENERATE(true, false);
    CAPTURE(threads, per_step);
    ShardPath path;
    scenarios::run_all(path, threads, per_step);
}

TEST_CASE("a stop asked for on one rank stops every rank after the same batch", "[mpi]") {
    ShardPath path;
    const int asking = path.comm.size() - 1;  // the last rank asks; the others do not know
    Trainer<float> whole = scenarios::trainer(3, 1, true);
    path.fit(whole);

    SECTION("a batch callback mid-epoch") {
        Trainer<float> t = scenarios::trainer(3, 1, true);
        Callbacks cb;
        cb.on_batch = [&](const BatchRecord& b) {
            return !(path.comm.rank() == asking && b.epoch == 2 && b.batch == 4);
        };
        t.set_callbacks(cb);
        const TrainReport r = path.fit(t);
        REQUIRE(r.reason == StopReason::callback);
        REQUIRE(t.position().epochs_done == 1);
        REQUIRE(t.position().batches_done_in_epoch == 5);
        REQUIRE(distributed::weight_divergence(path.comm, t.model()) == 0.0);
        t.set_callbacks({});
        t.set_options(scenarios::options(2, 1, true));
        path.fit(t);
        scenarios::require_same_state(t, whole);
    }
    SECTION("the stop flag during the last batch of an epoch") {
        Trainer<float> t = scenarios::trainer(3, 1, true);
        std::atomic<bool> stop{false};
        Callbacks cb;
        cb.on_batch = [&](const BatchRecord& b) {
            if (path.comm.rank() == asking && b.epoch == 1 && b.batch + 1 == b.batches_in_epoch) stop = true;
            return true;
        };
        cb.stop = &stop;
        t.set_callbacks(cb);
        const TrainReport r = path.fit(t);
        REQUIRE(r.reason == StopReason::interrupted);
        REQUIRE(r.interrupted_epoch == 1);
        REQUIRE(t.position().epochs_done == 1);
        REQUIRE(t.position().batches_done_in_epoch == 0);
        REQUIRE(distributed::weight_divergence(path.comm, t.model()) == 0.0);
    }
    SECTION("an epoch callback") {
        Trainer<float> t = scenarios::trainer(3, 1, true);
        Callbacks cb;
        cb.on_epoch = [&](const EpochRecord& e) { return !(path.comm.rank() == asking && e.epoch == 2); };
        t.set_callbacks(cb);
        const TrainReport r = path.fit(t);
        REQUIRE(r.reason == StopReason::callback);
        REQUIRE(r.history.size() == 2);
        REQUIRE(t.position().epochs_done == 2);
    }
}
