#include "registry/batch_validation.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "base/coding.h"
#include "log/records.h"
#include "registry/store.h"

namespace braid::registry {
namespace {

std::string Framed(int32_t id, int64_t v) {
  std::string out(1, '\0');
  coding::PutBigEndian32(&out, static_cast<uint32_t>(id));
  coding::PutZigZag64(&out, v);
  return out;
}

class BatchValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Registry::Open({}, std::make_unique<MemoryStore>());
    ASSERT_TRUE(r.ok());
    registry_ = std::move(*r);
    auto id = registry_->Register("t-value", R"("long")");
    ASSERT_TRUE(id.ok());
    id_ = id->value();
    validator_ = std::make_unique<RecordValidator>(registry_.get());
  }

  std::string Batch(const std::vector<std::optional<std::string>>& values,
                    log::Compression codec = log::Compression::kNone) {
    log::BatchBuilderOptions o;
    o.compression = codec;
    log::BatchBuilder b(o);
    for (const auto& v : values) {
      std::optional<std::string_view> view;
      if (v) view = *v;
      b.Add(1000, std::nullopt, view);
    }
    auto bytes = b.Build();
    EXPECT_TRUE(bytes.ok());
    return *bytes;
  }

  std::unique_ptr<Registry> registry_;
  std::unique_ptr<RecordValidator> validator_;
  int32_t id_ = 0;
  ValidationPolicy policy_{false, true};
};

TEST_F(BatchValidationTest, GoodBatchPasses) {
  EXPECT_TRUE(ValidateBatch(*validator_, "t", policy_,
                            Batch({Framed(id_, 1), std::nullopt, Framed(id_, -5)}))
                  .ok());
  EXPECT_TRUE(ValidateBatch(*validator_, "t", policy_,
                            Batch({Framed(id_, 1), Framed(id_, 2)}, log::Compression::kZstd))
                  .ok());
}

TEST_F(BatchValidationTest, BadRecordNamesItsIndex) {
  Status st = ValidateBatch(
      *validator_, "t", policy_,
      Batch({Framed(id_, 1), Framed(id_, 2), std::string("plain text")}, log::Compression::kGzip));
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_EQ(st.message().substr(0, 17), "record 2: value: ") << st.ToString();
  // Policy off: anything passes.
  EXPECT_TRUE(
      ValidateBatch(*validator_, "t", ValidationPolicy{}, Batch({std::string("plain text")})).ok());
  // A malformed batch is an error, not a crash.
  EXPECT_FALSE(ValidateBatch(*validator_, "t", policy_, "garbage").ok());
}

TEST_F(BatchValidationTest, ProduceHookReadsTopicConfigs) {
  char tmpl[] = "/tmp/braid_registry_hook_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    auto log = log::Log::Open(dir);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->CreateTopic("t", 1, {{"braid.value.schema.validation", "true"}}).ok());
    ASSERT_TRUE((*log)->CreateTopic("free", 1).ok());
    ProduceBatchValidator hook = MakeProduceValidator(log->get(), validator_.get());
    const std::string good = Batch({Framed(id_, 7)});
    const std::string bad = Batch({std::string("{\"json\": true}")});
    EXPECT_TRUE(hook("t", good).ok());
    Status st = hook("t", bad);
    EXPECT_TRUE(st.IsInvalidArgument());
    EXPECT_NE(st.message().find("record 0: value: not Confluent-framed Avro"),
              std::string_view::npos)
        << st.ToString();
    EXPECT_TRUE(hook("free", bad).ok());
    EXPECT_TRUE(hook("unknown-topic", bad).ok());
    ASSERT_TRUE((*log)->Close().ok());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace braid::registry
