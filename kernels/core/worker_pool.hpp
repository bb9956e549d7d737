// A fork-join pool of CPU threads that sleep while there is no work.
//
// Why not OpenMP here: after a parallel region, OpenMP's threads spin for a
// while waiting for the next one. Between frames an FFmpeg process has other
// work (decoding, encoding, its own threads); spinning threads take the cores
// it needs, and on a loaded machine a thread spins while its partner is
// descheduled. Measured with `ffmpeg -vf espcn` 640x360 x2 on the 2-core test
// machine under load: 21 frames per 2 CPU-seconds with OpenMP's default
// policy, 32 with OMP_WAIT_POLICY=passive. The pool's threads block on a
// condition variable instead (a wake-up costs microseconds, once per call).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "status.hpp"

namespace espcn {

class WorkerPool {
public:
    // threads: the calling thread plus threads − 1 workers, started on the
    // first run() that needs them.
    explicit WorkerPool(int threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    int threads() const { return threads_; }

    // Calls task(i, worker) for every i in [0, count), spread dynamically
    // over the calling thread (worker 0) and the pool's threads, of which
    // only workers 0 .. min(threads, count) − 1 take part (so a caller may
    // hold per-worker buffers for those alone); returns when all calls have
    // returned. task must not throw. One caller at a time. Fails (running
    // nothing) only if a thread cannot be started.
    [[nodiscard]] Status run(int count, const std::function<void(int task, int worker)> &task);

    // The workers run(count, …) uses.
    int workers_for(int count) const { return count < threads_ ? (count > 0 ? count : 0) : threads_; }

private:
    void work(int worker);
    void take_tasks(int worker);
    [[nodiscard]] Status start_threads();

    const int threads_;
    std::vector<std::thread> pool_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    uint64_t generation_ = 0;  // one per run(); workers wait for it to change
    bool stopping_ = false;
    int busy_ = 0;             // workers still in the current run
    const std::function<void(int, int)> *task_ = nullptr;
    int count_ = 0;
    int active_ = 0;           // workers 0 .. active_ − 1 take part in the current run()
    std::atomic<int> next_{0};
};

}  // namespace espcn
