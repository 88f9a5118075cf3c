#include "registry/validation.h"

#include <gtest/gtest.h>

#include <string>

#include "base/coding.h"
#include "registry/store.h"

namespace braid::registry {
namespace {

std::string Frame(int32_t id, std::string_view avro) {
  std::string out(1, '\0');
  coding::PutBigEndian32(&out, static_cast<uint32_t>(id));
  out += avro;
  return out;
}

// Avro binary of {"name": s, "age": n} for the record below (n small).
std::string UserBytes(std::string_view name, int n) {
  std::string out;
  coding::PutZigZag64(&out, static_cast<int64_t>(name.size()));
  out += name;
  coding::PutZigZag64(&out, n);
  return out;
}

constexpr const char* kUser =
    R"({"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"}]})";

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Registry::Open({}, std::make_unique<MemoryStore>());
    ASSERT_TRUE(r.ok());
    registry_ = std::move(*r);
    auto id = registry_->Register("orders-value", kUser);
    ASSERT_TRUE(id.ok());
    user_id_ = id->value();
    auto key_id = registry_->Register("orders-key", R"("string")");
    ASSERT_TRUE(key_id.ok());
    key_id_ = key_id->value();
    auto other = registry_->Register("other-value", R"("long")");
    ASSERT_TRUE(other.ok());
    other_id_ = other->value();
    validator_ = std::make_unique<RecordValidator>(registry_.get());
  }

  std::unique_ptr<Registry> registry_;
  std::unique_ptr<RecordValidator> validator_;
  int32_t user_id_ = 0, key_id_ = 0, other_id_ = 0;
  ValidationPolicy value_only_{false, true};
};

TEST_F(ValidationTest, PolicyFromConfigs) {
  EXPECT_FALSE(PolicyFromTopicConfigs(std::map<std::string, std::string>{}).enabled());
  std::map<std::string, std::string, std::less<>> configs = {
      {"braid.value.schema.validation", "TRUE"}, {"braid.key.schema.validation", "false"}};
  ValidationPolicy p = PolicyFromTopicConfigs(configs);
  EXPECT_TRUE(p.value);
  EXPECT_FALSE(p.key);
}

TEST_F(ValidationTest, ValidRecordPasses) {
  EXPECT_TRUE(
      validator_
          ->Validate("orders", value_only_, 0, std::nullopt, Frame(user_id_, UserBytes("ann", 42)))
          .ok());
  // Tombstones and unchecked keys pass.
  EXPECT_TRUE(validator_->Validate("orders", value_only_, 0, "garbage", std::nullopt).ok());
  EXPECT_EQ(validator_->cached_decoders(), 1u);
  ValidationPolicy both{true, true};
  std::string key;
  coding::PutZigZag64(&key, 2);
  key += "k1";
  EXPECT_TRUE(
      validator_
          ->Validate("orders", both, 0, Frame(key_id_, key), Frame(user_id_, UserBytes("a", 1)))
          .ok());
  // With validation off nothing is checked.
  EXPECT_TRUE(validator_->Validate("orders", ValidationPolicy{}, 0, "x", "y").ok());
}

TEST_F(ValidationTest, Rejections) {
  auto reason = [&](int index, std::string_view value) {
    Status st = validator_->Validate("orders", value_only_, index, std::nullopt, value);
    EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
    return std::string(st.message());
  };
  EXPECT_EQ(reason(3, "abc"),
            "record 3: value: not Confluent-framed Avro: 3 bytes, the magic byte and schema id "
            "need 5");
  std::string bad_magic = Frame(user_id_, "");
  bad_magic[0] = '\x01';
  EXPECT_NE(reason(0, bad_magic).find("magic byte"), std::string::npos);
  EXPECT_EQ(reason(1, Frame(999, UserBytes("a", 1))), "record 1: value: unknown schema id 999");
  EXPECT_EQ(reason(2, Frame(other_id_, "\x02")),
            "record 2: value: schema id " + std::to_string(other_id_) +
                " is not registered under subject 'orders-value'");
  std::string truncated = UserBytes("ann", 42);
  truncated.pop_back();
  EXPECT_NE(reason(4, Frame(user_id_, truncated)).find("does not decode"), std::string::npos);
  EXPECT_NE(reason(5, Frame(user_id_, UserBytes("ann", 42) + "X")).find("trailing bytes"),
            std::string::npos);
  ValidationPolicy key_only{true, false};
  Status st = validator_->Validate("orders", key_only, 7, "\x00\x00", std::nullopt);
  EXPECT_NE(st.message().find("record 7: key:"), std::string_view::npos) << st.ToString();
}

TEST_F(ValidationTest, SoftDeletedVersionIsRejected) {
  ASSERT_EQ(registry_->HandleTarget("DELETE", "/subjects/orders-value/versions/1").status, 200);
  Status st = validator_->Validate("orders", value_only_, 0, std::nullopt,
                                   Frame(user_id_, UserBytes("ann", 42)));
  EXPECT_NE(st.message().find("not registered under subject"), std::string_view::npos);
}

}  // namespace
}  // namespace braid::registry
