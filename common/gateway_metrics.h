#pragma once
// rr-gateway's metric contract: the series the gateway writes on GET /metrics and that rr-harness
// and the benchmark read back. One spelling for writer and readers, so a renamed series or label
// value breaks the build instead of a check that silently reads nothing.
//
// Plain constants and enums only (no Prometheus here): readers parse the text exposition.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace rrkit::gateway_metrics {

// Series names. Char arrays so they bind to std::string and std::string_view parameters alike.
inline constexpr char kRequests[] = "rr_gateway_requests_total";                   // counter{outcome}
inline constexpr char kReplies[] = "rr_gateway_replies_total";                     // counter{class}
inline constexpr char kPending[] = "rr_gateway_pending";                           // gauge
inline constexpr char kOldestPending[] = "rr_gateway_oldest_pending_seconds";      // gauge
inline constexpr char kRequestDuration[] = "rr_gateway_request_duration_seconds";  // histogram
inline constexpr char kPublishDuration[] = "rr_gateway_publish_duration_seconds";  // histogram
// Bulk publish (--publish-bulk-max): calls to daprd's bulk route, and the requests they carried.
inline constexpr char kBulkPublishCalls[] = "rr_gateway_bulk_publish_calls_total";      // counter
inline constexpr char kBulkPublishEntries[] = "rr_gateway_bulk_publish_entries_total";  // counter
inline constexpr char kConnections[] = "rr_gateway_connections";                   // gauge{listener}
inline constexpr char kConnectionsRefused[] = "rr_gateway_connections_refused_total";  // counter{listener}

// Label names.
inline constexpr char kOutcomeLabel[] = "outcome";
inline constexpr char kClassLabel[] = "class";
inline constexpr char kListenerLabel[] = "listener";

// Values of the listener label.
inline constexpr char kClientListener[] = "client";
inline constexpr char kCallbackListener[] = "callback";

// Outcome of one POST /api/send: the values of kRequests' outcome label.
enum class Outcome { ok, timeout, bad_request, too_large, unsupported_media, overloaded, publish_failed, client_gone, shutdown };
inline constexpr std::size_t kOutcomeCount = 9;
inline constexpr std::array<Outcome, kOutcomeCount> kOutcomes{
    Outcome::ok,         Outcome::timeout,        Outcome::bad_request,
    Outcome::too_large,  Outcome::unsupported_media, Outcome::overloaded,
    Outcome::publish_failed, Outcome::client_gone, Outcome::shutdown};

// What a delivered reply turned out to be: the values of kReplies' class label. The gateway's
// correlation core classifies with this very enum.
enum class ReplyClass { matched, late, duplicate, unknown, malformed, forged, probe };
inline constexpr std::size_t kReplyClassCount = 7;
inline constexpr std::array<ReplyClass, kReplyClassCount> kReplyClasses{
    ReplyClass::matched,   ReplyClass::late,   ReplyClass::duplicate, ReplyClass::unknown,
    ReplyClass::malformed, ReplyClass::forged, ReplyClass::probe};
// The classes a reply on the reply topic can fall into (probe is the gateway's own readiness reply).
inline constexpr std::array<ReplyClass, 5> kTopicReplyClasses{
    ReplyClass::matched, ReplyClass::late, ReplyClass::duplicate, ReplyClass::unknown, ReplyClass::malformed};

std::string_view to_string(Outcome o);
std::string_view to_string(ReplyClass c);

// A series selector as it appears in the text exposition, e.g. `rr_gateway_replies_total{class="matched"}`;
// an empty label gives the bare name.
std::string series(std::string_view name, std::string_view label = {}, std::string_view value = {});
inline std::string series(Outcome o) { return series(kRequests, kOutcomeLabel, to_string(o)); }
inline std::string series(ReplyClass c) { return series(kReplies, kClassLabel, to_string(c)); }

}  // namespace rrkit::gateway_metrics
