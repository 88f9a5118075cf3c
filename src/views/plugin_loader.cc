#include "views/plugin_loader.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <set>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "io/file_system.h"
#include "views/monoid.h"
#include "views/time_bucket.h"

namespace braid::views {

namespace {

std::string Hex128(XXH128_hash_t h) {
  char hex[33];
  std::snprintf(hex, sizeof(hex), "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return hex;
}

FieldKind KindOf(avro::ValueKind k) {
  switch (k) {
    case avro::ValueKind::kAbsent:
      return FieldKind::kAbsent;
    case avro::ValueKind::kNull:
      return FieldKind::kNull;
    case avro::ValueKind::kBool:
      return FieldKind::kBool;
    case avro::ValueKind::kLong:
      return FieldKind::kLong;
    case avro::ValueKind::kTimestamp:
      return FieldKind::kTimestamp;
    case avro::ValueKind::kDouble:
      return FieldKind::kDouble;
    case avro::ValueKind::kString:
      return FieldKind::kString;
  }
  return FieldKind::kAbsent;
}

// views::Event as the public braid::ViewEvent.
class EventAdapter final : public ViewEvent {
 public:
  EventAdapter(const Event& e, size_t paths) : e_(e), paths_(paths) {}
  std::string_view topic() const override { return e_.topic; }
  int32_t partition() const override { return e_.partition.value(); }
  int64_t offset() const override { return e_.offset.value(); }
  int64_t timestamp_ms() const override { return e_.timestamp_ms; }
  std::optional<std::string_view> key() const override { return e_.key; }
  std::optional<std::string_view> value() const override { return e_.value; }
  int32_t schema_id() const override { return e_.schema_id; }
  FieldKind kind(size_t i) const override {
    return Has(i) ? KindOf(e_.fields->kind(i)) : FieldKind::kAbsent;
  }
  std::optional<bool> GetBool(size_t i) const override {
    return Has(i) ? e_.fields->GetBool(i) : std::nullopt;
  }
  std::optional<int64_t> GetLong(size_t i) const override {
    return Has(i) ? e_.fields->GetLong(i) : std::nullopt;
  }
  std::optional<double> GetDouble(size_t i) const override {
    return Has(i) ? e_.fields->GetDouble(i) : std::nullopt;
  }
  std::optional<std::string_view> GetString(size_t i) const override {
    return Has(i) ? e_.fields->GetString(i) : std::nullopt;
  }
  std::optional<int64_t> GetTimestampMillis(size_t i) const override {
    return Has(i) ? e_.fields->GetTimestampMillis(i) : std::nullopt;
  }

 private:
  // An index beyond the declared paths reads as absent (never out of bounds).
  bool Has(size_t i) const { return e_.fields != nullptr && i < paths_ && i < e_.fields->size(); }
  const Event& e_;
  size_t paths_;
};

class EmitterAdapter final : public ViewEmitter {
 public:
  EmitterAdapter(const Monoid& monoid, std::vector<views::Emit>* out)
      : monoid_(monoid), out_(out) {}
  void Emit(std::string_view key, int64_t time_ms, const Value& value) override {
    if (failed_) return;
    views::Emit e;
    Status s = monoid_.Lift(value, &e.value);
    if (!s.ok()) {
      Fail(s.message());
      return;
    }
    e.key = std::string(key);
    e.time_ms = time_ms;
    out_->push_back(std::move(e));
  }
  void Fail(std::string_view message) override {
    if (failed_) return;
    failed_ = true;
    message_ = std::string(message);
  }
  bool failed() const { return failed_; }
  const std::string& message() const { return message_; }

 private:
  const Monoid& monoid_;
  std::vector<views::Emit>* out_;
  bool failed_ = false;
  std::string message_;
};

class PluginView final : public ViewDefinition {
 public:
  PluginView(std::shared_ptr<const View> view, ViewSpec spec,
             std::vector<Granularity> granularities, std::shared_ptr<const Monoid> monoid,
             std::string fingerprint)
      : view_(std::move(view)),
        spec_(std::move(spec)),
        granularities_(std::move(granularities)),
        monoid_(std::move(monoid)),
        fingerprint_(std::move(fingerprint)) {}

  const std::string& name() const override { return spec_.name; }
  const std::string& topic() const override { return spec_.topic; }
  const std::vector<Granularity>& granularities() const override { return granularities_; }
  const Monoid& monoid() const override { return *monoid_; }
  const std::vector<std::string>& paths() const override { return spec_.paths; }
  bool needs_avro() const override { return spec_.needs_avro; }
  std::string time_field() const override { return spec_.time_field; }
  std::string description() const override { return "C++ plugin view, version " + spec_.version; }
  std::string Fingerprint() const override { return fingerprint_; }

  Status Map(const Event& event, std::vector<Emit>* out) const override {
    const size_t before = out->size();
    EventAdapter e(event, spec_.paths.size());
    EmitterAdapter emitter(*monoid_, out);
    try {
      view_->Map(e, emitter);
    } catch (const std::exception& ex) {
      emitter.Fail(std::string("Map threw: ") + ex.what());
    } catch (...) {
      emitter.Fail("Map threw an exception");
    }
    if (emitter.failed()) {
      out->resize(before);
      return Status::InvalidArgument(emitter.message());
    }
    return Status::OK();
  }

 private:
  const std::shared_ptr<const View> view_;
  const ViewSpec spec_;
  const std::vector<Granularity> granularities_;
  const std::shared_ptr<const Monoid> monoid_;
  const std::string fingerprint_;
};

class Registrar final : public PluginRegistrar {
 public:
  explicit Registrar(std::string path) : path_(std::move(path)) {}
  std::string_view plugin_path() const override { return path_; }
  void AddView(std::shared_ptr<const View> view) override {
    if (view == nullptr) {
      Fail("AddView: a null view");
      return;
    }
    views_.push_back(std::move(view));
  }
  void AddJob(std::shared_ptr<const mr::Job> job) override {
    if (job == nullptr) {
      Fail("AddJob: a null job");
      return;
    }
    jobs_.push_back(std::move(job));
  }
  void AddTopologySpec(std::shared_ptr<const TopologySpec> topology) override {
    if (topology == nullptr) {
      Fail("AddTopology: a null topology");
      return;
    }
    topologies_.push_back(std::move(topology));
  }
  void Fail(std::string_view message) override {
    if (error_.empty()) error_ = std::string(message);
  }

  const std::string& error() const { return error_; }
  std::vector<std::shared_ptr<const View>> views_;
  std::vector<std::shared_ptr<const mr::Job>> jobs_;
  std::vector<std::shared_ptr<const TopologySpec>> topologies_;

 private:
  std::string path_;
  std::string error_;
};

Status PluginError(const std::string& path, const std::string& why) {
  return Status::InvalidArgument("plugin " + path + ": " + why);
}

}  // namespace

Result<std::shared_ptr<const ViewDefinition>> MakePluginView(std::shared_ptr<const View> view,
                                                             const std::string& origin) {
  ViewSpec spec;
  try {
    spec = view->Spec();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("Spec() threw: ") + e.what());
  } catch (...) {
    return Status::InvalidArgument("Spec() threw an exception");
  }
  const std::string where = "view \"" + spec.name + "\": ";
  if (!ValidViewName(spec.name)) {
    return Status::InvalidArgument("view name \"" + spec.name + "\" is not [A-Za-z0-9_.-]{1,200}");
  }
  if (!ValidTopicName(spec.topic)) {
    return Status::InvalidArgument(where + "topic \"" + spec.topic + "\" is not a topic name");
  }
  if (spec.granularities.empty()) return Status::InvalidArgument(where + "no granularities");
  std::vector<Granularity> granularities;
  std::set<Granularity> seen;
  for (const std::string& g : spec.granularities) {
    Result<Granularity> parsed = ParseGranularity(g);
    if (!parsed.ok()) {
      return Status::InvalidArgument(where + "granularities: unknown granularity \"" + g +
                                     "\" (hour, day, week, month, all)");
    }
    if (!seen.insert(*parsed).second) {
      return Status::InvalidArgument(where + "granularities: \"" + g + "\" given twice");
    }
    granularities.push_back(*parsed);
  }
  Result<std::shared_ptr<const Monoid>> monoid = MakeMonoid(spec.monoid);
  if (!monoid.ok())
    return Status::InvalidArgument(where + "monoid: " + std::string(monoid.status().message()));
  for (const std::string& p : spec.paths) {
    if (p.size() > 4096)
      return Status::InvalidArgument(where + "paths: a path longer than 4096 bytes");
  }
  std::string canonical = "braid plugin view v1\ntopic " + spec.topic + "\nmonoid " +
                          (*monoid)->spec() + "\ngranularities";
  for (Granularity g : granularities) canonical.append(" ").append(GranularityName(g));
  canonical += "\npaths";
  for (const std::string& p : spec.paths) canonical.append(" ").append(p);
  canonical += std::string("\nneeds_avro ") + (spec.needs_avro ? "1" : "0") + "\nversion " +
               spec.version + "\norigin " + origin;
  const std::string fingerprint = Hex128(XXH3_128bits(canonical.data(), canonical.size()));
  return std::shared_ptr<const ViewDefinition>(std::make_shared<PluginView>(
      std::move(view), std::move(spec), std::move(granularities), std::move(*monoid), fingerprint));
}

Result<LoadedPlugin> LoadPlugin(const std::string& path) {
  // dlopen searches the library path for a name without '/': a plugin is a
  // file, so name it relative to the working directory instead.
  const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  Result<std::string> bytes =
      io::ReadFileToString(io::DefaultFileSystem(), file, uint64_t{1} << 31);
  if (!bytes.ok()) return PluginError(path, std::string(bytes.status().message()));
  const std::string file_hash = Hex128(XXH3_128bits(bytes->data(), bytes->size()));
  bytes->clear();
  bytes->shrink_to_fit();

  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return PluginError(path, std::string("cannot load it: ") + (err ? err : "unknown error"));
  }
  auto fail = [&](const std::string& why) {
    dlclose(handle);
    return PluginError(path, why);
  };
  using VersionFn = uint32_t (*)();
  using AbiFn = const char* (*)();
  using RegisterFn = int (*)(PluginRegistrar*);
  auto version_fn = reinterpret_cast<VersionFn>(dlsym(handle, "braid_plugin_abi_version"));
  if (version_fn == nullptr) {
    return fail(
        "not a braid plugin: it has no symbol braid_plugin_abi_version (define the entry points "
        "with BRAID_PLUGIN from braid/plugin.h)");
  }
  const uint32_t version = version_fn();
  if (version != BRAID_PLUGIN_ABI_VERSION) {
    return fail("built for plugin ABI version " + std::to_string(version) +
                ", but this braid loads version " + std::to_string(BRAID_PLUGIN_ABI_VERSION) +
                ": rebuild it against this braid's include/braid headers");
  }
  auto abi_fn = reinterpret_cast<AbiFn>(dlsym(handle, "braid_plugin_cxx_abi"));
  if (abi_fn == nullptr) return fail("it has no symbol braid_plugin_cxx_abi (use BRAID_PLUGIN)");
  const char* abi = abi_fn();
  if (abi == nullptr || std::strcmp(abi, BRAID_PLUGIN_CXX_ABI) != 0) {
    return fail(std::string("built with the C++ library ABI \"") + (abi ? abi : "(null)") +
                "\", but braid uses \"" BRAID_PLUGIN_CXX_ABI
                "\": rebuild it with the same "
                "compiler settings");
  }
  auto register_fn = reinterpret_cast<RegisterFn>(dlsym(handle, "braid_plugin_register"));
  if (register_fn == nullptr)
    return fail("it has no symbol braid_plugin_register (use BRAID_PLUGIN)");

  LoadedPlugin loaded;
  loaded.path = path;
  {
    Registrar registrar(path);
    int rc = 1;
    try {
      rc = register_fn(&registrar);
    } catch (...) {
      registrar.Fail("registration threw an exception");
    }
    std::string error = registrar.error();
    if (error.empty() && rc != 0)
      error = "registration failed (returned " + std::to_string(rc) + ")";
    for (const auto& v : registrar.views_) {
      if (!error.empty()) break;
      Result<std::shared_ptr<const ViewDefinition>> def = MakePluginView(v, "plugin " + file_hash);
      if (!def.ok()) {
        error = std::string(def.status().message());
        break;
      }
      loaded.views.push_back(std::move(*def));
    }
    if (!error.empty()) {
      // Whatever the plugin made is released before its code is unloaded.
      loaded = LoadedPlugin();
      registrar.views_.clear();
      registrar.jobs_.clear();
      registrar.topologies_.clear();
      return fail(error);
    }
    loaded.jobs = std::move(registrar.jobs_);
    loaded.topologies = std::move(registrar.topologies_);
  }
  return loaded;  // the handle stays open for the life of the process
}

}  // namespace braid::views
