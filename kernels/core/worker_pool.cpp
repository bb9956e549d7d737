#include "worker_pool.hpp"

#include <system_error>

namespace espcn {

WorkerPool::WorkerPool(int threads) : threads_(threads > 0 ? threads : 1) {}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread &t : pool_) t.join();
}

Status WorkerPool::start_threads() {
    try {
        while (static_cast<int>(pool_.size()) + 1 < threads_) {
            const int worker = static_cast<int>(pool_.size()) + 1;
            pool_.emplace_back([this, worker] { work(worker); });
        }
    } catch (const std::system_error &e) {
        return Status(ESPCN_ERROR_OUT_OF_MEMORY,
                      concat("cannot start CPU thread ", pool_.size() + 1, " of ", threads_, ": ", e.what()));
    }
    return Status::ok();
}

void WorkerPool::take_tasks(int worker) {
    if (worker >= active_) return;
    for (;;) {
        const int i = next_.fetch_add(1, std::memory_order_relaxed);
        if (i >= count_) return;
        (*task_)(i, worker);
    }
}

void WorkerPool::work(int worker) {
    uint64_t seen = 0;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
        }
        take_tasks(worker);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (--busy_ == 0) done_.notify_one();
        }
    }
}

Status WorkerPool::run(int count, const std::function<void(int, int)> &task) {
    if (count <= 0) return Status::ok();
    if (threads_ == 1 || count == 1) {
        for (int i = 0; i < count; ++i) task(i, 0);
        return Status::ok();
    }
    ESPCN_RETURN_IF_ERROR(start_threads());
    {
        std::lock_guard<std::mutex> lock(mutex_);
        task_ = &task;
        count_ = count;
        active_ = workers_for(count);
        next_.store(0, std::memory_order_relaxed);
        busy_ = static_cast<int>(pool_.size());
        ++generation_;
    }
    wake_.notify_all();
    take_tasks(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    task_ = nullptr;
    return Status::ok();
}

}  // namespace espcn
