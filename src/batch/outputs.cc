#include "batch/outputs.h"

#include <cstdio>

#include "avro/binary.h"
#include "avro/container.h"
#include "avro/field_extractor.h"

namespace braid::batch {
namespace {

std::string PartName(uint32_t part, const char* suffix) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "part-r-%05u%s", part, suffix);
  return buf;
}

// The hidden name a part is written under until Commit().
std::string TempName(uint32_t part, const char* suffix) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), ".part-r-%05u%s.tmp", part, suffix);
  return buf;
}

// Shared part-file bookkeeping: temporary names, commit by rename, abort.
class FileOutputBase : public Output {
 public:
  FileOutputBase(io::FileSystem* fs, std::string dir, const char* suffix)
      : fs_(fs), dir_(std::move(dir)), suffix_(suffix) {}

  Status Commit() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint32_t p : parts_) {
      const std::string name = PartName(p, suffix_);
      RETURN_IF_ERROR(
          fs_->RenameFile(io::JoinPath(dir_, TempName(p, suffix_)), io::JoinPath(dir_, name)));
    }
    ASSIGN_OR_RETURN(auto f,
                     fs_->NewWritableFile(io::JoinPath(dir_, "_SUCCESS"), io::OpenMode::kTruncate));
    RETURN_IF_ERROR(f->Sync());
    RETURN_IF_ERROR(f->Close());
    return fs_->SyncDir(dir_);
  }
  void Abort() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint32_t p : parts_) {
      fs_->DeleteFile(io::JoinPath(dir_, TempName(p, suffix_))).IgnoreError();
    }
  }

 protected:
  // Prepares the directory (first part) and returns the temporary path.
  Result<std::string> TempPath(uint32_t part) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!prepared_) {
      RETURN_IF_ERROR(fs_->CreateDirs(dir_));
      if (fs_->FileExists(io::JoinPath(dir_, "_SUCCESS"))) {
        RETURN_IF_ERROR(fs_->DeleteFile(io::JoinPath(dir_, "_SUCCESS")));
      }
      prepared_ = true;
    }
    parts_.push_back(part);
    return io::JoinPath(dir_, TempName(part, suffix_));
  }

  io::FileSystem* fs_;
  std::string dir_;
  const char* suffix_;
  std::mutex mu_;
  std::vector<uint32_t> parts_;
  bool prepared_ = false;
};

class TextPart final : public OutputPart {
 public:
  explicit TextPart(std::unique_ptr<io::WritableFile> f) : f_(std::move(f)) {}
  Status Write(std::string_view key, std::string_view value) override {
    buf_.append(key);
    buf_.push_back('\t');
    buf_.append(value);
    buf_.push_back('\n');
    if (buf_.size() >= (1 << 20)) {
      RETURN_IF_ERROR(f_->Append(buf_));
      buf_.clear();
    }
    return Status::OK();
  }
  Status Close() override {
    if (!buf_.empty()) RETURN_IF_ERROR(f_->Append(buf_));
    RETURN_IF_ERROR(f_->Sync());
    return f_->Close();
  }

 private:
  std::unique_ptr<io::WritableFile> f_;
  std::string buf_;
};

class TextOutput final : public FileOutputBase {
 public:
  TextOutput(io::FileSystem* fs, std::string dir) : FileOutputBase(fs, std::move(dir), "") {}
  Result<std::unique_ptr<OutputPart>> OpenPart(uint32_t part) override {
    ASSIGN_OR_RETURN(std::string path, TempPath(part));
    ASSIGN_OR_RETURN(auto f, fs_->NewWritableFile(path, io::OpenMode::kTruncate));
    return std::unique_ptr<OutputPart>(std::make_unique<TextPart>(std::move(f)));
  }
};

const avro::Schema& KeyValueSchema() {
  static const avro::Schema* s = new avro::Schema(
      avro::ParseSchema(R"({"type": "record", "name": "KeyValue", "namespace": "braid.mr",
        "fields": [{"name": "key", "type": "bytes"}, {"name": "value", "type": "bytes"}]})")
          .value());
  return *s;
}

class AvroPart final : public OutputPart {
 public:
  AvroPart(std::unique_ptr<avro::ContainerWriter> w, bool key_value,
           std::shared_ptr<const avro::FieldExtractor> check)
      : w_(std::move(w)), key_value_(key_value), check_(std::move(check)) {}
  Status Write(std::string_view key, std::string_view value) override {
    if (key_value_) {
      scratch_.clear();
      avro::Encoder e(&scratch_);
      e.WriteBytes(key);
      e.WriteBytes(value);
      return w_->AppendEncoded(scratch_);
    }
    RETURN_IF_ERROR(check_->Extract(value, &fields_)
                        .WithContext("an output value is not a record of the output schema"));
    return w_->AppendEncoded(value);
  }
  Status Close() override { return w_->Close(); }

 private:
  std::unique_ptr<avro::ContainerWriter> w_;
  bool key_value_;
  std::shared_ptr<const avro::FieldExtractor> check_;
  std::string scratch_;
  avro::ExtractedFields fields_;
};

class AvroOutput final : public FileOutputBase {
 public:
  AvroOutput(io::FileSystem* fs, std::string dir, avro::Schema schema, bool key_value,
             std::shared_ptr<const avro::FieldExtractor> check, std::string codec)
      : FileOutputBase(fs, std::move(dir), ".avro"),
        schema_(std::move(schema)),
        key_value_(key_value),
        check_(std::move(check)),
        codec_(std::move(codec)) {}
  Result<std::unique_ptr<OutputPart>> OpenPart(uint32_t part) override {
    ASSIGN_OR_RETURN(std::string path, TempPath(part));
    avro::WriterOptions wo;
    wo.fs = fs_;
    wo.codec = codec_;
    ASSIGN_OR_RETURN(auto w, avro::ContainerWriter::Create(path, schema_, wo));
    return std::unique_ptr<OutputPart>(
        std::make_unique<AvroPart>(std::move(w), key_value_, check_));
  }

 private:
  avro::Schema schema_;
  bool key_value_;
  std::shared_ptr<const avro::FieldExtractor> check_;
  std::string codec_;
};

}  // namespace

std::unique_ptr<Output> NewTextOutput(io::FileSystem* fs, std::string dir) {
  return std::make_unique<TextOutput>(fs, std::move(dir));
}

Result<std::unique_ptr<Output>> NewAvroOutput(io::FileSystem* fs, std::string dir,
                                              const std::string& schema_json, std::string codec) {
  RETURN_IF_ERROR(avro::ParseCodecName(codec).status());
  if (schema_json.empty()) {
    return std::unique_ptr<Output>(
        std::make_unique<AvroOutput>(fs, std::move(dir), KeyValueSchema(), true, nullptr, codec));
  }
  ASSIGN_OR_RETURN(avro::Schema schema, avro::ParseSchema(schema_json));
  avro::ExtractorOptions eo;
  eo.decode.validate_skipped_blocks = true;  // check every value in full
  ASSIGN_OR_RETURN(auto check, avro::FieldExtractor::Compile(schema, {}, eo));
  return std::unique_ptr<Output>(
      std::make_unique<AvroOutput>(fs, std::move(dir), schema, false, std::move(check), codec));
}

class MemoryOutput::Part final : public OutputPart {
 public:
  explicit Part(std::vector<std::pair<std::string, std::string>>* out) : out_(out) {}
  Status Write(std::string_view key, std::string_view value) override {
    out_->emplace_back(key, value);
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }

 private:
  std::vector<std::pair<std::string, std::string>>* out_;
};

Result<std::unique_ptr<OutputPart>> MemoryOutput::OpenPart(uint32_t part) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& records = parts_[part];
  records.clear();
  return std::unique_ptr<OutputPart>(std::make_unique<Part>(&records));
}

Status MemoryOutput::Commit() {
  std::lock_guard<std::mutex> lock(mu_);
  records_.clear();
  for (auto& [part, records] : parts_) {
    for (auto& kv : records) records_.push_back(std::move(kv));
  }
  parts_.clear();
  return Status::OK();
}

void MemoryOutput::Abort() {
  std::lock_guard<std::mutex> lock(mu_);
  parts_.clear();
}

}  // namespace braid::batch
