// `braid avro ...`: tools for Avro object container files and schemas.
//
// Every command prints its result to stdout; a runtime error is printed to
// stderr as "braid avro <cmd>: <error>" and the exit code is 1. `compat`
// exits 2 when the schemas are incompatible.
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "avro/codec.h"
#include "avro/compatibility.h"
#include "avro/container.h"
#include "avro/json.h"
#include "avro/schema.h"
#include "cli/cli.h"
#include "io/file_system.h"

namespace braid::cli {
namespace {

using avro::ContainerReader;
using avro::ContainerWriter;

// Buffered stdout; stops quietly when stdout goes away (e.g. `| head`).
class Out {
 public:
  ~Out() { Flush(); }
  void Line(std::string_view s) {
    buf_.append(s);
    buf_.push_back('\n');
    if (buf_.size() >= (1 << 16)) Flush();
  }
  void Flush() {
    if (!buf_.empty() && !broken_) {
      broken_ = std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size();
    }
    buf_.clear();
    if (!broken_) std::fflush(stdout);
  }
  bool broken() const { return broken_; }

 private:
  std::string buf_;
  bool broken_ = false;
};

Result<avro::Schema> LoadSchemaFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text,
                   io::ReadFileToString(io::DefaultFileSystem(), path, uint64_t{64} << 20));
  Result<avro::Schema> schema = avro::ParseSchema(std::string_view(text));
  if (!schema.ok()) return schema.status().WithContext(path);
  return schema;
}

Status Cat(const std::string& path, int64_t limit) {
  ASSIGN_OR_RETURN(auto reader, ContainerReader::Open(path));
  Out out;
  avro::Datum datum;
  std::string json;
  for (int64_t n = 0; limit < 0 || n < limit; ++n) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&datum));
    if (!more) break;
    json.clear();
    RETURN_IF_ERROR(avro::EncodeJson(reader->schema().root(), datum, &json));
    out.Line(json);
    if (out.broken()) break;
  }
  return Status::OK();
}

Status PrintSchema(const std::string& path, bool canonical, bool raw) {
  ASSIGN_OR_RETURN(auto reader, ContainerReader::Open(path));
  Out out;
  if (raw) {
    out.Line(reader->header().schema_json);
  } else if (canonical) {
    out.Line(reader->schema().CanonicalForm());
  } else {
    out.Line(reader->schema().ToJson(/*pretty=*/true));
  }
  return Status::OK();
}

Status Fingerprint(const std::string& path) {
  ASSIGN_OR_RETURN(avro::Schema schema, LoadSchemaFile(path));
  uint64_t fp = schema.Fingerprint64();
  char buf[256];
  Out out;
  out.Line("canonical-form: " + schema.CanonicalForm());
  std::snprintf(buf, sizeof(buf), "crc64-avro-hex: %016" PRIx64, fp);
  out.Line(buf);
  std::snprintf(buf, sizeof(buf), "crc64-avro-decimal: %" PRIu64, fp);
  out.Line(buf);
  std::snprintf(buf, sizeof(buf), "crc64-avro-signed: %" PRId64, static_cast<int64_t>(fp));
  out.Line(buf);
  out.Line("crc64-avro-le-bytes: " + avro::ToHex(schema.Fingerprint64Bytes()));
  out.Line("md5: " + avro::ToHex(schema.FingerprintMd5()));
  out.Line("sha256: " + avro::ToHex(schema.FingerprintSha256()));
  return Status::OK();
}

struct WriteFlags {
  std::string codec = "null";
  int level = avro::kDefaultCompressionLevel;
  size_t block_size = 64000;
};

avro::WriterOptions MakeWriterOptions(const WriteFlags& f) {
  avro::WriterOptions o;
  o.codec = f.codec;
  o.compression_level = f.level;
  o.block_size_bytes = f.block_size;
  return o;
}

Status Convert(const std::string& in, const std::string& out_path, const WriteFlags& flags) {
  ASSIGN_OR_RETURN(auto reader, ContainerReader::Open(in));
  avro::WriterOptions opts = MakeWriterOptions(flags);
  for (const auto& [k, v] : reader->header().metadata) {
    if (!k.starts_with("avro.")) opts.metadata.emplace_back(k, v);
  }
  ASSIGN_OR_RETURN(auto writer, ContainerWriter::Create(out_path, reader->schema(), opts));
  std::string_view record;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader->NextRecordBytes(&record));
    if (!more) break;
    RETURN_IF_ERROR(writer->AppendEncoded(record));
  }
  return writer->Close();
}

Status FromJson(const std::string& schema_path, const std::string& in, const std::string& out_path,
                const WriteFlags& flags) {
  ASSIGN_OR_RETURN(avro::Schema schema, LoadSchemaFile(schema_path));
  std::ifstream file;
  std::istream* input = &std::cin;
  if (in != "-") {
    file.open(in, std::ios::binary);
    if (!file) return Status::NotFound("cannot open " + in);
    input = &file;
  }
  ASSIGN_OR_RETURN(auto writer,
                   ContainerWriter::Create(out_path, schema, MakeWriterOptions(flags)));
  std::string line;
  for (int64_t line_no = 1; std::getline(*input, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Result<avro::Datum> datum = avro::DecodeJson(schema.root(), line);
    if (!datum.ok()) return datum.status().WithContext(in + ":" + std::to_string(line_no));
    RETURN_IF_ERROR(writer->Append(*datum).WithContext(in + ":" + std::to_string(line_no)));
  }
  if (input->bad()) return Status::IOError("error reading " + in);
  return writer->Close();
}

Result<bool> Compat(const std::string& reader_path, const std::string& writer_path) {
  ASSIGN_OR_RETURN(avro::Schema reader, LoadSchemaFile(reader_path));
  ASSIGN_OR_RETURN(avro::Schema writer, LoadSchemaFile(writer_path));
  avro::CompatibilityResult result = avro::CheckReaderWriter(reader, writer);
  Out out;
  out.Line(result.compatible ? "compatible" : "incompatible");
  for (const std::string& m : result.Messages()) out.Line(m);
  return result.compatible;
}

// Runs `fn` (returning Status) and stores the exit code.
template <typename Fn>
void Run(const char* name, int* exit_code, Fn fn) {
  Status s = fn();
  if (!s.ok()) {
    std::fprintf(stderr, "braid avro %s: %s\n", name, s.ToString().c_str());
    *exit_code = 1;
  }
}

void AddWriteFlags(CLI::App* cmd, WriteFlags* f) {
  cmd->add_option("--codec", f->codec,
                  "Block codec: " + std::string(avro::SupportedCodecNames()) +
                      " (lzma is avro-c's raw LZMA2; prefer xz for other readers)")
      ->capture_default_str();
  cmd->add_option("--level", f->level,
                  "Compression level (deflate 0-9, zstandard 1-22, bzip2 1-9, xz/lzma 0-9); "
                  "-1 = the codec's default")
      ->capture_default_str();
  cmd->add_option("--block-size", f->block_size,
                  "Uncompressed bytes of records per block before it is written")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace

void AddAvroCommands(CLI::App* root, int* exit_code) {
  CLI::App* avro = root->add_subcommand(
      "avro",
      "Avro tools: read, write and convert object container files; schema fingerprints "
      "and compatibility");
  avro->require_subcommand(1);

  {
    auto* cmd = avro->add_subcommand(
        "cat", "Print every record of a container file as one JSON line (Avro JSON encoding)");
    auto file = std::make_shared<std::string>();
    auto limit = std::make_shared<int64_t>(-1);
    cmd->add_option("FILE", *file, "Avro object container file")->required();
    cmd->add_option("-n,--limit", *limit, "Print at most this many records (-1: all)")
        ->capture_default_str();
    cmd->callback([=] { Run("cat", exit_code, [&] { return Cat(*file, *limit); }); });
  }
  {
    auto* cmd = avro->add_subcommand("schema", "Print the writer schema of a container file");
    auto file = std::make_shared<std::string>();
    auto canonical = std::make_shared<bool>(false);
    auto raw = std::make_shared<bool>(false);
    cmd->add_option("FILE", *file, "Avro object container file")->required();
    cmd->add_flag("--canonical", *canonical, "Print the Parsing Canonical Form");
    cmd->add_flag("--raw", *raw, "Print the avro.schema header text exactly as stored");
    cmd->callback(
        [=] { Run("schema", exit_code, [&] { return PrintSchema(*file, *canonical, *raw); }); });
  }
  {
    auto* cmd = avro->add_subcommand(
        "fingerprint",
        "Print a schema's Parsing Canonical Form and fingerprints: CRC-64-AVRO (hex, unsigned and "
        "signed decimal, little-endian bytes as in single-object encoding), MD5, SHA-256");
    auto file = std::make_shared<std::string>();
    cmd->add_option("SCHEMA_FILE", *file, "Schema file (.avsc, JSON)")->required();
    cmd->callback([=] { Run("fingerprint", exit_code, [&] { return Fingerprint(*file); }); });
  }
  {
    auto* cmd = avro->add_subcommand(
        "convert",
        "Rewrite a container file with another codec or block size (records, schema "
        "and user metadata unchanged)");
    auto in = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto flags = std::make_shared<WriteFlags>();
    cmd->add_option("IN", *in, "Input container file")->required();
    cmd->add_option("OUT", *out, "Output container file (replaced if it exists)")->required();
    AddWriteFlags(cmd, flags.get());
    cmd->callback([=] { Run("convert", exit_code, [&] { return Convert(*in, *out, *flags); }); });
  }
  {
    auto* cmd = avro->add_subcommand(
        "from-json",
        "Write a container file from JSON lines (one record per line, Avro JSON "
        "encoding: unions as {\"type\": value})");
    auto schema = std::make_shared<std::string>();
    auto in = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto flags = std::make_shared<WriteFlags>();
    cmd->add_option("--schema", *schema, "Schema file (.avsc, JSON)")->required();
    cmd->add_option("IN", *in, "Input JSON lines file (- for stdin)")->required();
    cmd->add_option("OUT", *out, "Output container file (replaced if it exists)")->required();
    AddWriteFlags(cmd, flags.get());
    cmd->callback(
        [=] { Run("from-json", exit_code, [&] { return FromJson(*schema, *in, *out, *flags); }); });
  }
  {
    auto* cmd = avro->add_subcommand(
        "compat",
        "Check whether data written with the writer schema can be read with the reader schema "
        "(Avro's reader/writer compatibility). Prints \"compatible\" and exits 0, or "
        "\"incompatible\" and one line per reason and exits 2");
    auto reader = std::make_shared<std::string>();
    auto writer = std::make_shared<std::string>();
    cmd->add_option("--reader", *reader, "Reader schema file (.avsc)")->required();
    cmd->add_option("--writer", *writer, "Writer schema file (.avsc)")->required();
    cmd->callback([=] {
      Result<bool> ok = Compat(*reader, *writer);
      if (!ok.ok()) {
        std::fprintf(stderr, "braid avro compat: %s\n", ok.status().ToString().c_str());
        *exit_code = 1;
      } else if (!*ok) {
        *exit_code = 2;
      }
    });
  }
}

}  // namespace braid::cli
