// Ring delivery (see ring_delivery.h for the two modes and why).
#include "ring_delivery.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>

#include "js_errors.h"

namespace lanner {

bool RingDelivery::Start(Napi::Env env, ProbeCore* core, Napi::ArrayBuffer buffer, Napi::Function onBatch,
                         const DeliveryOptions& opts) {
  if (running_) return true;
  core_ = core;
  drainMs_ = opts.drainMs == 0 ? 1 : opts.drainMs;
  maxBatches_ = opts.maxBatchesPerWake == 0 ? 1 : opts.maxBatchesPerWake;
  gapMs_ = opts.wakeupGapMs;
  maxLatencyMs_ = opts.maxLatencyMs;
  gatherMinRate_ = opts.gatherMinRate;
  recentRate_ = 0;
  rateWindowStartDelivered_ = delivered_;
  pending_ = false;
  resting_ = false;
  drainNext_ = false;
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  rateWindowStartMs_ = uv_now(loop);
  const bool ok = core_->adaptiveWakeup() ? StartReader(env, loop) : StartPolling(env, loop);
  if (!ok) return false;
  Keep(env, buffer, onBatch);
  running_ = true;
  if (!core_->adaptiveWakeup()) return true;
  reader_ = std::thread([this] { ReaderLoop(); });
  return true;
}

// Where drained batches go, for either mode.
void RingDelivery::Keep(Napi::Env env, Napi::ArrayBuffer buffer, Napi::Function onBatch) {
  env_ = env;
  buffer_ = Napi::Persistent(buffer);
  buf_ = static_cast<uint8_t*>(buffer.Data());
  cap_ = buffer.ByteLength();
  onBatch_ = Napi::Persistent(onBatch);
  asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "lanner.probe");
}

// Empty polls in a row before the reader parks: a quarter of a second at the default 4 ms, long
// enough that a steady trickle never parks, short enough that a quiet node stops polling soon.
static constexpr uint32_t kParkAfterEmptyPolls = 64;
// Parked, the timer still looks every quarter second: a record the kernel wrote just before it saw
// the parked flag asked for no wakeup, and would otherwise wait for the next quiet spell's end.
static constexpr uint32_t kParkedPollMs = 250;

bool RingDelivery::StartPolling(Napi::Env env, uv_loop_t* loop) {
  timer_ = new uv_timer_t;
  timer_->data = this;
  int rc = uv_timer_init(loop, timer_);
  if (rc == 0 && core_->EpollFd() >= 0) {
    park_ = new uv_poll_t;
    park_->data = this;
    if (uv_poll_init(loop, park_, core_->EpollFd()) != 0) {
      delete park_;
      park_ = nullptr;  // no parking: the timer polls throughout
    }
  }
  if (rc == 0) rc = uv_timer_start(timer_, OnPollTimer, drainMs_, drainMs_);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
    if (park_ != nullptr) {
      uv_close(reinterpret_cast<uv_handle_t*>(park_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      park_ = nullptr;
    }
    Napi::Error::New(env, std::string("starting the ring poll: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
    return false;
  }
  // Slack applies to every timed wait of this thread (the agent's own timers too): a quarter of
  // the poll keeps it within 25%, and at most 1 ms so no other timer is late by more.
  const int prev = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  savedTimerSlack_ = prev > 0 ? prev : 0;
  prctl(PR_SET_TIMERSLACK, std::min<unsigned long>(static_cast<unsigned long>(drainMs_) * 250000UL, 1000000UL), 0, 0, 0);
  return true;
}

bool RingDelivery::StartReader(Napi::Env env, uv_loop_t* loop) {
  // The reader thread waits on its own epoll set: the ring's (nested) and an eventfd for stop.
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  const int stopFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ringEv{};
  ringEv.events = EPOLLIN;
  ringEv.data.u32 = 0;
  epoll_event stopEv{};
  stopEv.events = EPOLLIN;
  stopEv.data.u32 = 1;
  if (ep < 0 || stopFd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, core_->EpollFd(), &ringEv) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, stopFd, &stopEv) != 0) {
    const int err = errno;
    if (ep >= 0) close(ep);
    if (stopFd >= 0) close(stopFd);
    ThrowErrno(env, "setting up the ring reader", -err);
    return false;
  }
  async_ = new uv_async_t;
  async_->data = this;
  const int rc = uv_async_init(loop, async_, [](uv_async_t* h) { static_cast<RingDelivery*>(h->data)->OnReady(); });
  if (rc != 0) {
    delete async_;
    async_ = nullptr;
    close(ep);
    close(stopFd);
    Napi::Error::New(env, std::string("starting the ring reader: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
    return false;
  }
  readerEpoll_ = ep;
  stopFd_ = stopFd;
  stopping_ = false;
  pumpedSeq_ = 0;
  return true;
}

void RingDelivery::OnPollTimer(uv_timer_t* h) {
  RingDelivery* self = static_cast<RingDelivery*>(h->data);
  if (!self->running_ || !self->core_) return;
  const uint64_t queued = self->core_->QueuedBytes();
  if (queued == 0) {
    self->resting_ = false;  // the trickle ended: the next record is looked for every drainMs
    if (self->park_ != nullptr && !self->parked_ && ++self->emptyPolls_ >= kParkAfterEmptyPolls) self->Park();
    return;
  }
  if (self->parked_) {
    self->Unpark();
    uv_timer_start(h, OnPollTimer, self->drainMs_, self->drainMs_);
  }
  self->emptyPolls_ = 0;
  self->MeasureRate(uv_now(h->loop));
  if (self->Coalescing(h->loop, queued)) return;
  const bool trickle = self->pending_ || self->resting_;
  self->pending_ = false;
  self->resting_ = false;
  self->drainNext_ = self->Pump();
  // A drain bounded by maxBatches left data behind: take it on the next loop turn (after other
  // I/O had its go) rather than a whole poll later.
  if (self->drainNext_) {
    uv_timer_start(h, OnPollTimer, 0, self->drainMs_);
  } else if (trickle && self->Gathering()) {
    // Everything queued now arrived after this drain, so the next look may come maxLatencyMs
    // later and deliver what it finds: one wakeup per delivery while the trickle lasts.
    self->resting_ = true;
    uv_timer_start(h, OnPollTimer, self->maxLatencyMs_, self->drainMs_);
  }
}

// The window the delivery rate is measured over: long enough to hold several gathered batches,
// short enough that a burst after a quiet spell is gathered within a tenth of a second.
static constexpr uint64_t kRateWindowMs = 100;

// Only a busy ring's trickle is gathered (DeliveryOptions::gatherMinRate): a lone event, an alert
// on a quiet node, is read at the next look instead of waiting for company that is not coming.
void RingDelivery::MeasureRate(uint64_t nowMs) {
  const uint64_t elapsed = nowMs - rateWindowStartMs_;
  if (elapsed < kRateWindowMs) return;
  recentRate_ = (delivered_ - rateWindowStartDelivered_) * 1000 / elapsed;
  rateWindowStartMs_ = nowMs;
  rateWindowStartDelivered_ = delivered_;
}

// Whether this look leaves a trickle queued. Each delivery costs about as much outside the rules
// as a dozen events inside them (the main thread wakes on caches the workload has just evicted:
// BENCHMARKS.md), so a trickle is worth gathering into fewer, larger batches, as long as its
// oldest record waits at most maxLatencyMs. A quarter of the batch buffer, or a bounded drain's
// leftovers, go at once.
//
// Looks in between would each cost a main-thread wakeup (a context switch on this kind of VM)
// and could only find the batch grown, so the look that finds a trickle sleeps until its
// deadline: its records may have arrived just after the previous look, drainMs earlier. After a
// trickle's delivery the timer rests (OnPollTimer), and the look at the rest's end delivers what
// it finds. A burst arriving meanwhile waits too, within the same bound: the ring holds far more
// than that time can bring.
bool RingDelivery::Coalescing(uv_loop_t* loop, uint64_t queued) {
  if (!Gathering() || drainNext_ || resting_ || queued >= cap_ / 4) return false;
  const uint64_t now = uv_now(loop);
  if (!pending_) {
    pending_ = true;
    pendingSinceMs_ = now;
    coalescedLooks_++;
    uv_timer_start(timer_, OnPollTimer, maxLatencyMs_ - drainMs_, drainMs_);
    return true;
  }
  // An early look (another path re-armed the timer) keeps waiting within the bound.
  if (now - pendingSinceMs_ + 2ULL * drainMs_ <= maxLatencyMs_) {
    coalescedLooks_++;
    return true;
  }
  return false;
}

void RingDelivery::SetGatherTrickles(bool on) {
  gatherTrickles_ = on;
  // A trickle sleeping until its deadline is looked at again at once: a user-space kill must not
  // wait for it.
  if (!on && (pending_ || resting_) && running_ && timer_ != nullptr) {
    pending_ = false;
    resting_ = false;
    uv_timer_start(timer_, OnPollTimer, 0, drainMs_);
  }
}

void RingDelivery::Park() {
  uv_timer_start(timer_, OnPollTimer, kParkedPollMs, kParkedPollMs);
  core_->SetReaderParked(true);
  // A record committed before the kernel saw the flag asked for no wakeup: look once more.
  if (core_->QueuedBytes() > 0 || uv_poll_start(park_, UV_READABLE, OnParkedReadable) != 0) {
    core_->SetReaderParked(false);
    emptyPolls_ = 0;
    uv_timer_start(timer_, OnPollTimer, 0, drainMs_);
    return;
  }
  parked_ = true;
  parks_++;
}

void RingDelivery::Unpark() {
  if (!parked_) return;
  parked_ = false;
  uv_poll_stop(park_);
  core_->SetReaderParked(false);
  emptyPolls_ = 0;
}

// Main thread, parked: the kernel signalled a record. Back to polling, draining at once.
void RingDelivery::OnParkedReadable(uv_poll_t* h, int /*status*/, int /*events*/) {
  RingDelivery* self = static_cast<RingDelivery*>(h->data);
  if (!self->running_ || !self->core_) return;
  self->parkWakeups_++;
  self->Unpark();
  uv_timer_start(self->timer_, OnPollTimer, 0, self->drainMs_);
}

// Reader thread (adaptive mode): wakes the main thread (uv_async) when the ring has data, at
// most once per wakeupGapMs, and never again before the main thread has drained what it was
// woken for, so a busy main thread is not flooded. It wakes on its own every drainMs to catch
// data no kernel wakeup announced (a record committed while the previous drain was ending); an
// idle ring costs a thread wakeup then, not a JS call.
void RingDelivery::ReaderLoop() {
  // Let the kernel fold this thread's periodic wakeups into timer interrupts it takes anyway:
  // on a VM each separately programmed wakeup is a costly exit (measured ~37 us at 250/s).
  // A quarter of the shortest timed wait, so the rest and the poll stay within 25% of their length.
  const uint32_t shortest = gapMs_ > 0 && gapMs_ < drainMs_ ? gapMs_ : drainMs_;
  prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(shortest) * 250000UL, 0, 0, 0);
  epoll_event evs[2];
  for (;;) {
    // Data already queued (left by a bounded drain, or committed while the last drain ran, which
    // the kernel does not announce: the reader had not caught up then) is taken at once.
    if (core_->QueuedBytes() == 0) {
      const int n = epoll_wait(readerEpoll_, evs, 2, static_cast<int>(drainMs_));
      if (stopping_.load(std::memory_order_acquire)) return;
      if (n < 0 && errno != EINTR) return;
      if (core_->QueuedBytes() == 0) continue;
    }
    uint64_t seq;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seq = pumpedSeq_;
    }
    uv_async_send(async_);
    // Rest: no second wakeup within the gap, and none until that drain has happened.
    const auto restUntil = std::chrono::steady_clock::now() + std::chrono::milliseconds(gapMs_);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stopping_.load(std::memory_order_acquire) || pumpedSeq_ != seq; });
    if (stopping_.load(std::memory_order_acquire)) return;
    cv_.wait_until(lock, restUntil, [&] { return stopping_.load(std::memory_order_acquire); });
    if (stopping_.load(std::memory_order_acquire)) return;
  }
}

// Main thread, on the reader's wakeup.
void RingDelivery::OnReady() {
  Pump();
  {
    std::lock_guard<std::mutex> lock(mu_);
    pumpedSeq_++;
  }
  cv_.notify_one();
}

// Delivers up to maxBatches batches; true when data is left in the ring.
bool RingDelivery::Pump() {
  if (!running_ || !core_) return false;
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  // Bounded per wakeup so other I/O gets its turn; what is left wakes the reader again.
  for (uint32_t i = 0; i < maxBatches_; i++) {
    if (!running_ || !core_) return false;
    DrainResult r = core_->Drain(buf_, cap_);
    if (r.count == 0) return false;
    CountBatch(r.count);
    onBatch_.MakeCallback(env.Global(),
                          {Napi::Number::New(env, static_cast<double>(r.bytes)), Napi::Number::New(env, r.count),
                           Napi::Boolean::New(env, r.more)},
                          *asyncContext_);
    if (env.IsExceptionPending()) {
      Napi::Error e = env.GetAndClearPendingException();
      napi_fatal_exception(env, e.Value());
      return false;
    }
    if (!r.more) return false;
  }
  return true;
}

void RingDelivery::Stop() {
  if (!running_) return;
  running_ = false;
  if (park_ != nullptr) {
    if (parked_ && core_ != nullptr) core_->SetReaderParked(false);
    parked_ = false;
    uv_poll_stop(park_);
    uv_close(reinterpret_cast<uv_handle_t*>(park_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    park_ = nullptr;
  }
  if (timer_ != nullptr) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
    prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(savedTimerSlack_), 0, 0, 0);
  } else {
    StopReader();
  }
  onBatch_.Reset();
  buffer_.Reset();
  asyncContext_.reset();
  core_ = nullptr;
}

void RingDelivery::StopReader() {
  stopping_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  if (write(stopFd_, &one, sizeof one) < 0) {
    // The eventfd cannot be full at 1; the epoll timeout would end the thread anyway.
  }
  cv_.notify_all();
  if (reader_.joinable()) reader_.join();
  close(readerEpoll_);
  close(stopFd_);
  readerEpoll_ = stopFd_ = -1;
  uv_close(reinterpret_cast<uv_handle_t*>(async_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  async_ = nullptr;
}

}  // namespace lanner
