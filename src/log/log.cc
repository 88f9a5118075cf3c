#include "log/log.h"

#include <nlohmann/json.hpp>

#include <random>
#include <string>

#include "base/logging.h"
#include "log/log_internal.h"

namespace braid::log {

namespace {

constexpr std::string_view kMetadataFile = "topics.json";
constexpr uint64_t kMaxMetadataBytes = 64 << 20;

TopicId NewTopicId() {
  std::random_device rd;
  TopicId id;
  for (size_t i = 0; i < id.size(); i += 4) {
    uint32_t v = rd();
    for (size_t j = 0; j < 4; ++j) id[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  id[6] = static_cast<uint8_t>((id[6] & 0x0f) | 0x40);  // UUID v4
  id[8] = static_cast<uint8_t>((id[8] & 0x3f) | 0x80);
  return id;
}

std::string HexId(const TopicId& id) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : id) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

bool ParseHexId(const std::string& s, TopicId* id) {
  if (s.size() != 32) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 16; ++i) {
    int hi = nib(s[2 * i]);
    int lo = nib(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*id)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

}  // namespace

struct Log::Topic {
  TopicInfo info;
  std::vector<std::shared_ptr<Partition>> partitions;
};

Log::Log(std::string dir, std::shared_ptr<PartitionEnv> env)
    : dir_(std::move(dir)), env_(std::move(env)) {}

Log::~Log() { Close().IgnoreError(); }

Result<std::unique_ptr<Log>> Log::Open(const std::string& dir, LogOptions options) {
  auto env = std::make_shared<PartitionEnv>();
  env->fs = options.fs != nullptr ? options.fs : io::DefaultFileSystem();
  env->clock = options.clock != nullptr ? options.clock : SystemClock();
  options.fs = env->fs;
  options.clock = env->clock;
  if (options.index_interval_bytes == 0) options.index_interval_bytes = 1;
  if (options.num_partitions < 1) {
    return Status::InvalidArgument("num.partitions must be >= 1");
  }
  env->options = std::move(options);
  std::unique_ptr<Log> log(new Log(dir, std::move(env)));
  RETURN_IF_ERROR(log->Load().WithContext("opening log " + dir));
  return log;
}

std::string Log::PartitionDir(std::string_view topic, int32_t p) const {
  std::string name(topic);
  name += '-';
  name += std::to_string(p);
  return io::JoinPath(dir_, name);
}

Status Log::Load() {
  io::FileSystem* fs = env_->fs;
  if (!fs->FileExists(dir_)) {
    // Make every new directory's entry durable, innermost last.
    std::vector<std::string> missing;
    for (std::string d = dir_; !d.empty() && d != "/" && d != "." && !fs->FileExists(d);
         d = io::DirName(d)) {
      missing.push_back(d);
    }
    RETURN_IF_ERROR(fs->CreateDirs(dir_));
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      RETURN_IF_ERROR(env_->SyncDir(io::DirName(*it)));
    }
  }
  const std::string meta_path = io::JoinPath(dir_, kMetadataFile);
  if (!fs->FileExists(meta_path)) return SaveMetadataLocked();
  ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs, meta_path, kMaxMetadataBytes));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption(meta_path + ": not valid JSON");
  }
  std::vector<TopicInfo> infos;
  try {
    if (j.value("version", 0) != 1) {
      return Status::Corruption(meta_path + ": unsupported version");
    }
    for (const auto& t : j.at("topics")) {
      TopicInfo info;
      info.name = t.at("name").get<std::string>();
      RETURN_IF_ERROR(ValidateTopicName(info.name).WithContext(meta_path));
      if (!ParseHexId(t.at("id").get<std::string>(), &info.id)) {
        return Status::Corruption(meta_path + ": bad topic id for " + info.name);
      }
      info.partition_count = t.at("partitions").get<int32_t>();
      if (info.partition_count < 1) {
        return Status::Corruption(meta_path + ": bad partition count for " + info.name);
      }
      for (const auto& [k, v] : t.at("configs").items()) {
        info.overrides[k] = v.get<std::string>();
      }
      infos.push_back(std::move(info));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(meta_path + ": " + e.what());
  }
  for (TopicInfo& info : infos) {
    info.config = env_->options.default_topic_config;
    Status s = info.config.Apply(info.overrides);
    if (!s.ok()) {
      LOG_WARN("{}: topic {}: {}; using defaults for it", meta_path, info.name, s.ToString());
      info.config = env_->options.default_topic_config;
    }
    auto topic = std::make_shared<Topic>();
    topic->info = info;
    for (int32_t p = 0; p < info.partition_count; ++p) {
      std::string pdir = PartitionDir(info.name, p);
      ASSIGN_OR_RETURN(std::shared_ptr<Partition> part,
                       Partition::Open(env_, info.name, PartitionId(p), pdir, info.config,
                                       /*create=*/!fs->FileExists(pdir)));
      topic->partitions.push_back(std::move(part));
    }
    topics_[info.name] = std::move(topic);
  }
  return Status::OK();
}

Status Log::SaveMetadataLocked() {
  nlohmann::json topics = nlohmann::json::array();
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [name, t] : topics_) {
      nlohmann::json configs = nlohmann::json::object();
      for (const auto& [k, v] : t->info.overrides) configs[k] = v;
      topics.push_back({{"name", name},
                        {"id", HexId(t->info.id)},
                        {"partitions", t->info.partition_count},
                        {"configs", configs}});
    }
  }
  nlohmann::json j = {{"version", 1}, {"topics", topics}};
  return env_->WriteAtomically(io::JoinPath(dir_, kMetadataFile), j.dump(2) + "\n");
}

Status Log::Close() {
  std::lock_guard<std::mutex> admin(admin_mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  std::vector<std::shared_ptr<Partition>> parts;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [name, t] : topics_) {
      parts.insert(parts.end(), t->partitions.begin(), t->partitions.end());
    }
  }
  // Outside mu_: closing wakes waiters, whose callbacks may call into the log.
  Status first;
  for (auto& p : parts) {
    Status s = p->Close(false);
    if (first.ok() && !s.ok()) first = s;
  }
  env_->syncer.Stop();
  return first;
}

bool SyncThread::Schedule(std::shared_ptr<Partition> p) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return false;
    queue_.push_back(std::move(p));
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  }
  cv_.notify_one();
  return true;
}

void SyncThread::Stop() {
  std::thread t;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
    t = std::move(thread_);
  }
  cv_.notify_one();
  if (!t.joinable()) return;
  if (t.get_id() == std::this_thread::get_id()) {
    t.detach();  // Log::Close from a SyncAsync callback: the loop ends on its own
  } else {
    t.join();
  }
}

void SyncThread::Run() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stopped_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopped
    // One round: every partition queued so far. Appends made while a round
    // runs queue their partitions for the next one.
    std::vector<std::shared_ptr<Partition>> round;
    round.swap(queue_);
    l.unlock();
    for (auto& p : round) p->RunDeferredSync();
    round.clear();
    l.lock();
  }
}

Status Log::ValidateTopicName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("topic name is empty");
  if (name.size() > 249) {
    return Status::InvalidArgument("topic name is longer than 249 characters");
  }
  if (name == "." || name == "..") {
    return Status::InvalidArgument("topic name cannot be '.' or '..'");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("topic name '" + std::string(name) +
                                     "' has a character outside [a-zA-Z0-9._-]");
    }
  }
  return Status::OK();
}

Status Log::ValidateConfigsImpl(const ConfigMap& configs, TopicConfig* out) const {
  TopicConfig c = env_->options.default_topic_config;
  RETURN_IF_ERROR(c.Apply(configs));
  if (out != nullptr) *out = std::move(c);
  return Status::OK();
}

Status Log::ValidateConfigs(const ConfigMap& configs) const {
  return ValidateConfigsImpl(configs, nullptr);
}

Status Log::CreateTopic(std::string_view name, int32_t partitions, const ConfigMap& configs) {
  RETURN_IF_ERROR(ValidateTopicName(name));
  if (partitions == -1) partitions = env_->options.num_partitions;
  if (partitions < 1) {
    return Status::InvalidArgument("partition count must be >= 1, got " +
                                   std::to_string(partitions));
  }
  TopicConfig config;
  RETURN_IF_ERROR(ValidateConfigsImpl(configs, &config));
  std::lock_guard<std::mutex> admin(admin_mu_);
  if (closed_) return Status::FailedPrecondition("log is closed");
  if (HasTopic(name)) return Status::AlreadyExists("topic '" + std::string(name) + "' exists");
  auto topic = std::make_shared<Topic>();
  topic->info.name = std::string(name);
  topic->info.id = NewTopicId();
  topic->info.partition_count = partitions;
  topic->info.config = config;
  topic->info.overrides = configs;
  auto cleanup = [&] {
    for (auto& p : topic->partitions) p->Close(true).IgnoreError();
    for (int32_t p = 0; p < partitions; ++p) {
      env_->fs->DeleteDirRecursive(PartitionDir(name, p)).IgnoreError();
    }
  };
  for (int32_t p = 0; p < partitions; ++p) {
    std::string pdir = PartitionDir(name, p);
    // A leftover directory of an earlier topic of this name must not leak in.
    RETURN_IF_ERROR(env_->fs->DeleteDirRecursive(pdir));
    Result<std::shared_ptr<Partition>> part =
        Partition::Open(env_, topic->info.name, PartitionId(p), pdir, config, /*create=*/true);
    if (!part.ok()) {
      cleanup();
      return part.status();
    }
    topic->partitions.push_back(std::move(part).value());
  }
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    topics_[topic->info.name] = topic;
  }
  Status s = SaveMetadataLocked();
  if (!s.ok()) {
    {
      std::unique_lock<std::shared_mutex> l(mu_);
      topics_.erase(topic->info.name);
    }
    cleanup();
    return s;
  }
  LOG_INFO("created topic {} with {} partitions", name, partitions);
  return Status::OK();
}

Status Log::DeleteTopic(std::string_view name) {
  std::lock_guard<std::mutex> admin(admin_mu_);
  if (closed_) return Status::FailedPrecondition("log is closed");
  std::shared_ptr<Topic> topic;
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return Status::NotFound("unknown topic '" + std::string(name) + "'");
    topic = it->second;
    topics_.erase(it);
  }
  Status s = SaveMetadataLocked();
  if (!s.ok()) {
    std::unique_lock<std::shared_mutex> l(mu_);
    topics_[topic->info.name] = topic;
    return s;
  }
  for (auto& p : topic->partitions) {
    p->Close(true).IgnoreError();
    RETURN_IF_ERROR(env_->fs->DeleteDirRecursive(p->dir()));
  }
  LOG_INFO("deleted topic {}", name);
  return env_->SyncDir(dir_);
}

Status Log::CreatePartitions(std::string_view name, int32_t new_total) {
  std::lock_guard<std::mutex> admin(admin_mu_);
  if (closed_) return Status::FailedPrecondition("log is closed");
  std::shared_ptr<Topic> topic;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return Status::NotFound("unknown topic '" + std::string(name) + "'");
    topic = it->second;
  }
  const int32_t old = topic->info.partition_count;
  if (new_total <= old) {
    return Status::InvalidArgument("topic '" + std::string(name) + "' has " + std::to_string(old) +
                                   " partitions; the new count " + std::to_string(new_total) +
                                   " must be larger");
  }
  std::vector<std::shared_ptr<Partition>> added;
  for (int32_t p = old; p < new_total; ++p) {
    std::string pdir = PartitionDir(name, p);
    Status s = env_->fs->DeleteDirRecursive(pdir);
    Result<std::shared_ptr<Partition>> part =
        s.ok() ? Partition::Open(env_, topic->info.name, PartitionId(p), pdir, topic->info.config,
                                 /*create=*/true)
               : Result<std::shared_ptr<Partition>>(s);
    if (!part.ok()) {
      for (auto& a : added) {
        a->Close(true).IgnoreError();
        env_->fs->DeleteDirRecursive(a->dir()).IgnoreError();
      }
      return part.status();
    }
    added.push_back(std::move(part).value());
  }
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    for (auto& a : added) topic->partitions.push_back(a);
    topic->info.partition_count = new_total;
  }
  Status s = SaveMetadataLocked();
  if (!s.ok()) {
    {
      std::unique_lock<std::shared_mutex> l(mu_);
      topic->partitions.resize(static_cast<size_t>(old));
      topic->info.partition_count = old;
    }
    for (auto& a : added) {
      a->Close(true).IgnoreError();
      env_->fs->DeleteDirRecursive(a->dir()).IgnoreError();
    }
    return s;
  }
  return Status::OK();
}

Status Log::SetTopicConfigs(std::string_view name, const ConfigMap& configs) {
  TopicConfig config;
  RETURN_IF_ERROR(ValidateConfigsImpl(configs, &config));
  std::lock_guard<std::mutex> admin(admin_mu_);
  if (closed_) return Status::FailedPrecondition("log is closed");
  std::shared_ptr<Topic> topic;
  TopicInfo old;
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return Status::NotFound("unknown topic '" + std::string(name) + "'");
    topic = it->second;
    old = topic->info;
    topic->info.overrides = configs;
    topic->info.config = config;
  }
  Status s = SaveMetadataLocked();
  std::unique_lock<std::shared_mutex> l(mu_);
  if (!s.ok()) {
    topic->info = old;
    return s;
  }
  for (auto& p : topic->partitions) p->SetConfig(config);
  return Status::OK();
}

Status Log::UpdateTopicConfigs(std::string_view name, const ConfigMap& set,
                               const std::vector<std::string>& remove) {
  ConfigMap overrides;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return Status::NotFound("unknown topic '" + std::string(name) + "'");
    overrides = it->second->info.overrides;
  }
  for (const std::string& k : remove) overrides.erase(k);
  for (const auto& [k, v] : set) overrides[k] = v;
  // Races with another admin call on the same topic are resolved by the
  // last writer; admin calls come from one broker thread in practice.
  return SetTopicConfigs(name, overrides);
}

std::vector<TopicInfo> Log::ListTopics() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<TopicInfo> out;
  out.reserve(topics_.size());
  for (const auto& [name, t] : topics_) out.push_back(t->info);
  return out;
}

Result<TopicInfo> Log::DescribeTopic(std::string_view name) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return Status::NotFound("unknown topic '" + std::string(name) + "'");
  return it->second->info;
}

bool Log::HasTopic(std::string_view name) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return topics_.find(name) != topics_.end();
}

Result<std::shared_ptr<Partition>> Log::GetPartition(std::string_view topic,
                                                     PartitionId partition) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return Status::NotFound("unknown topic '" + std::string(topic) + "'");
  const auto& parts = it->second->partitions;
  if (partition.value() < 0 || static_cast<size_t>(partition.value()) >= parts.size()) {
    return Status::NotFound("topic '" + std::string(topic) + "' has no partition " +
                            std::to_string(partition.value()));
  }
  return parts[static_cast<size_t>(partition.value())];
}

Status Log::RunMaintenance(int64_t now_ms) {
  std::vector<std::shared_ptr<Partition>> parts;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [name, t] : topics_) {
      parts.insert(parts.end(), t->partitions.begin(), t->partitions.end());
    }
  }
  Status first;
  for (auto& p : parts) {
    Status s = p->RunMaintenance(now_ms);
    if (!s.ok()) {
      LOG_WARN("maintenance of {}: {}", p->dir(), s.ToString());
      if (first.ok()) first = s;
    }
  }
  return first;
}

Status Log::FlushAll() {
  std::vector<std::shared_ptr<Partition>> parts;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [name, t] : topics_) {
      parts.insert(parts.end(), t->partitions.begin(), t->partitions.end());
    }
  }
  Status first;
  for (auto& p : parts) {
    Status s = p->Flush();
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

std::vector<PartitionStats> Log::AllPartitionStats() const {
  std::vector<std::shared_ptr<Partition>> parts;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [name, t] : topics_) {
      parts.insert(parts.end(), t->partitions.begin(), t->partitions.end());
    }
  }
  std::vector<PartitionStats> out;
  out.reserve(parts.size());
  for (auto& p : parts) out.push_back(p->stats());
  return out;
}

LogStats Log::stats() const {
  LogStats st;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    st.topic_count = topics_.size();
  }
  for (const PartitionStats& p : AllPartitionStats()) {
    ++st.partition_count;
    st.size_bytes += p.size_bytes;
  }
  st.fsync_count = fsync_count();
  return st;
}

uint64_t Log::fsync_count() const { return env_->fsyncs.load(); }

const LogOptions& Log::options() const { return env_->options; }

}  // namespace braid::log
