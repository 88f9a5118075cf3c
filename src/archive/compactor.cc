#include "archive/compactor.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "archive/layout.h"
#include "avro/container.h"
#include "base/logging.h"

namespace braid::archive {

namespace {

Result<FileEntry> Merge(Dataset* d, const std::string& topic, const std::vector<FileEntry>& in,
                        const ConsolidateOptions& options) {
  const FileEntry& first = in.front();
  const FileEntry& last = in.back();
  const std::string rel_dir = first.path.substr(0, first.path.rfind('/'));
  const std::string name =
      ConsolidatedFileName(first.partition, first.first_offset, last.last_offset);
  const std::string dir = io::JoinPath(d->TopicDir(topic), rel_dir);
  const std::string tmp = io::JoinPath(dir, "." + name + ".tmp");
  const std::string final_path = io::JoinPath(dir, name);
  FileEntry out = first;
  out.path = rel_dir + "/" + name;
  out.runs.clear();
  out.records = 0;
  avro::ReaderOptions ro;
  ro.fs = d->fs();
  std::unique_ptr<avro::ContainerWriter> writer;
  Status s = [&]() -> Status {
    for (const FileEntry& f : in) {
      ASSIGN_OR_RETURN(auto reader,
                       avro::ContainerReader::Open(io::JoinPath(d->TopicDir(topic), f.path), ro));
      if (!writer) {
        avro::WriterOptions wo;
        wo.fs = d->fs();
        wo.codec = options.codec;
        wo.metadata = FileMetadata(topic, f.partition, f.kind, f.schema_id);
        ASSIGN_OR_RETURN(writer, avro::ContainerWriter::Create(tmp, reader->schema(), wo));
      }
      std::string_view rec;
      int64_t n = 0;
      for (;;) {
        ASSIGN_OR_RETURN(bool more, reader->NextRecordBytes(&rec));
        if (!more) break;
        RETURN_IF_ERROR(writer->AppendEncoded(rec));
        ++n;
      }
      if (n != f.records) {
        return Status::Corruption(f.path + ": holds " + std::to_string(n) +
                                  " records, manifest says " + std::to_string(f.records));
      }
      if (!out.runs.empty() && !f.runs.empty() && f.runs.front().first < out.runs.back().end()) {
        return Status::Internal(f.path + ": offsets out of order");
      }
      for (const OffsetRun& r : f.runs) AddToRuns(&out.runs, r.first, r.count);
      out.records += f.records;
      out.min_time = std::min(out.min_time, f.min_time);
      out.max_time = std::max(out.max_time, f.max_time);
    }
    RETURN_IF_ERROR(writer->Close());
    ASSIGN_OR_RETURN(out.bytes, d->fs()->GetFileSize(tmp));
    RETURN_IF_ERROR(d->fs()->RenameFile(tmp, final_path));
    return d->fs()->SyncDir(dir);
  }();
  if (!s.ok()) {
    writer.reset();
    if (d->fs()->FileExists(tmp)) d->fs()->DeleteFile(tmp).IgnoreError();
    return s;
  }
  out.first_offset = out.runs.front().first;
  out.last_offset = Offset(out.runs.back().end().value() - 1);
  return out;
}

}  // namespace

Result<int> ConsolidateTopic(Dataset* dataset, const std::string& topic,
                             const ConsolidateOptions& options, uint64_t* replaced_files) {
  if (replaced_files != nullptr) *replaced_files = 0;
  ASSIGN_OR_RETURN(ManifestLease m, dataset->Snapshot(topic));
  using Key = std::tuple<int32_t, int64_t, int, int32_t, std::string>;
  std::map<Key, std::vector<FileEntry>> groups;
  for (const FileEntry& f : m->files) {
    if (f.kind == FileKind::kDeadLetter) continue;
    const std::string dir = f.path.substr(0, f.path.rfind('/'));
    groups[{f.partition.value(), f.hour, static_cast<int>(f.kind), f.schema_id, dir}].push_back(f);
  }
  m.reset();
  int written = 0;
  for (auto& [key, files] : groups) {
    if (files.size() < options.min_files) continue;
    std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) {
      return a.first_offset < b.first_offset;
    });
    // Greedy prefixes of at most target_bytes.
    size_t i = 0;
    while (i < files.size()) {
      size_t j = i;
      uint64_t bytes = 0;
      while (j < files.size() && (j == i || bytes + files[j].bytes <= options.target_bytes)) {
        bytes += files[j].bytes;
        ++j;
      }
      if (j - i >= options.min_files) {
        std::vector<FileEntry> in(files.begin() + static_cast<ptrdiff_t>(i),
                                  files.begin() + static_cast<ptrdiff_t>(j));
        ASSIGN_OR_RETURN(FileEntry out, Merge(dataset, topic, in, options));
        std::vector<std::string> old;
        for (const FileEntry& f : in) old.push_back(f.path);
        Status s = dataset->Swap(topic, old, out);
        if (!s.ok()) {
          auto listed = dataset->IsListed(topic, out.path);
          if (listed.ok() && !*listed) {
            dataset->fs()
                ->DeleteFile(io::JoinPath(dataset->TopicDir(topic), out.path))
                .IgnoreError();
          }
          return s;
        }
        LOG_INFO("archive: consolidated {} files of {} into {}", in.size(), topic, out.path);
        ++written;
        if (replaced_files != nullptr) *replaced_files += in.size();
      }
      i = j;
    }
  }
  return written;
}

}  // namespace braid::archive
