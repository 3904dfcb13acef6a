// The Catch2 runner of mpi_scenarios: MPI is initialised before the tests and finalised after.
// (Its own translation unit, compiled without optimisation like tests/catch_main.cpp.)
#ifdef LOGREG_CATCH_V3
#include <catch2/catch_session.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

#include <logreg/distributed/mpi.hpp>

int main(int argc, char** argv) {
    logreg::distributed::Environment mpi;
    return Catch::Session().run(argc, argv);
}
