// Checked file I/O; see json_io.h.
#include "core/json_io.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace lb {
namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Reads a whole gzip file. zlib reports a stream that ends early (no end-of-stream block or no
// trailer: a cut download or a copy that stopped) not as a read error but as a soft Z_BUF_ERROR
// after gzread returns 0, so the error state is checked after the last read: a truncated file is
// an error, never a shorter text. A file that is not gzip data at all (zlib would pass it through
// as it is) is an error too: a ".gz" name promises compressed data.
std::string read_gzip(const std::string& path) {
  std::error_code ec;
  if (fs::file_size(path, ec) == 0 && !ec)
    throw InputError(path + ": not gzip data (the file is empty); the file is truncated or was never written: "
                     "re-download or re-create it");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open (" + std::strerror(errno) + "); check the path");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof(buf));
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      throw InputError(path + ": corrupt gzip data (" + msg + "); re-download or re-create the file");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int err = Z_OK;
  const std::string msg = gzerror(f, &err);
  const bool direct = gzdirect(f) != 0;
  gzclose(f);
  if (err == Z_BUF_ERROR)
    throw InputError(path + ": truncated gzip stream (the file ends before the end of its compressed data, after " +
                     std::to_string(out.size()) +
                     " bytes of text); the file is incomplete: re-download or re-create it");
  if (err != Z_OK)
    throw InputError(path + ": corrupt gzip data (" + msg + "); re-download or re-create the file");
  if (direct)
    throw InputError(path +
                     ": not gzip data (it does not start with the gzip magic bytes); the file is truncated or was "
                     "never compressed: re-download or re-create it, or drop the .gz from its name if it is plain text");
  return out;
}

}  // namespace

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a folder, expected a file");
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file; check the path");
  if (ends_with(path, ".gz")) return read_gzip(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json parse_json_text(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based; count lines up to it.
    size_t pos = e.byte == 0 ? 0 : std::min(text.size(), static_cast<size_t>(e.byte - 1));
    int64_t line = 1, col = 1;
    for (size_t i = 0; i < pos; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    auto p = what.find("syntax error");
    if (p != std::string::npos) what = what.substr(p);
    throw InputError(source + ":" + std::to_string(line) + ":" + std::to_string(col) +
                     ": invalid JSON (" + what + "); fix the file at that line");
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond a double's range (e.g. 1e999): nlohmann gives the token but no position, so
    // the line is that of the token's first occurrence.
    std::string what = e.what(), where = source;
    const auto q = what.find('\'');
    const auto q2 = q == std::string::npos ? q : what.find('\'', q + 1);
    if (q2 != std::string::npos && q2 > q + 1) {
      const size_t at = text.find(what.substr(q + 1, q2 - q - 1));
      if (at != std::string::npos)
        where += ":" + std::to_string(1 + std::count(text.begin(), text.begin() + at, '\n'));
    }
    auto p = what.find("number overflow");
    if (p != std::string::npos) what = what.substr(p);
    throw InputError(where + ": invalid JSON (" + what + "); write a number within a double's range");
  }
}

nlohmann::json read_json_file(const std::string& path) { return parse_json_text(read_text_file(path), path); }

void for_each_jsonl(const std::string& path,
                    const std::function<void(const nlohmann::json&, int64_t line)>& fn, bool skip_bad,
                    int64_t* skipped) {
  const std::string text = read_text_file(path);
  size_t start = 0;
  int64_t line = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++line;
    std::string row = text.substr(start, end - start);
    if (!row.empty() && row.back() == '\r') row.pop_back();
    bool blank = row.find_first_not_of(" \t") == std::string::npos;
    if (!blank) {
      nlohmann::json j;
      bool ok = true;
      try {
        j = nlohmann::json::parse(row);
      } catch (const nlohmann::json::exception& e) {  // a syntax error or a number overflow (1e999)
        ok = false;
        if (!skip_bad) {
          std::string what = e.what();
          auto p = what.find("syntax error");
          if (p == std::string::npos) p = what.find("number overflow");
          if (p != std::string::npos) what = what.substr(p);
          throw InputError(path + ":" + std::to_string(line) + ": invalid JSON (" + what +
                           "); fix or remove the line, or pass --skip-bad to skip bad records");
        }
      }
      if (ok) {
        if (skip_bad) {
          try {
            fn(j, line);
          } catch (const InputError&) {
            ++*skipped;
          }
        } else {
          fn(j, line);
        }
      } else {
        ++*skipped;
      }
    }
    if (end == text.size()) break;
    start = end + 1;
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
  }
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error(tmp + ": cannot create (" + std::strerror(errno) + "); check permissions and free space");
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error(tmp + ": write failed (" + std::strerror(err) + "); check free space");
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": cannot rename temporary file into place (" + std::strerror(err) + ")");
  }
}

void write_json_atomic(const std::string& path, const nlohmann::json& j, int indent) {
  write_file_atomic(path, j.dump(indent) + "\n");
}

const nlohmann::json& require_field(const nlohmann::json& obj, const char* field, const std::string& where) {
  if (!obj.is_object()) throw InputError(where + ": expected a JSON object, got " + obj.type_name());
  auto it = obj.find(field);
  if (it == obj.end()) throw InputError(where + ": missing field \"" + field + "\"");
  return *it;
}

std::string require_string(const nlohmann::json& obj, const char* field, const std::string& where) {
  const auto& v = require_field(obj, field, where);
  if (!v.is_string())
    throw InputError(where + ": field \"" + field + "\" must be a string, got " + v.type_name());
  return v.get<std::string>();
}

}  // namespace lb
