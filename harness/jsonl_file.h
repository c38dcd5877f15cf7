#pragma once
// A run folder's line files (history.jsonl, decisions*.jsonl), plain or gzip-compressed: a long run's folder
// may be compressed when the run ends (compress_jsonl), and every reader takes either form.
#include <filesystem>
#include <functional>
#include <string>

namespace rrkit::harness {

// The file as stored: `file` when it exists, else `file`.gz when that exists, else `file` (missing).
std::filesystem::path stored_jsonl(const std::filesystem::path& file);

// Whether `file` or `file`.gz exists.
bool jsonl_exists(const std::filesystem::path& file);

// Calls `line` for each line of the stored file (plain or gzip, see stored_jsonl), without its newline.
// False with "file: reason" when it cannot be opened or read to its end.
bool for_each_jsonl_line(const std::filesystem::path& file, const std::function<void(std::string&)>& line,
                         std::string& error);

// Replaces `file` by `file`.gz (the plain file is removed only once the compressed one is complete).
// False with a message when it cannot; the plain file is then left as it was.
bool compress_jsonl(const std::filesystem::path& file, std::string& error);

}  // namespace rrkit::harness
