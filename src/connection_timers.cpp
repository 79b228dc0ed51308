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

void Connection::Impl::configure_timers(const Timeouts& timeouts) noexcept {
  timers_.ping_interval = to_milliseconds(timeouts.ping_interval);
  timers_.pong_timeout = to_milliseconds(timeouts.pong_timeout);
  timers_.idle_timeout = to_milliseconds(timeouts.idle_timeout);
  timers_.close_timeout = to_milliseconds(timeouts.close_timeout);
}

bool Connection::Impl::timers_on() const noexcept {
  return (timers_.ping_interval | timers_.pong_timeout | timers_.idle_timeout | timers_.close_timeout) != 0;
}

// An interval of silence after the last traffic, or after the last unanswered keepalive Ping.
TimePoint Connection::Impl::keepalive_due() const noexcept {
  return after(timers_.ping_outstanding ? timers_.mark : timers_.last_traffic, timers_.ping_interval);
}

std::optional<TimePoint> Connection::Impl::next_deadline() const noexcept {
  if (!timers_on() || timers_.expired) return std::nullopt;
  if (!timers_.started) return TimePoint::min();
  if (close_sent_) {  // only the close timeout runs now
    if (timers_.close_timeout == 0 || should_close_transport()) return std::nullopt;
    return timers_.close_started ? after(timers_.mark, timers_.close_timeout) : TimePoint::min();
  }
  std::optional<TimePoint> due;
  const auto earliest = [&due](TimePoint t) { due = due ? std::min(*due, t) : t; };
  if (timers_.ping_interval != 0) earliest(keepalive_due());
  if (timers_.pong_timeout != 0 && timers_.ping_outstanding) earliest(after(timers_.mark, timers_.pong_timeout));
  if (timers_.idle_timeout != 0) earliest(after(timers_.last_traffic, timers_.idle_timeout));
  return due;
}

Event Connection::Impl::on_time(TimePoint now) noexcept {
  if (!timers_on()) return {};
  if (!timers_.started) {  // the clocks start now
    timers_.started = true;
    timers_.last_traffic = now;
    traffic_ = false;
  }
  if (traffic_) {  // the peer is alive: its bytes came since the last call
    traffic_ = false;
    timers_.last_traffic = now;
    timers_.ping_outstanding = false;
  }
  if (close_sent_) return close_timer(now);
  if (timers_.pong_timeout != 0 && timers_.ping_outstanding && now >= after(timers_.mark, timers_.pong_timeout))
    return abandon(Error::pong_timeout);
  if (timers_.idle_timeout != 0 && now >= after(timers_.last_traffic, timers_.idle_timeout))
    return fail(Error::idle_timeout);  // a Close 1001 (going away)
  if (timers_.ping_interval != 0 && now >= keepalive_due()) {
    // A Ping that finds the output full counts as sent: a peer that does not read is as good
    // as one that does not answer (unless the output's policy fails the connection at once).
    if (send_control(Opcode::ping, {}) == Error::output_stalled) return error_event(Error::output_stalled);
    timers_.ping_outstanding = true;
    timers_.mark = now;
  }
  return {};
}

// Our Close is queued: the close handshake (or the server's TCP close) has close_timeout from
// the first on_time() after it.
Event Connection::Impl::close_timer(TimePoint now) noexcept {
  if (timers_.close_timeout == 0 || timers_.expired || should_close_transport()) return {};
  if (!timers_.close_started) {
    timers_.close_started = true;
    timers_.mark = now;
  }
  if (now < after(timers_.mark, timers_.close_timeout)) return {};
  timers_.expired = true;
  if (error_ == Error::ok) error_ = Error::close_timeout;  // else it keeps why it failed
  return error_event(Error::close_timeout);
}

}  // namespace wsframe
