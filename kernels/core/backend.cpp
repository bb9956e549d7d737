#include "backend.hpp"

#include <omp.h>

#include "plane_resample.hpp"
#include "worker_pool.hpp"

namespace espcn {

BackendConfig with_host_resources(BackendConfig cfg) {
    if (cfg.threads <= 0) cfg.threads = cfg.pool ? cfg.pool->threads() : omp_get_num_procs();
    if (!cfg.pool) cfg.pool = std::make_shared<WorkerPool>(cfg.threads);
    if (!cfg.resampler) cfg.resampler = std::make_shared<PlaneResampler>();
    return cfg;
}

}  // namespace espcn
