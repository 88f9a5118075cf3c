#include "kafka/group/offset_store.h"

#include <algorithm>
#include <string_view>

#include "base/logging.h"
#include "kafka/group/legacy_offsets_file.h"
#include "log/records.h"

namespace braid::kafka {
namespace {

// Bytes of records per batch when the store rewrites a partition (well
// below the default max.message.bytes of 1048588).
constexpr size_t kRewriteBatchBytes = 256 * 1024;
// Bytes read per ReadBatches call during replay.
constexpr uint64_t kReplayReadBytes = 4u << 20;

}  // namespace

OffsetStore::OffsetStore(log::Log* log, Clock* clock, OffsetStoreOptions options)
    : log_(log), clock_(clock), options_(std::move(options)) {}

OffsetStore::~OffsetStore() = default;

Result<std::unique_ptr<OffsetStore>> OffsetStore::Open(log::Log* log, Clock* clock,
                                                       OffsetStoreOptions options) {
  std::unique_ptr<OffsetStore> store(new OffsetStore(log, clock, std::move(options)));
  RETURN_IF_ERROR(store->OpenTopic());
  for (int32_t p = 0; p < store->partition_count(); ++p) {
    RETURN_IF_ERROR(store->Replay(PartitionId(p)));
  }
  RETURN_IF_ERROR(store->Migrate());
  if (store->skipped_records_ > 0) {
    LOG_WARN("{}: skipped {} records that are not Kafka offset or group records",
             kConsumerOffsetsTopic, store->skipped_records_);
  }
  return store;
}

Status OffsetStore::OpenTopic() {
  const std::string topic(kConsumerOffsetsTopic);
  if (!log_->HasTopic(topic)) {
    log::ConfigMap configs{{"cleanup.policy", "compact"},
                           {"segment.bytes", std::to_string(options_.segment_bytes)}};
    Status s = log_->CreateTopic(topic, options_.num_partitions, configs);
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
      return s.WithContext("creating " + topic);
    }
    if (s.ok()) {
      LOG_INFO("created {} ({} partitions, cleanup.policy=compact)", topic,
               options_.num_partitions);
    }
  }
  ASSIGN_OR_RETURN(log::TopicInfo info, log_->DescribeTopic(topic));
  if (info.config.deletes()) {
    // A topic of that name created as an ordinary one (older braid
    // auto-created it on a client's Metadata request): time and size
    // retention must never delete offsets.
    LOG_WARN("{}: setting cleanup.policy=compact (was {})", topic, info.config.cleanup_policy);
    RETURN_IF_ERROR(log_->UpdateTopicConfigs(topic, {{"cleanup.policy", "compact"}}, {}));
  }
  partitions_.clear();
  for (int32_t p = 0; p < info.partition_count; ++p) {
    ASSIGN_OR_RETURN(auto partition, log_->GetPartition(topic, PartitionId(p)));
    partitions_.push_back(std::move(partition));
  }
  compacted_size_.assign(partitions_.size(), 0);
  return Status::OK();
}

PartitionId OffsetStore::PartitionFor(const std::string& group) const {
  return OffsetsPartitionFor(group, partition_count());
}

const StoredGroup* OffsetStore::Find(const std::string& group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second;
}

Status OffsetStore::Replay(PartitionId p) {
  const std::shared_ptr<log::Partition>& part = partitions_[Slot(p)];
  Offset next = part->log_start_offset();
  const Offset end = part->high_watermark();
  log::RecordReader reader;
  log::RecordView r;
  while (next < end) {
    auto batches = part->ReadBatches(next, kReplayReadBytes);
    if (!batches.ok()) {
      return batches.status().WithContext(std::string(kConsumerOffsetsTopic) + "-" +
                                          std::to_string(p.value()) + " at offset " +
                                          std::to_string(next.value()));
    }
    if (batches->empty()) break;
    for (const log::StoredBatch& b : *batches) {
      next = b.header.next_offset();
      if (b.header.is_control()) continue;
      RETURN_IF_ERROR(reader.Reset(log::BatchView{b.header, b.bytes}));
      for (;;) {
        ASSIGN_OR_RETURN(bool more, reader.Next(&r));
        if (!more) break;
        if (!r.key) {
          ++skipped_records_;
          continue;
        }
        auto key = DecodeOffsetsTopicKey(*r.key);
        if (!key.ok()) {
          ++skipped_records_;
          continue;
        }
        if (key->kind == OffsetsTopicKey::Kind::kOffsetCommit) {
          if (!r.value) {
            auto it = groups_.find(key->group);
            if (it != groups_.end()) it->second.offsets.erase(key->tp);
            continue;
          }
          auto value = DecodeOffsetCommitValue(*r.value);
          if (!value.ok()) {
            ++skipped_records_;
            continue;
          }
          groups_[key->group].offsets[key->tp] = std::move(*value);
        } else {
          if (!r.value) {
            // Kafka writes a group tombstone when the group is gone; its
            // offsets have tombstones of their own (written before it).
            auto it = groups_.find(key->group);
            if (it != groups_.end()) {
              it->second.metadata.reset();
              if (it->second.offsets.empty()) groups_.erase(it);
            }
            continue;
          }
          auto value = DecodeGroupMetadataValue(*r.value);
          if (!value.ok()) {
            ++skipped_records_;
            continue;
          }
          groups_[key->group].metadata = std::move(*value);
        }
      }
    }
  }
  // Groups whose every record was deleted leave no trace.
  for (auto it = groups_.begin(); it != groups_.end();) {
    it = !it->second.metadata && it->second.offsets.empty() ? groups_.erase(it) : std::next(it);
  }
  return Status::OK();
}

Status OffsetStore::Migrate() {
  if (options_.legacy_dir.empty()) return Status::OK();
  io::FileSystem* fs = options_.legacy_fs != nullptr ? options_.legacy_fs : io::DefaultFileSystem();
  const std::string path = io::JoinPath(options_.legacy_dir, kLegacyOffsetsFileName);
  if (!fs->FileExists(path)) return Status::OK();
  ASSIGN_OR_RETURN(auto legacy, ReadLegacyOffsetsFile(fs, path));
  size_t offsets = 0;
  for (const auto& [group, lg] : legacy) {
    if (!lg.protocol_type.empty()) {
      GroupMetadata md;
      md.protocol_type = lg.protocol_type;
      md.current_state_timestamp_ms =
          lg.empty_since_ms >= 0 ? lg.empty_since_ms : clock_->NowMillis();
      RETURN_IF_ERROR(StoreGroupMetadata(group, md));
    }
    if (!lg.offsets.empty()) {
      std::vector<std::pair<TopicPartition, CommittedOffset>> commits(lg.offsets.begin(),
                                                                      lg.offsets.end());
      RETURN_IF_ERROR(Commit(group, commits));
      offsets += commits.size();
    }
  }
  // Everything is durable in the topic (each write fsynced): retire the file.
  RETURN_IF_ERROR(fs->RenameFile(path, path + ".migrated"));
  RETURN_IF_ERROR(fs->SyncDir(options_.legacy_dir));
  LOG_INFO("migrated {} groups and {} committed offsets from {} into {}", legacy.size(), offsets,
           path, kConsumerOffsetsTopic);
  return Status::OK();
}

Status OffsetStore::Append(PartitionId p, const std::vector<Write>& writes) {
  if (writes.empty()) return Status::OK();
  const std::shared_ptr<log::Partition>& part = partitions_[Slot(p)];
  log::BatchBuilder builder;
  const int64_t now = clock_->NowMillis();
  for (const Write& w : writes) {
    std::optional<std::string_view> value;
    if (w.value) value = std::string_view(*w.value);
    builder.Add(now, std::string_view(w.key), value);
  }
  ASSIGN_OR_RETURN(std::string batch, builder.Build());
  ASSIGN_OR_RETURN(log::AppendResult appended, part->Append(batch));
  if (options_.sync && !appended.flushed) RETURN_IF_ERROR(part->Flush());
  return Status::OK();
}

Status OffsetStore::Commit(const std::string& group,
                           const std::vector<std::pair<TopicPartition, CommittedOffset>>& commits) {
  if (commits.empty()) return Status::OK();
  std::vector<Write> writes;
  writes.reserve(commits.size());
  for (const auto& [tp, c] : commits) {
    writes.push_back({EncodeOffsetCommitKey(group, tp), EncodeOffsetCommitValue(c)});
  }
  const PartitionId p = PartitionFor(group);
  RETURN_IF_ERROR(Append(p, writes));
  StoredGroup& g = groups_[group];
  for (const auto& [tp, c] : commits) {
    CommittedOffset stored = c;
    if (!stored.metadata) stored.metadata = "";  // what a replay gives back
    g.offsets[tp] = std::move(stored);
  }
  return MaybeCompact(p);
}

Status OffsetStore::DeleteOffsets(const std::string& group,
                                  const std::vector<TopicPartition>& partitions) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return Status::OK();
  std::vector<Write> writes;
  for (const auto& tp : partitions) {
    if (it->second.offsets.count(tp) != 0) {
      writes.push_back({EncodeOffsetCommitKey(group, tp), std::nullopt});
    }
  }
  if (writes.empty()) return Status::OK();
  const PartitionId p = PartitionFor(group);
  RETURN_IF_ERROR(Append(p, writes));
  for (const auto& tp : partitions) it->second.offsets.erase(tp);
  if (it->second.offsets.empty() && !it->second.metadata) groups_.erase(it);
  return MaybeCompact(p);
}

Status OffsetStore::DeleteGroup(const std::string& group) {
  auto it = groups_.find(group);
  std::vector<Write> writes;
  if (it != groups_.end()) {
    for (const auto& [tp, c] : it->second.offsets) {
      writes.push_back({EncodeOffsetCommitKey(group, tp), std::nullopt});
    }
  }
  writes.push_back({EncodeGroupMetadataKey(group), std::nullopt});
  const PartitionId p = PartitionFor(group);
  RETURN_IF_ERROR(Append(p, writes));
  if (it != groups_.end()) groups_.erase(it);
  return MaybeCompact(p);
}

Status OffsetStore::StoreGroupMetadata(const std::string& group, const GroupMetadata& metadata) {
  const PartitionId p = PartitionFor(group);
  RETURN_IF_ERROR(Append(p, {{EncodeGroupMetadataKey(group), EncodeGroupMetadataValue(metadata)}}));
  groups_[group].metadata = metadata;
  return MaybeCompact(p);
}

Status OffsetStore::MaybeCompact(PartitionId p) {
  const uint64_t size = partitions_[Slot(p)]->stats().size_bytes;
  const uint64_t threshold = std::max(options_.compact_min_bytes, 2 * compacted_size_[Slot(p)]);
  if (size <= threshold) return Status::OK();
  Status s = Compact(p);
  if (!s.ok()) {
    // The write itself succeeded and is durable; compaction is retried on the
    // next write.
    LOG_WARN("{}-{}: compaction failed: {}", kConsumerOffsetsTopic, p, s.ToString());
  }
  return Status::OK();
}

Status OffsetStore::Compact(PartitionId p) {
  if (p.value() < 0 || p.value() >= partition_count()) {
    return Status::InvalidArgument(std::string(kConsumerOffsetsTopic) + " has no partition " +
                                   std::to_string(p.value()));
  }
  const std::shared_ptr<log::Partition>& part = partitions_[Slot(p)];
  // 1. Start a new segment, so that everything before the image is in sealed
  //    segments that step 4 can delete.
  RETURN_IF_ERROR(part->Roll());
  const Offset image_start = part->log_end_offset();
  // 2. The live image of this partition's groups: metadata, then offsets.
  std::vector<Write> batch;
  size_t batch_bytes = 0;
  size_t records = 0;
  auto add = [&](std::string key, std::string value) -> Status {
    batch_bytes += key.size() + value.size() + 32;
    batch.push_back({std::move(key), std::move(value)});
    ++records;
    if (batch_bytes < kRewriteBatchBytes) return Status::OK();
    Status s = Append(p, batch);
    batch.clear();
    batch_bytes = 0;
    return s;
  };
  for (const auto& [group, g] : groups_) {
    if (PartitionFor(group) != p) continue;
    if (g.metadata) {
      RETURN_IF_ERROR(add(EncodeGroupMetadataKey(group), EncodeGroupMetadataValue(*g.metadata)));
    }
    for (const auto& [tp, c] : g.offsets) {
      RETURN_IF_ERROR(add(EncodeOffsetCommitKey(group, tp), EncodeOffsetCommitValue(c)));
    }
  }
  RETURN_IF_ERROR(Append(p, batch));
  // 3. Durable before anything older goes away (Append fsynced each batch).
  RETURN_IF_ERROR(part->Flush());
  // 4. Everything before the image is superseded by it.
  RETURN_IF_ERROR(part->DeleteRecords(image_start).status());
  compacted_size_[Slot(p)] = part->stats().size_bytes;
  ++compactions_;
  LOG_INFO("{}-{}: compacted to {} records ({} bytes) from offset {}", kConsumerOffsetsTopic, p,
           records, compacted_size_[Slot(p)], image_start.value());
  return Status::OK();
}

}  // namespace braid::kafka
