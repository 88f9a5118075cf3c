#include "archive/verify.h"

#include "archive/dataset.h"
#include "avro/binary.h"
#include "avro/container.h"

namespace braid::archive {

namespace {

// Checks one file against its entry; returns problems.
void VerifyFile(io::FileSystem* fs, const std::string& topic_dir, const FileEntry& f,
                VerifyReport* report) {
  const std::string path = io::JoinPath(topic_dir, f.path);
  auto problem = [&](const std::string& what) { report->problems.push_back(path + ": " + what); };
  auto size = fs->GetFileSize(path);
  if (!size.ok()) return problem(size.status().ToString());
  if (*size != f.bytes) {
    return problem("size " + std::to_string(*size) + " but manifest says " +
                   std::to_string(f.bytes));
  }
  avro::ReaderOptions ro;
  ro.fs = fs;
  auto reader = avro::ContainerReader::Open(path, ro);
  if (!reader.ok()) return problem(reader.status().ToString());
  const std::string* part = (*reader)->header().FindMetadata("braid.partition");
  if (part == nullptr || *part != std::to_string(f.partition.value())) {
    problem("braid.partition metadata does not match the manifest");
  }
  // Expected offsets, in order, for envelope kinds.
  size_t run = 0;
  int64_t in_run = 0;
  int64_t n = 0;
  std::string_view rec;
  for (;;) {
    auto more = (*reader)->NextRecordBytes(&rec);
    if (!more.ok()) return problem(more.status().ToString());
    if (!*more) break;
    ++n;
    if (f.kind == FileKind::kAvro) continue;
    avro::Decoder d(rec);
    int32_t p = 0;
    int64_t off = 0;
    if (!d.ReadInt(&p).ok() || !d.ReadLong(&off).ok()) return problem("undecodable envelope");
    while (run < f.runs.size() && in_run >= f.runs[run].count) {
      ++run;
      in_run = 0;
    }
    if (run >= f.runs.size() || p != f.partition.value() ||
        off != f.runs[run].first.value() + in_run) {
      return problem("record " + std::to_string(n - 1) + " has partition/offset " +
                     std::to_string(p) + "/" + std::to_string(off) +
                     ", not the one the manifest lists");
    }
    ++in_run;
  }
  if (n != f.records) {
    return problem("holds " + std::to_string(n) + " records, manifest says " +
                   std::to_string(f.records));
  }
  report->records += static_cast<uint64_t>(n);
  report->bytes += *size;
}

}  // namespace

Result<VerifyReport> VerifyDataset(io::FileSystem* fs, const std::string& root) {
  VerifyReport report;
  DatasetOptions o;
  o.fs = fs;
  o.root = root;
  o.read_only = true;
  ASSIGN_OR_RETURN(auto dataset, Dataset::Open(o));
  ASSIGN_OR_RETURN(auto topics, dataset->ListTopics());
  for (const std::string& t : topics) {
    ++report.topics;
    auto m = LoadManifest(fs, root, t);
    if (!m.ok()) {
      report.problems.push_back(m.status().ToString());
      continue;
    }
    for (std::string& p : CheckManifest(*m)) report.problems.push_back(t + ": " + p);
    for (const FileEntry& f : m->files) {
      ++report.files;
      VerifyFile(fs, dataset->TopicDir(t), f, &report);
    }
  }
  return report;
}

}  // namespace braid::archive
