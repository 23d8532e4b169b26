/*
 * Single-threaded stand-ins for <mutex>, <shared_mutex> and <thread> on wasm32-wasi.
 *
 * Why: Debian's libc++ for wasm32-wasi is built without threads, so these headers declare
 * nothing, yet USearch names std::mutex, std::unique_lock, std::shared_mutex, std::thread and
 * std::this_thread::yield. The WASM module runs on one thread (a JS isolate never enters it
 * twice at once), so every lock is a no-op and hardware_concurrency() is 1, which makes USearch
 * size its per-thread buffers for exactly one thread. std::thread is never started: with one
 * thread, USearch's executor runs every task on the calling thread; a start would abort.
 *
 * Passed to the compiler with `-include wasm/single_thread_compat.h` (see wasm/build.ts).
 */
#ifndef VLTAIR_SINGLE_THREAD_COMPAT_H
#define VLTAIR_SINGLE_THREAD_COMPAT_H
#ifdef __cplusplus

#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace std {

// std::defer_lock_t, try_to_lock_t and adopt_lock_t are declared by libc++ even without threads.

class mutex {
  public:
    constexpr mutex() noexcept = default;
    mutex(mutex const&) = delete;
    mutex& operator=(mutex const&) = delete;
    void lock() noexcept {}
    bool try_lock() noexcept { return true; }
    void unlock() noexcept {}
};

class shared_mutex {
  public:
    constexpr shared_mutex() noexcept = default;
    shared_mutex(shared_mutex const&) = delete;
    shared_mutex& operator=(shared_mutex const&) = delete;
    void lock() noexcept {}
    bool try_lock() noexcept { return true; }
    void unlock() noexcept {}
    void lock_shared() noexcept {}
    bool try_lock_shared() noexcept { return true; }
    void unlock_shared() noexcept {}
};

template <typename mutex_at> class unique_lock {
    mutex_at* mutex_ = nullptr;
    bool owns_ = false;

  public:
    unique_lock() noexcept = default;
    explicit unique_lock(mutex_at& m) : mutex_(&m), owns_(true) { m.lock(); }
    unique_lock(mutex_at& m, defer_lock_t) noexcept : mutex_(&m), owns_(false) {}
    unique_lock(mutex_at& m, try_to_lock_t) : mutex_(&m), owns_(m.try_lock()) {}
    unique_lock(mutex_at& m, adopt_lock_t) noexcept : mutex_(&m), owns_(true) {}
    unique_lock(unique_lock const&) = delete;
    unique_lock& operator=(unique_lock const&) = delete;
    unique_lock(unique_lock&& other) noexcept : mutex_(other.mutex_), owns_(other.owns_) {
        other.mutex_ = nullptr;
        other.owns_ = false;
    }
    unique_lock& operator=(unique_lock&& other) noexcept {
        if (owns_) mutex_->unlock();
        mutex_ = other.mutex_;
        owns_ = other.owns_;
        other.mutex_ = nullptr;
        other.owns_ = false;
        return *this;
    }
    ~unique_lock() {
        if (owns_) mutex_->unlock();
    }
    void lock() {
        mutex_->lock();
        owns_ = true;
    }
    bool try_lock() { return owns_ = mutex_->try_lock(); }
    void unlock() {
        mutex_->unlock();
        owns_ = false;
    }
    bool owns_lock() const noexcept { return owns_; }
    explicit operator bool() const noexcept { return owns_; }
    mutex_at* mutex() const noexcept { return mutex_; }
};

template <typename mutex_at> class lock_guard {
    mutex_at& mutex_;

  public:
    explicit lock_guard(mutex_at& m) : mutex_(m) { m.lock(); }
    lock_guard(lock_guard const&) = delete;
    lock_guard& operator=(lock_guard const&) = delete;
    ~lock_guard() { mutex_.unlock(); }
};

template <typename mutex_at> class shared_lock {
    mutex_at* mutex_ = nullptr;
    bool owns_ = false;

  public:
    shared_lock() noexcept = default;
    explicit shared_lock(mutex_at& m) : mutex_(&m), owns_(true) { m.lock_shared(); }
    shared_lock(shared_lock const&) = delete;
    shared_lock& operator=(shared_lock const&) = delete;
    ~shared_lock() {
        if (owns_) mutex_->unlock_shared();
    }
    bool owns_lock() const noexcept { return owns_; }
};

class thread {
  public:
    thread() noexcept = default;
    template <typename callable_at> explicit thread(callable_at&&) { std::abort(); }
    thread(thread&&) noexcept = default;
    thread& operator=(thread&&) noexcept = default;
    thread(thread const&) = delete;
    thread& operator=(thread const&) = delete;
    bool joinable() const noexcept { return false; }
    void join() {}
    void detach() {}
    static unsigned hardware_concurrency() noexcept { return 1; }
};

namespace this_thread {
inline void yield() noexcept {}
} // namespace this_thread

} // namespace std

#endif // __cplusplus
#endif // VLTAIR_SINGLE_THREAD_COMPAT_H
