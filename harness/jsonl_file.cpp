#include "harness/jsonl_file.h"

#include <array>
#include <fstream>
#include <memory>

#include <zlib.h>

namespace rrkit::harness {

namespace fs = std::filesystem;

namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

fs::path gz_of(const fs::path& file) { return fs::path(file.string() + ".gz"); }

}  // namespace

fs::path stored_jsonl(const fs::path& file) {
  std::error_code ec;
  if (fs::exists(file, ec)) return file;
  if (fs::exists(gz_of(file), ec)) return gz_of(file);
  return file;
}

bool jsonl_exists(const fs::path& file) {
  std::error_code ec;
  return fs::exists(stored_jsonl(file), ec);
}

bool for_each_jsonl_line(const fs::path& file, const std::function<void(std::string&)>& line, std::string& error) {
  const fs::path stored = stored_jsonl(file);
  // zlib reads a plain file as it is (transparent mode), so one reader serves both forms.
  GzHandle in(gzopen(stored.c_str(), "rb"));
  if (!in) {
    error = stored.string() + ": cannot be opened";
    return false;
  }
  gzbuffer(in.get(), 1 << 17);
  std::array<char, 1 << 16> chunk{};
  std::string current;
  for (;;) {
    const int n = gzread(in.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int errnum = 0;
      error = stored.string() + ": " + gzerror(in.get(), &errnum);
      return false;
    }
    if (n == 0) break;
    for (int i = 0; i < n; ++i) {
      const char c = chunk[static_cast<std::size_t>(i)];
      if (c == '\n') {
        line(current);
        current.clear();
      } else {
        current += c;
      }
    }
  }
  if (!current.empty()) line(current);
  return true;
}

bool compress_jsonl(const fs::path& file, std::string& error) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = file.string() + ": cannot be read";
    return false;
  }
  const fs::path target = gz_of(file);
  {
    GzHandle out(gzopen(target.c_str(), "wb6"));
    if (!out) {
      error = target.string() + ": cannot be created";
      return false;
    }
    std::array<char, 1 << 16> chunk{};
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      const auto n = static_cast<unsigned>(in.gcount());
      if (n > 0 && gzwrite(out.get(), chunk.data(), n) != static_cast<int>(n)) {
        int errnum = 0;
        error = target.string() + ": " + gzerror(out.get(), &errnum);
        out.reset();
        std::error_code ec;
        fs::remove(target, ec);
        return false;
      }
    }
    if (gzclose(out.release()) != Z_OK) {
      error = target.string() + ": cannot be completed";
      std::error_code ec;
      fs::remove(target, ec);
      return false;
    }
  }
  std::error_code ec;
  fs::remove(file, ec);
  return true;
}

}  // namespace rrkit::harness
