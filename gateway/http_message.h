#pragma once
// The HTTP message types every room of the gateway answers with, and the one JSON answer builder,
// so that each room's handlers are plain functions from a request to a response.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <nlohmann/json.hpp>

#include "gateway/pending_table.h"
#include "gateway/send_request.h"

namespace rrkit::gateway {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A JSON answer (Content-Type, Server, Content-Length set).
Response make_response(http::status status, const nlohmann::json& body, unsigned version, bool keep_alive);
Response error_response(const HttpError& e, unsigned version, bool keep_alive);

double seconds_since(Clock::time_point t);

}  // namespace rrkit::gateway
