#include "batch/streaming.h"

#include <charconv>
#include <cstdio>

#include "avro/binary.h"
#include "avro/field_extractor.h"
#include "base/coding.h"
#include "braid/mapreduce.h"
#include "views/cell_key.h"

namespace braid::batch {

std::string EscapeField(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof(buf), "\\x%02x", u);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

Result<std::string> UnescapeField(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\t' || c == '\n') return Status::InvalidArgument("unescaped tab or newline");
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= s.size()) return Status::InvalidArgument("a field ends with '\\'");
    switch (s[i]) {
      case '\\':
        out.push_back('\\');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'x': {
        unsigned v = 0;
        if (i + 2 >= s.size()) return Status::InvalidArgument("truncated \\x escape");
        const auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (ec != std::errc() || end != s.data() + i + 3) {
          return Status::InvalidArgument("bad \\x escape");
        }
        out.push_back(static_cast<char>(v));
        i += 2;
        break;
      }
      default:
        return Status::InvalidArgument(std::string("unknown escape \\") + s[i]);
    }
  }
  return out;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string Base64Encode(std::string_view s) {
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(s[i])} << 16) |
                       (uint32_t{static_cast<uint8_t>(s[i + 1])} << 8) |
                       static_cast<uint8_t>(s[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < s.size()) {
    uint32_t v = uint32_t{static_cast<uint8_t>(s[i])} << 16;
    if (i + 1 < s.size()) v |= uint32_t{static_cast<uint8_t>(s[i + 1])} << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < s.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view s) {
  if (s.size() % 4 != 0) return Status::InvalidArgument("base64: length not a multiple of 4");
  std::string out;
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      if (s[i + j] == '=' && i + 4 == s.size() && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0 || (v[j] = B64Value(s[i + j])) < 0) {
        return Status::InvalidArgument("base64: bad character");
      }
    }
    const uint32_t x =
        (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out.push_back(static_cast<char>(x >> 16));
    if (pad < 2) out.push_back(static_cast<char>(x >> 8));
    if (pad < 1) out.push_back(static_cast<char>(x));
  }
  return out;
}

void AppendCellLine(std::string_view key, views::Granularity g, int64_t bucket_start,
                    std::string_view value, std::string* out) {
  out->append(EscapeField(key));
  out->push_back('\t');
  out->append(views::GranularityName(g));
  out->push_back('\t');
  out->append(std::to_string(bucket_start));
  out->push_back('\t');
  out->append(Base64Encode(value));
  out->push_back('\n');
}

Result<CellLine> ParseCellLine(std::string_view line) {
  std::string_view f[4];
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t tab = i < 3 ? line.find('\t', start) : std::string_view::npos;
    if (i < 3 && tab == std::string_view::npos) {
      return Status::InvalidArgument("expected 4 tab-separated fields");
    }
    f[i] = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    start = tab + 1;
  }
  if (f[3].find('\t') != std::string_view::npos) {
    return Status::InvalidArgument("expected 4 tab-separated fields");
  }
  CellLine c;
  ASSIGN_OR_RETURN(c.key, UnescapeField(f[0]));
  ASSIGN_OR_RETURN(c.granularity, views::ParseGranularity(f[1]));
  const auto [end, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), c.bucket_start);
  if (ec != std::errc() || end != f[2].data() + f[2].size()) {
    return Status::InvalidArgument("bad bucket start \"" + std::string(f[2]) + "\"");
  }
  ASSIGN_OR_RETURN(c.value, Base64Decode(f[3]));
  return c;
}

Status CheckStreamingView(const views::ViewDefinition& view) {
  const views::SessionSpec* session = view.session();
  if (session == nullptr) return Status::OK();
  return Status::InvalidArgument(
      "view " + view.name() + " is sessionised (session by " + session->by + ", gap " +
      views::FormatDuration(session->gap_ms) +
      "): its visits need each view key's events sorted by (person, time) in one reduce, "
      "which the Hadoop Streaming cell lines do not carry; compute it with `braid mr run "
      "--view " +
      view.name() + "` or `braid batch run`");
}

Status ReduceViewLines(const views::ViewDefinition& view, const LineReader& in, const Writer& out,
                       bool json) {
  RETURN_IF_ERROR(CheckStreamingView(view));
  const views::Monoid& monoid = view.monoid();
  std::string line, out_line;
  bool have = false;
  CellLine cur;
  uint64_t n = 0;
  auto flush = [&]() -> Status {
    if (!have) return Status::OK();
    out_line.clear();
    if (json) {
      ASSIGN_OR_RETURN(std::string j, monoid.ToJson(cur.value));
      out_line = EscapeField(cur.key) + "\t" +
                 std::string(views::GranularityName(cur.granularity)) + "\t" +
                 std::to_string(cur.bucket_start) + "\t" + j + "\n";
    } else {
      AppendCellLine(cur.key, cur.granularity, cur.bucket_start, cur.value, &out_line);
    }
    return out(out_line);
  };
  for (;;) {
    ASSIGN_OR_RETURN(bool more, in(&line));
    if (!more) break;
    ++n;
    if (line.empty()) continue;
    auto c = ParseCellLine(line);
    if (!c.ok()) return c.status().WithContext("line " + std::to_string(n));
    if (have && c->key == cur.key && c->granularity == cur.granularity &&
        c->bucket_start == cur.bucket_start) {
      Status s = monoid.Merge(&cur.value, c->value);
      if (!s.ok()) return s.WithContext("line " + std::to_string(n));
      continue;
    }
    RETURN_IF_ERROR(flush());
    cur = std::move(*c);
    have = true;
  }
  return flush();
}

namespace {

// Collects a public Context's output as escaped lines.
class LineContext final : public mr::Context {
 public:
  explicit LineContext(const Writer* out) : out_(out) {}
  void Emit(std::string_view key, std::string_view value) override {
    if (!status_.ok()) return;
    line_ = EscapeField(key);
    line_.push_back('\t');
    line_ += EscapeField(value);
    line_.push_back('\n');
    status_ = (*out_)(line_);
  }
  void Emit(std::string_view key, std::string_view, std::string_view value) override {
    Emit(key, value);
  }
  void Count(std::string_view, int64_t) override {}
  void Fail(std::string_view message) override {
    if (status_.ok()) status_ = Status::Aborted("job failed: " + std::string(message));
  }
  Status status() const { return status_; }

 private:
  const Writer* out_;
  std::string line_;
  Status status_;
};

class LineRecord final : public mr::Record {
 public:
  std::string_view file() const override { return "-"; }
  uint64_t position() const override { return position_; }
  std::string_view data() const override { return data_; }
  bool is_avro() const override { return false; }
  std::string_view topic() const override { return {}; }
  int32_t partition() const override { return -1; }
  int64_t offset() const override { return -1; }
  int32_t schema_id() const override { return -1; }
  bool present(size_t) const override { return false; }
  bool is_null(size_t) const override { return true; }
  std::optional<bool> GetBool(size_t) const override { return std::nullopt; }
  std::optional<int64_t> GetLong(size_t) const override { return std::nullopt; }
  std::optional<double> GetDouble(size_t) const override { return std::nullopt; }
  std::optional<std::string_view> GetString(size_t) const override { return std::nullopt; }
  std::optional<int64_t> GetTimestampMillis(size_t) const override { return std::nullopt; }
  uint64_t position_ = 0;
  std::string_view data_;
};

class VectorValues final : public mr::Values {
 public:
  explicit VectorValues(const std::vector<std::string>* v) : v_(v) {}
  bool Next(std::string_view* value, std::string_view* sort_key) override {
    if (i_ >= v_->size()) return false;
    *value = (*v_)[i_++];
    if (sort_key != nullptr) *sort_key = {};
    return true;
  }

 private:
  const std::vector<std::string>* v_;
  size_t i_ = 0;
};

}  // namespace

Status MapJobLines(const mr::Job& job, const LineReader& in, const Writer& out) {
  std::unique_ptr<mr::Mapper> mapper = job.NewMapper();
  LineContext ctx(&out);
  LineRecord r;
  std::string line;
  uint64_t n = 0;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, in(&line));
    if (!more) break;
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    r.data_ = line;
    r.position_ = n;
    mapper->Map(r, ctx);
    RETURN_IF_ERROR(ctx.status().WithContext("line " + std::to_string(n)));
  }
  mapper->Finish(ctx);
  return ctx.status();
}

Status ReduceJobLines(const mr::Job& job, const LineReader& in, const Writer& out, bool combine) {
  std::unique_ptr<mr::Reducer> reducer = combine ? job.NewCombiner() : job.NewReducer();
  const mr::Merger* merger = combine ? job.merger() : nullptr;
  if (combine && reducer == nullptr && merger == nullptr) {
    return Status::InvalidArgument("job " + job.name() + " has no combiner");
  }
  LineContext ctx(&out);
  std::string line, key;
  std::vector<std::string> values;
  bool have = false;
  uint64_t n = 0;
  auto flush = [&]() -> Status {
    if (!have) return Status::OK();
    if (merger != nullptr) {
      std::string acc = values.front(), error;
      for (size_t i = 1; i < values.size(); ++i) {
        if (!merger->Merge(key, &acc, values[i], &error)) {
          return Status::Aborted("job failed: merge: " + error);
        }
      }
      ctx.Emit(key, acc);
    } else {
      VectorValues v(&values);
      reducer->Reduce(key, v, ctx);
    }
    values.clear();
    return ctx.status();
  };
  for (;;) {
    ASSIGN_OR_RETURN(bool more, in(&line));
    if (!more) break;
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t tab = line.find('\t');
    auto k = UnescapeField(std::string_view(line).substr(0, tab));
    if (!k.ok()) return k.status().WithContext("line " + std::to_string(n));
    std::string value;
    if (tab != std::string::npos) {
      auto v = UnescapeField(std::string_view(line).substr(tab + 1));
      if (!v.ok()) return v.status().WithContext("line " + std::to_string(n));
      value = std::move(*v);
    }
    if (!have || *k != key) {
      RETURN_IF_ERROR(flush().WithContext("line " + std::to_string(n)));
      key = std::move(*k);
      have = true;
    }
    values.push_back(std::move(value));
  }
  RETURN_IF_ERROR(flush());
  if (reducer != nullptr) reducer->Finish(ctx);
  return ctx.status();
}

namespace {

class TransformPart final : public OutputPart {
 public:
  TransformPart(std::unique_ptr<OutputPart> inner, bool cells)
      : inner_(std::move(inner)), cells_(cells) {}
  Status Write(std::string_view key, std::string_view value) override {
    if (!cells_) return inner_->Write(EscapeField(key), EscapeField(value));
    if (key.empty()) return Status::Internal("bad view job key");
    ASSIGN_OR_RETURN(views::CellKey ck, views::DecodeCellKey(key.substr(1)));
    line_.clear();
    AppendCellLine(ck.key, ck.granularity, ck.bucket_start, value, &line_);
    // The text output writes key TAB value NEWLINE: split the line at its
    // last tab (before the value) and drop our newline.
    const size_t tab = line_.rfind('\t');
    return inner_->Write(std::string_view(line_).substr(0, tab),
                         std::string_view(line_).substr(tab + 1, line_.size() - tab - 2));
  }
  Status Close() override { return inner_->Close(); }

 private:
  std::unique_ptr<OutputPart> inner_;
  bool cells_;
  std::string line_;
};

class TransformOutput final : public Output {
 public:
  TransformOutput(std::unique_ptr<Output> inner, bool cells)
      : inner_(std::move(inner)), cells_(cells) {}
  Result<std::unique_ptr<OutputPart>> OpenPart(uint32_t part) override {
    ASSIGN_OR_RETURN(auto p, inner_->OpenPart(part));
    return std::unique_ptr<OutputPart>(std::make_unique<TransformPart>(std::move(p), cells_));
  }
  Status Commit() override { return inner_->Commit(); }
  void Abort() override { inner_->Abort(); }

 private:
  std::unique_ptr<Output> inner_;
  bool cells_;
};

}  // namespace

std::unique_ptr<Output> NewCellLinesOutput(std::unique_ptr<Output> text) {
  return std::make_unique<TransformOutput>(std::move(text), true);
}

std::unique_ptr<Output> NewEscapedLinesOutput(std::unique_ptr<Output> text) {
  return std::make_unique<TransformOutput>(std::move(text), false);
}

ViewLineMapper::ViewLineMapper(std::shared_ptr<const views::ViewDefinition> view)
    : view_(std::move(view)) {
  mapper_ = std::make_unique<views::Mapper>(view_, [this](SchemaId id) -> Result<avro::Schema> {
    auto it = schemas_.find(id.value());
    if (it == schemas_.end()) return Status::NotFound("schema id " + std::to_string(id.value()));
    return it->second;
  });
}
ViewLineMapper::~ViewLineMapper() = default;

Status ViewLineMapper::MapAvro(std::string_view body, const avro::Schema& writer, int32_t schema_id,
                               const Writer& out) {
  RETURN_IF_ERROR(CheckStreamingView(*view_));
  views::RecordRef rec;
  rec.topic = view_->topic();
  emits_.clear();
  Status s;
  if (schema_id >= 0) {
    schemas_.try_emplace(schema_id, writer);
    s = mapper_->MapAvro(rec, SchemaId(schema_id), body, &emits_);
  } else {
    s = mapper_->MapAvro(rec, writer, body, &emits_);
  }
  if (s.code() == StatusCode::kInvalidArgument) {  // the view rejected the event
    ++map_errors_;
    return Status::OK();
  }
  RETURN_IF_ERROR(s);
  for (const views::Emit& e : emits_) {
    line_.clear();
    for (views::Granularity g : view_->granularities()) {
      AppendCellLine(e.key, g, views::BucketStart(g, e.time_ms), e.value, &line_);
    }
    RETURN_IF_ERROR(out(line_));
  }
  return Status::OK();
}

}  // namespace braid::batch
