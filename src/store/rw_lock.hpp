#pragma once
// A reader-writer lock that prefers the writer (glibc
// PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP). std::shared_mutex is
// glibc's default rwlock, which prefers readers: a few threads running
// queries back to back can keep a shard read-locked and starve the one
// writer. With writer preference a waiting writer gets the shard as soon as
// the current readers leave it. The price: a thread must never take the
// same lock shared twice (it could deadlock behind a waiting writer); the
// store's readers hold at most one shard lock at a time.
//
// Meets the SharedMutex requirements used by std::unique_lock and
// std::shared_lock.
#include <pthread.h>

namespace huginn::store::detail {

class RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace huginn::store::detail
