// `braid mr list|run|map|reduce`: the MapReduce engine (src/batch) for raw
// jobs (plugins, include/braid/mapreduce.h) and views, locally or as Hadoop
// Streaming steps.
//
//   braid mr run --job J --plugin P.so (--text F... | --avro F... | --data DIR [--topic T]
//                [--cut latest|P:O,...]) (--output-text DIR | --output-avro DIR)
//   braid mr run --view V --views F.yaml (--avro F... | --data DIR) --output-text DIR
//       the local engine; a view's output is in the streaming cell-line format
//   braid mr map --job J --plugin P.so          stdin lines → KEY TAB VALUE lines
//   braid mr map --view V --views F.yaml [--avro F... | --data DIR | --schema S.avsc]
//       Avro records (container files, the master dataset, or stdin lines in
//       Avro's JSON encoding under --schema) → cell lines
//   braid mr reduce (--job J | --view V) ...    sorted lines → reduced lines
//
// `braid mr map ... | LC_ALL=C sort | braid mr reduce ...` gives what
// `braid mr run` gives (src/batch/streaming.h has the line formats).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "archive/dataset.h"
#include "avro/binary.h"
#include "avro/container.h"
#include "avro/json.h"
#include "batch/api.h"
#include "batch/engine.h"
#include "batch/outputs.h"
#include "batch/progress.h"
#include "batch/streaming.h"
#include "batch/view_job.h"
#include "braid/mapreduce.h"
#include "cli/batch_sources.h"
#include "cli/cli.h"
#include "io/file_system.h"

namespace braid::cli {

namespace {

struct MrOptions {
  ViewSourceFlags sources;
  std::string job, view;
  std::vector<std::string> text, avro;
  std::string data_dir, topic, cut = "latest";
  std::string output_text, output_avro, codec = "deflate";
  std::string spill_dir;
  std::string schema;
  int threads = 2;
  uint64_t memory_mb = 256;
  bool combine = false;
  bool json = false;
  bool quiet = false;
};

int Report(const char* what, const Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "braid mr %s: %s\n", what, s.ToString().c_str());
  return 1;
}

struct Selected {
  std::shared_ptr<const views::Catalog> catalog;
  std::shared_ptr<const mr::Job> job;
  std::shared_ptr<const views::ViewDefinition> view;
};

Result<Selected> Select(const MrOptions& o) {
  if (o.job.empty() == o.view.empty()) return Status::InvalidArgument("give --job or --view");
  Selected s;
  ASSIGN_OR_RETURN(s.catalog, LoadViewSources(o.sources));
  if (!o.view.empty()) {
    s.view = s.catalog->Find(o.view);
    if (s.view == nullptr) return Status::NotFound("no view named " + o.view);
    return s;
  }
  for (const auto& j : s.catalog->jobs()) {
    if (j->name() == o.job) s.job = j;
  }
  if (s.job == nullptr)
    return Status::NotFound("no job named " + o.job + " (load it with --plugin)");
  return s;
}

Result<log::Cut> ParseCut(const std::string& s, archive::Dataset* d, const std::string& topic) {
  log::Cut cut;
  if (s == "latest") {
    ASSIGN_OR_RETURN(archive::ManifestLease m, d->Snapshot(topic));
    for (const auto& [p, st] : m->partitions) cut.offsets[PartitionId(p)] = st.hwm;
    return cut;
  }
  size_t i = 0;
  while (i < s.size()) {
    const size_t comma = s.find(',', i);
    const std::string part =
        s.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    const size_t colon = part.find(':');
    try {
      if (colon == std::string::npos) throw std::invalid_argument("colon");
      cut.offsets[PartitionId(std::stoi(part.substr(0, colon)))] =
          Offset(std::stoll(part.substr(colon + 1)));
    } catch (const std::exception&) {
      return Status::InvalidArgument("--cut: expected latest or PARTITION:OFFSET,...");
    }
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  return cut;
}

Result<std::unique_ptr<archive::Dataset>> OpenDataset(const std::string& data_dir) {
  archive::DatasetOptions d;
  d.root = io::JoinPath(data_dir, "archive");
  d.read_only = true;
  return archive::Dataset::Open(d);
}

// stdin as lines.
batch::LineReader StdinLines() {
  return [](std::string* line) -> Result<bool> {
    line->clear();
    int c;
    bool any = false;
    while ((c = std::getc(stdin)) != EOF) {
      any = true;
      if (c == '\n') return true;
      line->push_back(static_cast<char>(c));
      if (line->size() > (size_t{256} << 20)) return Status::TooLarge("a line above 256 MiB");
    }
    if (std::ferror(stdin)) return Status::IOError("reading stdin");
    return any;
  };
}

batch::Writer Stdout() {
  return [](std::string_view s) -> Status {
    if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) {
      return Status::IOError("writing stdout");
    }
    return Status::OK();
  };
}

Status RunCmd(const MrOptions& o) {
  ASSIGN_OR_RETURN(Selected sel, Select(o));
  std::vector<batch::Input> inputs;
  std::unique_ptr<archive::Dataset> dataset;
  if (!o.text.empty()) inputs.push_back(batch::Input::TextFiles(o.text));
  if (!o.avro.empty()) inputs.push_back(batch::Input::AvroFiles(o.avro));
  if (!o.data_dir.empty()) {
    const std::string topic = !o.topic.empty() ? o.topic : sel.view ? sel.view->topic() : "";
    if (topic.empty()) return Status::InvalidArgument("--data needs --topic");
    ASSIGN_OR_RETURN(dataset, OpenDataset(o.data_dir));
    ASSIGN_OR_RETURN(log::Cut cut, ParseCut(o.cut, dataset.get(), topic));
    inputs.push_back(batch::Input::Dataset(dataset.get(), topic, cut));
  }
  if (inputs.empty()) return Status::InvalidArgument("no input (--text, --avro or --data)");
  io::FileSystem* fs = io::DefaultFileSystem();
  std::unique_ptr<batch::Output> output;
  batch::EngineJob ej;
  std::shared_ptr<batch::ViewJob> vj;
  if (sel.view != nullptr) {
    if (o.output_text.empty()) return Status::InvalidArgument("a view job needs --output-text");
    ASSIGN_OR_RETURN(vj, batch::ViewJob::Create({sel.view}));
    ej = vj->engine_job();
    output = batch::NewCellLinesOutput(batch::NewTextOutput(fs, o.output_text));
  } else {
    ej = batch::FromMrJob(sel.job);
    if (!o.output_text.empty() == !o.output_avro.empty()) {
      return Status::InvalidArgument("give one of --output-text and --output-avro");
    }
    if (!o.output_text.empty()) {
      output = batch::NewTextOutput(fs, o.output_text);
    } else {
      ASSIGN_OR_RETURN(output,
                       batch::NewAvroOutput(fs, o.output_avro, sel.job->output_schema(), o.codec));
    }
  }
  batch::JobOptions jo;
  jo.threads = o.threads;
  jo.memory_budget = o.memory_mb << 20;
  jo.spill_dir = !o.spill_dir.empty()     ? o.spill_dir
                 : !o.output_text.empty() ? io::JoinPath(o.output_text, "_spill")
                                          : io::JoinPath(o.output_avro, "_spill");
  auto progress = std::make_shared<batch::TerminalProgress>(stderr);
  if (!o.quiet) jo.progress = [progress](const batch::JobStatus& s) { progress->Update(s); };
  auto st = batch::RunJob(ej, inputs, output.get(), jo);
  if (o.spill_dir.empty()) fs->DeleteDirRecursive(jo.spill_dir).IgnoreError();
  RETURN_IF_ERROR(st.status());
  if (o.json) {
    std::printf("%s\n", batch::JobStatusJson(*st).c_str());
  } else {
    std::printf("records %llu  output %llu  spilled %s  %.2f s\n",
                static_cast<unsigned long long>(st->records_read),
                static_cast<unsigned long long>(st->output_records),
                batch::FormatBytes(st->spilled_bytes).c_str(), st->elapsed_s);
    for (const auto& [k, v] : st->counters)
      std::printf("  %s %lld\n", k.c_str(), static_cast<long long>(v));
  }
  return Status::OK();
}

// A view's streaming map over container files / the master dataset / stdin.
Status MapViewCmd(const MrOptions& o, const Selected& sel) {
  RETURN_IF_ERROR(batch::CheckStreamingView(*sel.view));
  batch::ViewLineMapper mapper(sel.view);
  const batch::Writer out = Stdout();
  auto map_file = [&](const std::string& path, io::FileSystem* fs, int32_t schema_id,
                      int64_t limit) -> Status {
    avro::ReaderOptions ro;
    ro.fs = fs;
    ASSIGN_OR_RETURN(auto r, avro::ContainerReader::Open(path, ro));
    if (schema_id < 0) {
      if (const std::string* id = r->header().FindMetadata("braid.schema_id")) {
        schema_id = std::atoi(id->c_str());
      }
    }
    std::string_view rec;
    for (int64_t n = 0; limit < 0 || n < limit; ++n) {
      ASSIGN_OR_RETURN(bool more, r->NextRecordBytes(&rec));
      if (!more) break;
      RETURN_IF_ERROR(mapper.MapAvro(rec, r->schema(), schema_id, out)
                          .WithContext(path + ": block at byte offset " +
                                       std::to_string(r->current_block().offset)));
    }
    return Status::OK();
  };
  if (!o.avro.empty() || !o.data_dir.empty()) {
    for (const std::string& f : o.avro)
      RETURN_IF_ERROR(map_file(f, io::DefaultFileSystem(), -1, -1));
    if (!o.data_dir.empty()) {
      ASSIGN_OR_RETURN(auto dataset, OpenDataset(o.data_dir));
      ASSIGN_OR_RETURN(log::Cut cut, ParseCut(o.cut, dataset.get(), sel.view->topic()));
      ASSIGN_OR_RETURN(archive::ReadPlan plan, dataset->Plan(sel.view->topic(), cut));
      for (const auto& pf : plan.files) {
        if (pf.entry.kind != archive::FileKind::kAvro) continue;
        RETURN_IF_ERROR(map_file(pf.path, dataset->fs(), pf.entry.schema_id, pf.records_below_cut));
      }
    }
    return Status::OK();
  }
  if (o.schema.empty()) {
    return Status::InvalidArgument(
        "reading stdin needs --schema FILE.avsc (or give --avro/--data)");
  }
  ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(io::DefaultFileSystem(), o.schema));
  ASSIGN_OR_RETURN(avro::Schema schema, avro::ParseSchema(text));
  const batch::LineReader in = StdinLines();
  std::string line;
  for (uint64_t n = 1;; ++n) {
    ASSIGN_OR_RETURN(bool more, in(&line));
    if (!more) break;
    // Hadoop may pass "RECORD\t" (a key with an empty value).
    while (!line.empty() && (line.back() == '\t' || line.back() == '\r')) line.pop_back();
    if (line.empty()) continue;
    auto datum = avro::DecodeJson(schema, line);
    if (!datum.ok()) return datum.status().WithContext("stdin line " + std::to_string(n));
    ASSIGN_OR_RETURN(std::string body, avro::EncodeBinary(schema, *datum));
    RETURN_IF_ERROR(
        mapper.MapAvro(body, schema, -1, out).WithContext("stdin line " + std::to_string(n)));
  }
  return Status::OK();
}

Status MapCmd(const MrOptions& o) {
  ASSIGN_OR_RETURN(Selected sel, Select(o));
  Status s = sel.view != nullptr ? MapViewCmd(o, sel)
                                 : batch::MapJobLines(*sel.job, StdinLines(), Stdout());
  std::fflush(stdout);
  return s;
}

Status ReduceCmd(const MrOptions& o) {
  ASSIGN_OR_RETURN(Selected sel, Select(o));
  Status s = sel.view != nullptr
                 ? batch::ReduceViewLines(*sel.view, StdinLines(), Stdout(), o.json)
                 : batch::ReduceJobLines(*sel.job, StdinLines(), Stdout(), o.combine);
  std::fflush(stdout);
  return s;
}

Status ListCmd(const MrOptions& o) {
  ASSIGN_OR_RETURN(auto catalog, LoadViewSources(o.sources));
  for (const auto& j : catalog->jobs()) {
    std::printf("job\t%s\t%s\n", j->name().c_str(), j->description().c_str());
  }
  for (const auto& v : catalog->views()) {
    std::printf("view\t%s\ttopic %s, monoid %s\n", v->name().c_str(), v->topic().c_str(),
                v->monoid().spec().c_str());
  }
  return Status::OK();
}

void AddSelectFlags(CLI::App* cmd, MrOptions* o) {
  AddViewSourceFlags(cmd, &o->sources);
  cmd->add_option("--job", o->job, "A raw job registered by a --plugin");
  cmd->add_option("--view", o->view, "A view of a --views file or --plugin");
}

}  // namespace

void AddMrCommands(CLI::App* root, int* exit_code) {
  CLI::App* mr = root->add_subcommand(
      "mr", "MapReduce: run raw jobs and views locally, or as Hadoop Streaming steps");
  mr->require_subcommand(1);
  auto o = std::make_shared<MrOptions>();

  CLI::App* list = mr->add_subcommand("list", "The jobs and views of the given plugins and files");
  AddViewSourceFlags(list, &o->sources);
  list->callback([o, exit_code] { *exit_code = Report("list", ListCmd(*o)); });

  CLI::App* run = mr->add_subcommand("run", "Run a job or view with the local engine");
  AddSelectFlags(run, o.get());
  run->add_option("--text", o->text, "Text input files (one record per line)");
  run->add_option("--avro", o->avro, "Avro container input files");
  run->add_option("--data", o->data_dir, "Read the master dataset of this data directory");
  run->add_option("--topic", o->topic, "With --data: the topic (default: the view's)");
  run->add_option("--cut", o->cut, "With --data: latest or PARTITION:OFFSET,...")
      ->capture_default_str();
  run->add_option("--output-text", o->output_text, "Write text part files into this directory");
  run->add_option("--output-avro", o->output_avro, "Write Avro part files into this directory");
  run->add_option("--codec", o->codec, "Codec of --output-avro")->capture_default_str();
  run->add_option("--spill-dir", o->spill_dir, "Spill files (default: OUTPUT/_spill)");
  run->add_option("--threads", o->threads, "Worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  run->add_option("--memory-mb", o->memory_mb, "Memory budget (MiB)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  run->add_flag("--json", o->json, "Print the job status as JSON");
  run->add_flag("--quiet", o->quiet, "No progress on stderr");
  run->callback([o, exit_code] { *exit_code = Report("run", RunCmd(*o)); });

  CLI::App* map = mr->add_subcommand("map", "Hadoop Streaming mapper: records → lines on stdout");
  AddSelectFlags(map, o.get());
  map->add_option("--avro", o->avro, "View: read these Avro container files instead of stdin");
  map->add_option("--data", o->data_dir, "View: read the master dataset of this data directory");
  map->add_option("--cut", o->cut, "With --data: latest or PARTITION:OFFSET,...")
      ->capture_default_str();
  map->add_option("--schema", o->schema,
                  "View reading stdin: the writer schema of the JSON-encoded records");
  map->callback([o, exit_code] { *exit_code = Report("map", MapCmd(*o)); });

  CLI::App* reduce = mr->add_subcommand("reduce", "Hadoop Streaming reducer: sorted lines → lines");
  AddSelectFlags(reduce, o.get());
  reduce->add_flag("--combine", o->combine, "Job: run its combiner instead of its reducer");
  reduce->add_flag("--json", o->json, "View: print values as JSON (not readable back)");
  reduce->callback([o, exit_code] { *exit_code = Report("reduce", ReduceCmd(*o)); });
}

}  // namespace braid::cli
