// Ring delivery: drains the probe's ring into one JS-owned batch buffer and calls the JS batch
// callback, on the main thread. Records are drained and decoded on the main thread (no second
// buffer, no hop per batch). The measured cost of the drain itself (~40-70 ns/event) is far below
// the rule cost, and the ring (16 MiB by default) absorbs main-thread stalls. What decides *when*
// depends on the mode:
//
// Polled (default): a libuv timer on the main thread looks at the ring every drainMs (a read of
// the producer/consumer positions, no syscall) and drains what is queued. One thread wakeup per
// poll, on the CPU the timer was armed on. A reader thread costs three per drain on a busy ring
// (its timer, the cross-CPU wake of the main thread, the wake back when the drain is done): on
// this kind of VM each costs tens of microseconds, and the fork+exec benchmark measured the
// agent's CPU at ~1.5x that of the timer. Timer slack of a quarter of drainMs lets the kernel
// fold the polls into interrupts it takes anyway, for the main thread's other timers too.
//
// Parked (polled mode, idle): after 64 empty polls in a row the main loop waits on the ring's fd
// instead (uv_poll), with the kernel asked to signal the first record (reader_parked in the
// probe), and the timer slows to 4 looks a second (a record written just before the kernel saw
// the flag asked for no wakeup). An idle agent then costs a few wakeups a second instead of 250,
// and the first event after a quiet spell is read at once. Parking costs an epoll_ctl pair once
// per quiet spell, not once per drain as a uv_poll on every rest would.
//
// Adaptive: the kernel signals a record written while the reader had caught up (the first record
// after an empty ring), so a lone event is read at once. A small reader thread blocks on the
// ring's epoll fd and wakes the main thread through one uv_async per drain; to bound the wakeup
// rate under a steady trickle it rests `wakeupGapMs` after each wakeup (records arriving
// meanwhile are read together at its end): at most 1000/wakeupGapMs main-thread wakeups per
// second, at most wakeupGapMs of added latency. It also looks at the ring every drainMs, for
// data no wakeup announced. (Polling the ring fd from the main loop with uv_poll needs an
// epoll_ctl pair per rest and two main-thread wakeups: measured at ~2x the agent CPU.)
#pragma once
#include <napi.h>
#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "probe_core.h"

namespace lanner {

struct DeliveryOptions {
  uint32_t drainMs = 10;  // poll period (both modes), >= 1
  uint32_t maxBatchesPerWake = 4;  // batches delivered per wakeup before other I/O gets a turn, >= 1
  uint32_t wakeupGapMs = 0;  // adaptive mode: rest after each wakeup
  // Polled mode: a look that finds only a trickle (less than a quarter of the batch buffer) leaves
  // it queued while its oldest record is younger than this; <= drainMs drains at every look.
  uint32_t maxLatencyMs = 0;
  // ...but only while records arrive at this rate or faster (records per second over the last
  // tenth of a second or more); slower, every look drains. 0: always.
  uint32_t gatherMinRate = 0;
};

// Main-thread only, except the reader thread it owns. Not copyable: libuv handles point at it.
class RingDelivery {
 public:
  RingDelivery() = default;
  ~RingDelivery() { Stop(); }
  RingDelivery(const RingDelivery&) = delete;
  RingDelivery& operator=(const RingDelivery&) = delete;

  // Starts delivering `core`'s records into `buffer` (at least two maximal records), calling
  // onBatch(bytes, count, more) per batch; polled or adaptive as `core` was opened. On failure a
  // JS exception is pending and false is returned. The caller keeps `core` alive until Stop().
  bool Start(Napi::Env env, ProbeCore* core, Napi::ArrayBuffer buffer, Napi::Function onBatch, const DeliveryOptions& opts);
  // Stops the timer or the reader thread and releases the buffer and the callback. Idempotent.
  void Stop();
  bool running() const { return running_; }

  // Batches and records handed to JS, here and by the caller's own drains (read()).
  void CountBatch(uint32_t records) {
    batches_++;
    delivered_ += records;
  }
  uint64_t batches() const { return batches_; }
  // Times the polled reader parked on an idle ring, and times the kernel's signal ended a park.
  uint64_t parks() const { return parks_; }
  uint64_t parkWakeups() const { return parkWakeups_; }
  uint64_t coalescedLooks() const { return coalescedLooks_; }
  // Whether a trickle may wait for more (DeliveryOptions::maxLatencyMs); off while a rule kills
  // from user space, whose kill waits for its event's delivery. Main thread.
  void SetGatherTrickles(bool on);
  uint64_t delivered() const { return delivered_; }

 private:
  bool StartPolling(Napi::Env env, uv_loop_t* loop);
  bool StartReader(Napi::Env env, uv_loop_t* loop);
  void Keep(Napi::Env env, Napi::ArrayBuffer buffer, Napi::Function onBatch);
  static void OnPollTimer(uv_timer_t* h);
  static void OnParkedReadable(uv_poll_t* h, int status, int events);
  void Park();
  void Unpark();
  void ReaderLoop();
  void OnReady();
  bool Pump();
  bool Coalescing(uv_loop_t* loop, uint64_t queued);
  bool Gathering() const { return gatherTrickles_ && maxLatencyMs_ > drainMs_ && recentRate_ >= gatherMinRate_; }
  void MeasureRate(uint64_t nowMs);
  void StopReader();

  ProbeCore* core_ = nullptr;
  napi_env env_ = nullptr;
  uv_timer_t* timer_ = nullptr;  // polled mode
  uv_poll_t* park_ = nullptr;  // polled mode: waits on the ring's fd while parked
  bool parked_ = false;
  uint32_t emptyPolls_ = 0;
  uint64_t parks_ = 0;
  uint64_t parkWakeups_ = 0;
  uint64_t coalescedLooks_ = 0;  // looks that left a trickle queued (Coalescing)
  int savedTimerSlack_ = 0;  // the main thread's slack before polling set it (ns)
  uv_async_t* async_ = nullptr;  // adaptive mode: the reader thread's wakeup
  std::thread reader_;
  int readerEpoll_ = -1;
  int stopFd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t pumpedSeq_ = 0;  // drains done on the main thread (guarded by mu_)
  bool running_ = false;
  uint32_t gapMs_ = 0;
  Napi::FunctionReference onBatch_;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  uint8_t* buf_ = nullptr;
  size_t cap_ = 0;
  uint32_t drainMs_ = 10;
  uint32_t maxLatencyMs_ = 0;
  bool gatherTrickles_ = true;
  uint32_t gatherMinRate_ = 0;
  // Records per second delivered over the last window of at least kRateWindowMs (MeasureRate).
  uint64_t recentRate_ = 0;
  uint64_t rateWindowStartMs_ = 0;
  uint64_t rateWindowStartDelivered_ = 0;
  bool pending_ = false;  // a look found records and left them queued (coalescing a trickle)
  uint64_t pendingSinceMs_ = 0;  // uv_now of that look
  bool resting_ = false;  // a trickle was delivered: the timer rests maxLatencyMs before the next look
  bool drainNext_ = false;  // a bounded drain left records: the next look takes them whatever their number
  uint32_t maxBatches_ = 4;
  uint64_t batches_ = 0;
  uint64_t delivered_ = 0;
};

}  // namespace lanner
