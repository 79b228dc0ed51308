// The connection's timers on the caller's clock (Timeouts in include/wsframe/connection.hpp):
// keepalive (RFC 6455 5.5.2/5.5.3), idle, and the close handshake's (RFC 6455 7.1.1). No clock
// is read here: receive() notes that traffic came, on_time(now) says when.
#include <algorithm>
#include <limits>

#include "connection_impl.hpp"

namespace wsframe {
namespace {

std::uint32_t to_milliseconds(std::chrono::milliseconds d) noexcept {
  using limit = std::numeric_limits<std::uint32_t>;
  return static_cast<std::uint32_t>(std::clamp<std::chrono::milliseconds::rep>(d.count(), 0, limit::max()));
}

TimePoint after(TimePoint t, std::uint32_t milliseconds) noexcept { return t + std::chrono::milliseconds(milliseconds); }

}  // namespace

// The timers' state is allocated only when a timeout is set: most of an idle connection's
// footprint is its object.
void Connection::Impl::configure_timers(const Timeouts& timeouts) {
  Timers t;
  t.ping_interval = to_milliseconds(timeouts.ping_interval);
  t.pong_timeout = to_milliseconds(timeouts.pong_timeout);
  t.idle_timeout = to_milliseconds(timeouts.idle_timeout);
  t.close_timeout = to_milliseconds(timeouts.close_timeout);
  if ((t.ping_interval | t.pong_timeout | t.idle_timeout | t.close_timeout) == 0) return;
  rare().timers = t;
}

bool Connection::Impl::timers_on() const noexcept { return rare_ && rare_->timers; }

// An interval of silence after the last traffic, or after the last unanswered keepalive Ping.
TimePoint Connection::Impl::keepalive_due() const noexcept {
  return after(rare_->timers->ping_outstanding ? rare_->timers->mark : rare_->timers->last_traffic, rare_->timers->ping_interval);
}

std::optional<TimePoint> Connection::Impl::next_deadline() const noexcept {
  if (!timers_on() || rare_->timers->expired) return std::nullopt;
  if (!rare_->timers->started) return TimePoint::min();
  if (close_sent_) {  // only the close timeout runs now
    if (rare_->timers->close_timeout == 0 || should_close_transport()) return std::nullopt;
    return rare_->timers->close_started ? after(rare_->timers->mark, rare_->timers->close_timeout) : TimePoint::min();
  }
  std::optional<TimePoint> due;
  const auto earliest = [&due](TimePoint t) { due = due ? std::min(*due, t) : t; };
  if (rare_->timers->ping_interval != 0) earliest(keepalive_due());
  if (rare_->timers->pong_timeout != 0 && rare_->timers->ping_outstanding) earliest(after(rare_->timers->mark, rare_->timers->pong_timeout));
  if (rare_->timers->idle_timeout != 0) earliest(after(rare_->timers->last_traffic, rare_->timers->idle_timeout));
  return due;
}

Event Connection::Impl::on_time(TimePoint now) noexcept {
  if (!timers_on()) return {};
  if (!rare_->timers->started) {  // the clocks start now
    rare_->timers->started = true;
    rare_->timers->last_traffic = now;
    traffic_ = false;
  }
  if (traffic_) {  // the peer is alive: its bytes came since the last call
    traffic_ = false;
    rare_->timers->last_traffic = now;
    rare_->timers->ping_outstanding = false;
  }
  if (close_sent_) return close_timer(now);
  if (rare_->timers->pong_timeout != 0 && rare_->timers->ping_outstanding && now >= after(rare_->timers->mark, rare_->timers->pong_timeout))
    return abandon(Error::pong_timeout);
  if (rare_->timers->idle_timeout != 0 && now >= after(rare_->timers->last_traffic, rare_->timers->idle_timeout))
    return fail(Error::idle_timeout);  // a Close 1001 (going away)
  if (rare_->timers->ping_interval != 0 && now >= keepalive_due()) {
    // A Ping that finds the output full counts as sent: a peer that does not read is as good
    // as one that does not answer (unless the output's policy fails the connection at once).
    if (send_control(Opcode::ping, {}) == Error::output_stalled) return error_event(Error::output_stalled);
    rare_->timers->ping_outstanding = true;
    rare_->timers->mark = now;
  }
  return {};
}

// Our Close is queued: the close handshake (or the server's TCP close) has close_timeout from
// the first on_time() after it.
Event Connection::Impl::close_timer(TimePoint now) noexcept {
  if (rare_->timers->close_timeout == 0 || rare_->timers->expired || should_close_transport()) return {};
  if (!rare_->timers->close_started) {
    rare_->timers->close_started = true;
    rare_->timers->mark = now;
  }
  if (now < after(rare_->timers->mark, rare_->timers->close_timeout)) return {};
  rare_->timers->expired = true;
  if (error_ == Error::ok) error_ = Error::close_timeout;  // else it keeps why it failed
  return error_event(Error::close_timeout);
}

}  // namespace wsframe
