// Measures the time of the per-step allreduce alone (7864 floats: an MNIST gradient, its bias and
// the loss sums), through the Communicator the trainer uses and through a blocking MPI_Allreduce.
//   mpirun -np P allreduce_latency [STEPS]      (numbers quoted in docs/scaling.md)
#include <logreg/distributed/mpi.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
    using namespace logreg;
    using Clock = std::chrono::steady_clock;
    distributed::Environment env;
    distributed::Communicator comm;
    const int steps = argc > 1 ? std::atoi(argv[1]) : 2000;
    std::vector<float> buffer(7864, 1.0f);
    const auto run = [&](bool blocking) {
        comm.barrier();
        const auto t0 = Clock::now();
        for (int i = 0; i < steps; ++i) {
            if (blocking)
                MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()), MPI_FLOAT, MPI_SUM, comm.get());
            else
                comm.allreduce_sum(buffer.data(), static_cast<Index>(buffer.size()), "gradient");
        }
        return std::chrono::duration<double>(Clock::now() - t0).count() / steps * 1e6;
    };
    const double watched = run(false), blocking = run(true);
    if (comm.is_root())
        std::printf("%d ranks, %zu floats: %.1f us per allreduce (watched Iallreduce), %.1f us (blocking MPI_Allreduce)\n",
                    comm.size(), buffer.size(), watched, blocking);
    return 0;
}
